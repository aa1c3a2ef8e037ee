"""Benchmark of the harness itself: robot + scoring + bookkeeping per click.

The model is ``instant`` (a disk painted per click), so what is timed is everything
iseg-bench does around a model call. Targets: at most 5 ms per click on DAVIS
854x480 samples on a 2-core machine, and ``--workers 2`` at least 1.7x faster than serial.

    python benchmarks/bench_harness.py [--data-root ../shared/datasets] [--samples 345]

Timing covers whole runs (dataset reading, records written and fsync'ed, figures, plots,
worker start-up) divided by the number of clicks. CPU seconds (this process and its
finished workers) are printed next to wall seconds: on a shared machine wall time also
measures the neighbours, CPU time does not.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

from iseg_bench.config import RunConfig
from iseg_bench.execution import execute

REPO = Path(__file__).resolve().parents[1]


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def timed_run(data_root: str, samples: int, workers: int, clicks: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one whole run."""
    config = RunConfig(model="instant", dataset="davis", data_root=data_root, limit=samples,
                       workers=workers, max_interactions=clicks)
    with tempfile.TemporaryDirectory() as tmp:
        t0, c0 = time.perf_counter(), _cpu_seconds()
        execute(config, Path(tmp) / "run", progress=False)
        return time.perf_counter() - t0, _cpu_seconds() - c0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default=str(REPO.parent / "shared" / "datasets"))
    parser.add_argument("--samples", type=int, default=345)
    parser.add_argument("--clicks", type=int, default=20)
    args = parser.parse_args()
    n = args.samples * args.clicks
    serial, serial_cpu = timed_run(args.data_root, args.samples, 1, args.clicks)
    parallel, parallel_cpu = timed_run(args.data_root, args.samples, 2, args.clicks)
    print(f"DAVIS 854x480, {args.samples} samples x {args.clicks} clicks, model 'instant', "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for name, wall, cpu in (("serial", serial, serial_cpu),
                            ("--workers 2", parallel, parallel_cpu)):
        print(f"{name:<12}: {wall:7.2f} s wall = {1000 * wall / n:6.2f} ms per click; "
              f"{cpu:7.2f} s CPU = {1000 * cpu / n:6.2f} ms per click")
    print(f"speed-up    : {serial / parallel:5.2f}x (wall)")


if __name__ == "__main__":
    main()

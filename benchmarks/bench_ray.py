"""Ray executor overhead: the same run with ``--workers 2`` (local worker processes) and with
``--executor ray --workers 2`` (two Ray actors on a local cluster of 2 CPUs), the
``instant`` model (almost free, so the harness and the executor are what is timed).

Both go through ``execution.execute`` as ``iseg-bench run --model instant --dataset davis
--limit N --max-clicks K --workers 2 [--executor ray]`` does; the evaluation's wall-clock
seconds are the summary's ``run_seconds`` (the run folder, config.json and data
fingerprints are outside it; Ray's cluster start is outside it too: the cluster is started
once before, ``ray.init(num_cpus=2)``, as a standing cluster would be). Each setting is run
``--repeats`` times, alternating; the medians are compared. Records of the two executors are
checked to be identical.

Usage:
    python benchmarks/bench_ray.py [--samples 30] [--clicks 20] [--repeats 3]
        [--data-root ../shared/datasets]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

from iseg_bench.config import RunConfig
from iseg_bench.execution import execute


def wall(args: argparse.Namespace, executor: str, out: Path) -> float:
    """One run's evaluation wall-clock seconds."""
    config = RunConfig(model="instant", dataset="davis", data_root=args.data_root,
                       limit=args.samples, max_interactions=args.clicks, workers=2,
                       executor=executor)
    execute(config, out, progress=False)
    seconds: float = json.loads((out / "summary.json").read_text())["run_seconds"][
        "wall_seconds"]
    return seconds


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--samples", type=int, default=30)
    p.add_argument("--clicks", type=int, default=20)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--data-root", default=None)
    args = p.parse_args()
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    root = Path(tempfile.mkdtemp(prefix="bench_ray_"))
    times: dict[str, list[float]] = {"local": [], "ray": []}
    for r in range(args.repeats):
        for executor in times:
            times[executor].append(wall(args, executor, root / f"{executor}{r}"))
    ray.shutdown()
    same = all((root / f"ray{r}" / "records.csv").read_bytes()
               == (root / "local0" / "records.csv").read_bytes() for r in range(args.repeats))
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"instant on DAVIS, {args.samples} samples x {args.clicks} clicks, 2 workers, "
          f"{args.repeats} runs each (median wall-clock seconds of the evaluation)")
    for k, v in times.items():
        print(f"  {k:5s}: {med[k]:.2f} s  (runs: {', '.join(f'{x:.2f}' for x in v)})")
    print(f"  ray / local: {med['ray'] / med['local']:.2f}  (target <= 1.20); "
          f"records identical: {same}")


if __name__ == "__main__":
    main()

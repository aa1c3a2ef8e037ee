"""Lockstep batching benchmark: EMC-Click (MiT-b0 base, random weights) on DAVIS, the
one-sample loop (``--batch-size 1``) against the lockstep loop (``--batch-size B``).

Both runs go through ``execution.execute`` exactly as ``iseg-bench run --model emc-click
--random-init --dataset davis --limit N --max-clicks K --batch-size B`` does. Reported per
run: wall-clock seconds of the evaluation and interactions per second (the summary's
``run_seconds``), and the ratio of the two throughputs. Random weights do not change the
time of a forward pass. The two runs' IoU records are compared too: EMC-Click's template
slots follow the batch's largest click-sign count (docs/models/emc-click.md), so they may
differ slightly.

Usage:
    python benchmarks/bench_lockstep.py [--samples 32] [--clicks 5] [--batch-size 8]
        [--device cpu] [--threads N] [--data-root ../shared/datasets] [--out DIR]
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import warnings
from pathlib import Path

import pandas as pd

from iseg_bench.config import RunConfig
from iseg_bench.execution import execute


def run(args: argparse.Namespace, batch_size: int, out: Path) -> dict[str, float]:
    """One run's wall seconds and interactions per second."""
    config = RunConfig(model="emc-click", dataset="davis", data_root=args.data_root,
                       limit=args.samples, max_interactions=args.clicks,
                       prob_threshold=0.5, batch_size=batch_size,
                       model_options={"random_init": True, "device": args.device,
                                      "dataset": "davis"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        execute(config, out, progress=False)
    summary = json.loads((out / "summary.json").read_text())
    return summary["run_seconds"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--samples", type=int, default=32)
    p.add_argument("--clicks", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--data-root", default=None)
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    root = args.out or Path(tempfile.mkdtemp(prefix="bench_lockstep_"))
    figures = {b: run(args, b, root / f"b{b}") for b in (1, args.batch_size)}
    one, many = figures[1], figures[args.batch_size]
    recs = [pd.read_csv(root / f"b{b}" / "records.csv") for b in (1, args.batch_size)]
    diff = float((recs[0]["iou"] - recs[1]["iou"]).abs().max())
    print(f"EMC-Click-b0 (random weights) on DAVIS, {args.samples} samples x {args.clicks} "
          f"clicks, device {args.device}, {platform.processor() or platform.machine()}")
    for b, f in figures.items():
        print(f"  batch size {b}: {f['wall_seconds']:.1f} s, "
              f"{f['interactions_per_second']:.2f} interactions/s")
    print(f"  throughput ratio B={args.batch_size} / B=1: "
          f"{many['interactions_per_second'] / one['interactions_per_second']:.2f}x")
    print(f"  largest |IoU difference| between the two runs' records: {diff:.2e}")
    print(f"  run folders: {root}")


if __name__ == "__main__":
    main()

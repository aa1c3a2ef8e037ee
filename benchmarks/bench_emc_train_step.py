"""Seconds per EMC-Click training step (``docs/models/emc-click.md``, "Training recipe").

One step = the loss of ``training.emc_click.emc_loss`` with a fixed number r of simulated
rounds (the base network in eval mode, r corrections and r next clicks, then the base
network and one correction with gradients), its backward pass and one Adam step, on a batch
of random images (``--batch`` x 3 x crop) with a centred rectangular object filling the
middle half of each side, random weights (``--variant``, seed 0), ``--threads`` torch threads.
The recipe draws r per batch from P(r) ~ 0.8^r, r < 24 (mean 3.96), so a step costs on
average about the r = 4 figure. Prints wall-clock and process CPU seconds (time.perf_counter,
time.process_time) of every repeat, per r.

    PYTHONPATH=. python benchmarks/bench_emc_train_step.py --variant emc-click --batch 2
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from iseg_bench.models.zoo import build_model
from iseg_bench.training import emc_click as emc


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variant", default="emc-click")
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--crop", type=int, nargs=2, default=(320, 480), metavar=("H", "W"))
    ap.add_argument("--rounds", type=int, nargs="+", default=(0, 4, 23))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    model = build_model(args.variant)
    opt = emc.emc_optimizer(model, emc.EMC_LR.get(args.variant, emc.EMC_RECIPE.lr))
    h, w = args.crop
    image = torch.rand(args.batch, 3, h, w)
    target = np.zeros((args.batch, h, w), bool)
    target[:, h // 4:3 * h // 4, w // 4:3 * w // 4] = True
    ignore = np.zeros_like(target)
    rng = np.random.default_rng(0)
    for rounds in args.rounds:
        wall, cpu = [], []
        for _ in range(args.repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            opt.zero_grad(set_to_none=True)
            emc.emc_loss(model, image, target, ignore, rounds, "cpu", rng, False).backward()
            opt.step()
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        print(f"{args.variant} batch {args.batch} {h}x{w} r={rounds}: wall s "
              f"{[round(t, 2) for t in wall]}, cpu s {[round(t, 2) for t in cpu]}", flush=True)


if __name__ == "__main__":
    main()

"""Cost of SIIS (Lin et al.): parameters and FLOPs next to the paper's (Tab. 2 and 7),
seconds per click, per initial click proposal and per online learning step.

Usage::

    python benchmarks/bench_siis.py [--device cpu|cuda|auto] [--size 384x384] [--clicks 5]
        [--repeats 3] [--learn-repeats 2] [--threads N] [--variant siis] [--json out.json]

* Parameters and FLOPs as in ``bench_models.py`` (FLOPs: 2 per multiply-add; the paper's
  32.364 G is compared with half of ours). First click = backbone + purification + head;
  later clicks reuse the image's backbone features.
* Seconds per click: ``bench_models.seconds_per_click`` (the adapter's ``predict`` at the
  image's own resolution, random weights, medians over `repeats` samples).
* Seconds per proposal: ``propose_click`` with a one-vector click bank on a fresh image
  (backbone included, as in a stream where the proposal comes first).
* Seconds per learning step: one ``learn`` call, i.e. Sec. 3.3's 4 SGD iterations at batch
  8 on 384 x 384 crops (``crop_size``), median over `learn_repeats` calls after one warm-up
  call. The paper's SPB (Tab. 7, 0.098 s per batch on a Titan XP) is a quarter of it.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_models import common_parser, seconds_per_click  # noqa: E402

PAPER = {"params_M": 45.743, "purification_M": 0.697, "gmacs": 32.364}


def _timed(call, device) -> float:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)
    t0 = time.perf_counter()
    call()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - t0


def main(argv=None) -> int:
    ap = common_parser(__doc__)
    ap.add_argument("--learn-repeats", type=int, default=2)
    ap.add_argument("--variant", default="siis")
    args = ap.parse_args(argv)

    import torch

    from iseg_bench.adapters.siis import SIISAdapter
    from iseg_bench.models.flops import click_flops
    from iseg_bench.types import Click

    warnings.filterwarnings("ignore", message=".*random weights.*")
    if args.threads:
        torch.set_num_threads(args.threads)
    adapter = SIISAdapter(device=args.device, random_init=True, variant=args.variant)
    device, model = adapter.device, adapter.model
    hw = tuple(int(v) for v in args.size.lower().split("x"))
    f1, f2 = click_flops(model, hw, device)
    s1, s2 = seconds_per_click(adapter, hw, args.clicks, args.repeats, device)

    rng = np.random.default_rng(0)
    mask = np.zeros(hw, bool)
    mask[hw[0] // 4:3 * hw[0] // 4, hw[1] // 4:3 * hw[1] // 4] = True
    adapter.set_category("bench")
    proposals = []
    for rep in range(args.repeats + 1):
        image = rng.integers(0, 256, (*hw, 3), dtype=np.uint8)
        if rep == 0:
            adapter.set_image(image)
            adapter.predict([Click(hw[0] // 2, hw[1] // 2, True)], np.zeros(hw, np.float32))
            continue
        proposals.append(_timed(lambda im=image: adapter.propose_click(
            im, "bench", np.zeros(hw, bool)), device))
    learns = [_timed(lambda: adapter.learn(rng.integers(0, 256, (*hw, 3), dtype=np.uint8),
                                           "bench", mask, []), device)
              for _ in range(args.learn_repeats + 1)][1:]
    row = dict(variant=args.variant, device=str(device), size=f"{hw[0]}x{hw[1]}",
               params_M=round(sum(p.numel() for p in model.parameters()) / 1e6, 3),
               paper_params_M=PAPER["params_M"],
               purification_M=round(sum(p.numel() for p in model.purification.parameters())
                                    / 1e6, 4),
               paper_purification_M=PAPER["purification_M"],
               gmacs_first=round(f1 / 2e9, 3), paper_gmacs=PAPER["gmacs"],
               gmacs_later=round(f2 / 2e9, 3), s_first_click=round(s1, 4),
               s_later_click=round(s2, 4), s_proposal=round(statistics.median(proposals), 4),
               s_learn_step=round(statistics.median(learns), 3),
               opo=f"{adapter.options.opo_iterations} it x batch {adapter.options.opo_batch} "
                   f"at {adapter.options.crop_size}^2",
               threads=torch.get_num_threads())
    print(json.dumps(row, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(row, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

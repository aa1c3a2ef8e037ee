"""Cost of the full-image model ``ifis`` (Agustsson et al., CVPR 2019): parameters, FLOPs
and seconds per image round at 640 x 480 with 20 regions on the CPU.

* Parameters: all of the model, and split into the ResNet-50 C4 trunk (with its 1 x 1
  reduction) and the mask branch (head + predictor).
* FLOPs: ``torch.utils.flop_counter.FlopCounterMode`` (a multiply-add counts 2 FLOPs) on
  the 20-region synthetic-panoptic image of ``bench_full_image.py`` (seed found there,
  480 x 640): the backbone once per image (``features``), and the mask branch for all 20
  regions (``region_logits``: RoIAlign of features and annotation maps, head), the only part
  that runs again after every round of scribbles.
* Seconds per round: ``bench_full_image.timing`` with ``--timing-models ifis`` (random
  weights; the extreme-point call runs the backbone, a round runs the mask branch, pasting
  and the softmax for 20 regions), median of `repeats`, torch's default CPU threads unless
  ``--threads``.

Usage::

    python benchmarks/bench_ifis.py [--variant ifis] [--repeats 3] [--threads N]
        [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_full_image import timing, twenty_region_image  # noqa: E402


def cost(variant: str) -> dict:
    """Parameters and FLOPs of `variant` on the 20-region image."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from iseg_bench.models.zoo import build_model
    from iseg_bench.robots.extreme_points import ExtremePointsRobot
    from iseg_bench.training.ifis import IFISExample, example_tensors

    _, sample, regions = twenty_region_image()
    model = build_model(variant).eval()
    eps = ExtremePointsRobot().annotate(sample.target, sample.ignore, regions,
                                        np.random.default_rng(0))
    t = example_tensors(IFISExample(sample.image, regions, list(eps),
                                    np.zeros(sample.shape, np.int64)), "cpu")
    with torch.no_grad():
        with FlopCounterMode(display=False) as backbone:
            feats = model.features(t["image"])
        with FlopCounterMode(display=False) as branch:
            model.region_logits(feats, t["boxes"], t["pos"], t["neg"])

    def count(*mods) -> int:
        return sum(p.numel() for m in mods for p in m.parameters())

    return {"variant": variant, "params": count(model),
            "params_backbone": count(model.backbone, model.reduce),
            "params_mask_branch": count(model.head, model.predictor),
            "flops_backbone": backbone.get_total_flops(),
            "flops_mask_branch_20_regions": branch.get_total_flops(),
            "feature_shape": list(feats.shape)}


def main() -> None:
    import torch

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variant", default="ifis")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    report = {"torch_threads": torch.get_num_threads(), **cost(args.variant)}
    print(f"{args.variant}: {report['params'] / 1e6:.2f} M parameters "
          f"(backbone {report['params_backbone'] / 1e6:.2f} M, mask branch "
          f"{report['params_mask_branch'] / 1e6:.2f} M); FLOPs backbone "
          f"{report['flops_backbone'] / 1e9:.1f} G per image, mask branch "
          f"{report['flops_mask_branch_20_regions'] / 1e9:.1f} G per round of 20 regions")
    t0 = time.perf_counter()
    report["timing"] = timing(argparse.Namespace(timing_models="ifis", repeats=args.repeats))
    report["timing_wall_s"] = time.perf_counter() - t0
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

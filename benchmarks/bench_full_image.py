"""Full-image protocol benchmark: the Fig. 5-style curves of the two classical
baselines under both allocation strategies, and the time of one round at 640x480 with 20
regions.

Source of the protocol: Agustsson, Uijlings and Ferrari, CVPR 2019, Sec. 4, Sec. 5.3, Fig. 5.

1. Curves (``--images`` synthetic-panoptic images, ``--size`` H W, ``--rounds`` rounds,
   dataset seed 0, run seed 0): ``random-walker-multi`` (one multi-label walk over all
   regions' annotations) and the composed single-object ``random-walker`` (the paper's
   "single region" baseline), each with ``free`` and ``per-region`` allocation, run through
   ``runner.execute`` exactly as ``iseg-bench run --protocol full-image`` does. Prints each
   curve (round, scribbles per region, mean IoU, things, stuff), the scribbles per region to
   reach 85/88/90 % and writes the four curves on one Fig. 5-style plot.
2. Timing: the first synthetic-panoptic image of size 480x640 (H x W) with exactly 20
   regions (options n_stuff=(4, 4), n_things=(18, 18); the first seed from 0 giving 20
   regions after occlusion). After the extreme points and the model's first prediction,
   one round (``free``: 20 scribbles) is timed ``--repeats`` times (median, wall clock,
   time.perf_counter): the allocator (error regions + importance, then the scribble
   simulation), the model call and the scoring, for both baselines (``--timing-models``:
   any multi-region model; ``ifis`` is timed with random weights on the CPU, which does not
   change the time, and with its backbone features cached from the extreme-point call, so a
   round runs the mask branch only, as in the paper, Sec. 1).

Usage:
    python benchmarks/bench_full_image.py [--images 6] [--size 240 320] [--rounds 10]
        [--repeats 3] [--out /tmp/bench_full_image] [--skip-curves] [--skip-timing]
        [--timing-models random-walker-multi,random-walker]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from iseg_bench.adapters.multi_region import to_region_map  # noqa: E402
from iseg_bench.adapters.single_region import build_multi_region_adapter  # noqa: E402
from iseg_bench.config import RunConfig  # noqa: E402
from iseg_bench.datasets.synthetic_panoptic import SyntheticPanopticDataset  # noqa: E402
from iseg_bench.execution import execute  # noqa: E402
from iseg_bench.protocols.full_image import image_regions  # noqa: E402
from iseg_bench.reports.full_image import curve_frame, fig5_plot  # noqa: E402
from iseg_bench.reports.tables import summary_frame  # noqa: E402
from iseg_bench.robots.extreme_points import ExtremePointsRobot  # noqa: E402
from iseg_bench.robots.full_image_allocator import (  # noqa: E402
    FullImageScribbleAllocator,
    error_regions,
    region_ious,
    simulate_scribble,
)

MODELS = ("random-walker-multi", "random-walker")
TIMING_OPTIONS: dict[str, dict] = {"ifis": {"random_init": True, "device": "cpu"}}
ALLOCATIONS = ("free", "per-region")


def curves(args) -> list[dict]:
    summaries, labels = [], []
    for model in MODELS:
        for allocation in ALLOCATIONS:
            cfg = RunConfig(model=model, dataset="synthetic-panoptic", protocol="full-image",
                            seed=0, dataset_options={"n_samples": args.images,
                                                     "size": list(args.size)},
                            protocol_options={"allocation": allocation,
                                              "rounds": args.rounds})
            t0 = time.perf_counter()
            out = execute(cfg, Path(args.out) / f"{model}_{allocation}", progress=False)
            s = out.summary
            label = f"{model} ({allocation})"
            print(f"\n== {label}: {out.n_ok} images, {s['n_regions']} regions, "
                  f"{time.perf_counter() - t0:.1f} s")
            print(curve_frame(s).round(4).to_string(index=False))
            summaries.append(s)
            labels.append(label)
    print("\n" + summary_frame(summaries, labels).to_string(index=False))
    path = fig5_plot(summaries, labels, Path(args.out) / "fig5_baselines.png")
    print(f"\nplot: {path}")
    return [{"label": lab, "curve": s["curve"], "scribbles_to_reach": s["scribbles_to_reach"]}
            for s, lab in zip(summaries, labels)]


def twenty_region_image():
    for seed in range(100):
        ds = SyntheticPanopticDataset(seed=seed, n_samples=1, size=(480, 640), n_stuff=(4, 4),
                                      n_things=(18, 18), crowd=0.0)
        sample = ds.load(0)
        regions, _ = image_regions(sample)
        if len(regions) == 20:
            return seed, sample, regions
    raise SystemExit("no 20-region image found")


def timing(args) -> dict:
    """Seconds of one round on the 20-region image for each of ``args.timing_models``."""
    seed, sample, regions = twenty_region_image()
    target, ignore = sample.target, sample.ignore
    print(f"\ntiming image: synthetic-panoptic seed {seed}, {sample.shape[1]}x{sample.shape[0]}, "
          f"{len(regions)} regions")
    eps = ExtremePointsRobot().annotate(target, ignore, regions, np.random.default_rng(0))
    alloc = FullImageScribbleAllocator("free")
    result = {"image_seed": seed, "regions": len(regions), "size": list(sample.shape)}
    for model in args.timing_models.split(","):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")          # ifis: random weights, on purpose
            adapter = build_multi_region_adapter(model, **TIMING_OPTIONS.get(model, {}))
        adapter.set_image(sample.image)
        t0 = time.perf_counter()
        pred = to_region_map(adapter.predict(eps, regions, None), regions, sample.shape)
        first = time.perf_counter() - t0
        parts = {"error_regions": [], "scribbles": [], "model": [], "score": [], "round": []}
        for rep in range(args.repeats):
            rng = np.random.default_rng(rep)
            t0 = time.perf_counter()
            errs = error_regions(target, ignore, pred, regions)
            t1 = time.perf_counter()
            scribbles = [simulate_scribble(e, target, ignore, pred, rng)
                         for e in alloc.plan(errs, regions)]
            t2 = time.perf_counter()
            new = to_region_map(adapter.predict(eps + scribbles, regions, pred), regions,
                                sample.shape)
            t3 = time.perf_counter()
            region_ious(target, new, ignore, regions)
            t4 = time.perf_counter()
            if model == "random-walker":   # the composition caches per region: reset it to
                adapter.set_image(sample.image)  # round 0 so every repeat does the same work
                adapter.predict(eps, regions, None)
            for k, v in zip(parts, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t4 - t0)):
                parts[k].append(v)
        med = {k: float(np.median(v)) for k, v in parts.items()}
        print(f"{model}: extreme-point prediction {first:.3f} s; one round (median of "
              f"{args.repeats}): {med['round']:.3f} s = error regions+importance "
              f"{med['error_regions'] * 1e3:.1f} ms + {len(scribbles)} scribbles "
              f"{med['scribbles'] * 1e3:.1f} ms + model {med['model']:.3f} s + scoring "
              f"{med['score'] * 1e3:.1f} ms")
        result[model] = {"extreme_points_prediction_s": first, **med,
                         "scribbles": len(scribbles)}
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=6)
    ap.add_argument("--size", type=int, nargs=2, default=(240, 320), metavar=("H", "W"))
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default="/tmp/bench_full_image")
    ap.add_argument("--skip-curves", action="store_true")
    ap.add_argument("--skip-timing", action="store_true")
    ap.add_argument("--timing-models", default=",".join(MODELS))
    args = ap.parse_args()
    Path(args.out).mkdir(parents=True, exist_ok=True)
    report = {"machine": platform.processor() or platform.machine(),
              "python": platform.python_version()}
    if not args.skip_curves:
        report["curves"] = curves(args)
    if not args.skip_timing:
        report["timing"] = timing(args)
    (Path(args.out) / "bench_full_image.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

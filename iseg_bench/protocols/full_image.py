"""Full-image protocol: extreme points for every region, then rounds of corrective scribbles
allocated over the whole image, scored per region.

Source: Agustsson, Uijlings and Ferrari, "Interactive Full Image Segmentation by Considering
All Regions Jointly", CVPR 2019: Sec. 3.2 (annotations), Sec. 4 (simulated annotator),
Sec. 5.3 and Fig. 5 (the evaluation: mean IoU against corrective scribbles per region).

One unit = one image (a Sample whose target is an (H, W) int32 region-id map, 0 = no region,
with ``meta["regions"] = {id: {"category", "is_thing"}}``). The session:

* round 0: ``ExtremePointsRobot`` gives the four extreme points of every region
  (robots.extreme_points); the model predicts all regions from them;
* rounds 1..``rounds`` (default 10): ``FullImageScribbleAllocator`` (robots.
  full_image_allocator) places this round's scribbles on the current prediction
  (``allocation`` "free", the default, or "per-region"); the model predicts again from the
  whole history.

The regions of an image are the ids of ``meta["regions"]`` (plus any other non-zero id of the
target) that have at least one non-ignored pixel, in increasing id order. After every model
call each region is scored with IoU on non-ignored pixels (``masks.iou``'s definition).

Randomness: every image draws from ``numpy.random.SeedSequence([config.seed,
crc32(sample_id)])``, spawned into one generator for the extreme points and one for the
scribbles, so an image's records do not depend on the other images, the order or the
number of workers.

Records: one row per region per round: sample_id, region, category, is_thing, area (px),
round, iou, scribbles (received by the region so far), scribbles_round (received in this
round), n_regions, image_scribbles (given in the image so far), model_seconds (the round's
model call, the same on every row of the round; the runner keeps it in timings.csv, out of
records.csv) and ``annotation`` (JSON of the extreme
points on round 0, of this round's scribbles of the region on later rounds).

Figures (``summarize``), over all regions of all images (each region weighs the same, as
the paper's "IoU averaged over all instances"):
* ``curve``: per round r, mean IoU and mean scribbles received per region (the Fig. 5 axes),
  also for things and stuff; ``miou_extreme_points`` = the round-0 value;
* ``scribbles_to_reach``: for 85/88/90 % mean IoU (Sec. 5.3 quotes 85 % and 88 %; 90 % is
  the headline) the scribbles per region of the first round whose mean IoU reaches it
  (None if none does), and ``rounds_to_reach`` the round;
* ``miou``: mean IoU after rounds 1..R (so the generic tables show mIoU@k as "after k
  rounds"), ``seconds_per_round``.

Options (``--protocol-opt`` / flags): allocation, rounds, tolerance (extreme points, px),
tries, thickness, budget_per_region, reach_thresholds.
"""

from __future__ import annotations

import json
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from iseg_bench.adapters.multi_region import to_region_map
from iseg_bench.adapters.single_region import build_multi_region_adapter
from iseg_bench.errors import SampleError
from iseg_bench.protocols.base import Protocol, Unit, WorkerContext
from iseg_bench.robots.extreme_points import DEFAULT_TOLERANCE, ExtremePointsRobot
from iseg_bench.robots.full_image_allocator import (
    ALLOCATIONS,
    THICKNESS,
    TRIES,
    FullImageScribbleAllocator,
    region_ious,
)
from iseg_bench.types import Interaction, Sample

DEFAULT_ROUNDS = 10
REACH_THRESHOLDS = (0.85, 0.88, 0.90)  # Sec. 5.3: 85 % and 88 % quoted, 90 % the headline
OPTIONS = ("allocation", "rounds", "tolerance", "tries", "thickness", "budget_per_region",
           "reach_thresholds")


@dataclass
class FullImageRobots:
    """The two simulated annotators of the protocol and the number of rounds."""

    extreme: ExtremePointsRobot
    allocator: FullImageScribbleAllocator
    rounds: int

    def describe(self) -> dict:
        return {"extreme_points": self.extreme.describe(),
                "allocator": self.allocator.describe(), "rounds": self.rounds}


def image_rngs(seed: int, sample_id: str) -> tuple[np.random.Generator, np.random.Generator]:
    """(extreme-point generator, scribble generator) of one image (module docstring)."""
    ss = np.random.SeedSequence([int(seed), zlib.crc32(str(sample_id).encode("utf-8"))])
    a, b = ss.spawn(2)
    return np.random.default_rng(a), np.random.default_rng(b)


def image_regions(sample: Sample) -> tuple[list[int], dict[int, dict[str, Any]]]:
    """(region ids, {id: info}) of a full-image sample (module docstring).

    Raises:
        SampleError: the target is not an integer region-id map, or no region is left.
    """
    target = sample.target
    if target.dtype == bool or not np.issubdtype(target.dtype, np.integer):
        raise SampleError(f"sample {sample.sample_id}: the full-image protocol needs an "
                          f"(H, W) integer region-id map, got {target.dtype}; use a "
                          "full-image dataset (synthetic-panoptic, coco-panoptic-full, "
                          "ade20k-panoptic-full)")
    info = {int(k): dict(v) for k, v in (sample.meta.get("regions") or {}).items()}
    present = np.unique(target[~sample.ignore])
    ids = sorted(int(r) for r in present if r != 0)
    if not ids:
        raise SampleError(f"sample {sample.sample_id}: no region outside the ignore mask")
    return ids, {r: info.get(r, {"category": None, "is_thing": None}) for r in ids}


def _annotation_json(items: Sequence[Interaction]) -> str:
    return json.dumps([i.to_json() for i in items])


def _predict(adapter, history, regions, prev, shape) -> tuple[np.ndarray, float]:
    t0 = time.perf_counter()
    raw = adapter.predict(list(history), list(regions), prev)
    seconds = time.perf_counter() - t0
    return to_region_map(raw, regions, shape), seconds


def run_full_image(sample: Sample, ctx: WorkerContext) -> list[dict[str, Any]]:
    """Run one image's whole session; return its records (one per region per round)."""
    robots: FullImageRobots = ctx.robot
    regions, info = image_regions(sample)
    target, ignore, shape = sample.target, sample.ignore, sample.shape
    rng_points, rng_scribbles = image_rngs(ctx.config.seed, sample.sample_id)
    areas = {r: int(np.count_nonzero((target == r) & ~ignore)) for r in regions}
    ctx.adapter.set_image(sample.image)
    history: list[Interaction] = robots.extreme.annotate(target, ignore, regions, rng_points)
    pred, seconds = _predict(ctx.adapter, history, regions, None, shape)
    received = {r: 0 for r in regions}
    rows: list[dict[str, Any]] = []

    def score(rnd: int, given: dict[int, list[Interaction]]) -> None:
        ious = region_ious(target, pred, ignore, regions)
        total = sum(received.values())
        for r, v in zip(regions, ious):
            rows.append({"sample_id": sample.sample_id, "region": r,
                         "category": info[r].get("category"),
                         "is_thing": info[r].get("is_thing"), "area": areas[r],
                         "round": rnd, "iou": float(v), "scribbles": received[r],
                         "scribbles_round": len(given.get(r, [])) if rnd else 0,
                         "n_regions": len(regions), "image_scribbles": total,
                         "model_seconds": seconds,
                         "annotation": _annotation_json(given.get(r, []))})

    score(0, {e.region: [e] for e in history})
    for rnd in range(1, robots.rounds + 1):
        scribbles = robots.allocator.allocate(target, ignore, pred, regions, rng_scribbles)
        given: dict[int, list[Interaction]] = {}
        for s in scribbles:
            given.setdefault(int(s.region), []).append(s)
            received[int(s.region)] += 1
        history.extend(scribbles)
        pred, seconds = _predict(ctx.adapter, history, regions, pred, shape)
        score(rnd, given)
    return rows


def _first_reach(values: Sequence[float], t: float) -> int | None:
    hit = [i for i, v in enumerate(values) if v >= t]
    return hit[0] if hit else None


def curve_summary(records: pd.DataFrame, thresholds: Sequence[float]) -> dict[str, Any]:
    """The Fig. 5 curve of a set of region rows (see the module docstring)."""
    by_round = records.groupby("round")
    miou = by_round["iou"].mean()
    spr = by_round["scribbles"].mean()
    rounds = [int(r) for r in miou.index]
    out: dict[str, Any] = {
        "n_regions": int((records["round"] == rounds[0]).sum()),
        "curve": {"round": rounds, "scribbles_per_region": [float(v) for v in spr],
                  "miou": [float(v) for v in miou]},
        "miou_extreme_points": float(miou.iloc[0]),
        "miou": [float(v) for v in miou.iloc[1:]]}
    reach = {f"{t:.2f}": _first_reach(out["curve"]["miou"], t) for t in thresholds}
    out["rounds_to_reach"] = {k: (None if i is None else rounds[i]) for k, i in reach.items()}
    out["scribbles_to_reach"] = {k: (None if i is None else float(spr.iloc[i]))
                                 for k, i in reach.items()}
    return out


class FullImageProtocol(Protocol):
    """All regions of an image at once (Agustsson et al. 2019); one unit per image."""

    name = "full-image"
    unit_name = "image"

    def __init__(self, config):
        super().__init__(config)
        opts = dict(config.protocol_options)
        unknown = sorted(set(opts) - set(OPTIONS))
        if unknown:
            raise ValueError(f"full-image: unknown protocol option(s) {', '.join(unknown)}; "
                             f"allowed: {', '.join(OPTIONS)}")
        self.allocation = opts.get("allocation", "free")
        if self.allocation not in ALLOCATIONS:
            raise ValueError(f"full-image: allocation must be one of {ALLOCATIONS}, got "
                             f"{self.allocation!r}")
        self.rounds = int(opts.get("rounds", DEFAULT_ROUNDS))
        self.tolerance = int(opts.get("tolerance", DEFAULT_TOLERANCE))
        self.tries = int(opts.get("tries", TRIES))
        self.thickness = int(opts.get("thickness", THICKNESS))
        self.budget_per_region = float(opts.get("budget_per_region", 1.0))
        self.reach_thresholds = tuple(float(t) for t in
                                      opts.get("reach_thresholds", REACH_THRESHOLDS))
        if self.rounds < 0:
            raise ValueError("full-image: rounds must be >= 0")

    def build_context(self, dataset) -> WorkerContext:
        """The multi-region model (a single-object model is composed, see
        adapters.multi_region) and the two robots; ``config.robot`` is not used."""
        cfg = self.config
        return WorkerContext(cfg, dataset,
                             build_multi_region_adapter(cfg.model, **dict(cfg.model_options)),
                             self._robots())

    def _robots(self) -> FullImageRobots:
        return FullImageRobots(
            ExtremePointsRobot(self.tolerance),
            FullImageScribbleAllocator(self.allocation, self.tries, self.thickness,
                                       self.budget_per_region),
            self.rounds)

    def evaluate(self, unit: Unit, ctx: WorkerContext) -> list[dict[str, Any]]:
        (index,) = unit.indices
        return run_full_image(ctx.dataset.load(index), ctx)

    def summarize(self, records: pd.DataFrame) -> dict[str, Any]:
        out = curve_summary(records, self.reach_thresholds)
        out.update(n_samples=int(records["sample_id"].nunique()), interaction="scribble",
                   allocation=self.allocation, rounds=self.rounds,
                   reach_thresholds=list(self.reach_thresholds),
                   robots=self._robots().describe())
        per_image = records.drop_duplicates(["sample_id", "round"])
        if "model_seconds" in per_image:   # absent when records come without timings.csv
            first = per_image["round"] == 0
            out["seconds_per_round"] = {
                "extreme_points": float(per_image.loc[first, "model_seconds"].mean()),
                "scribbles": (float(per_image.loc[~first, "model_seconds"].mean())
                              if (~first).any() else None)}
        out["scribbles_given"] = int(per_image.groupby("sample_id")["image_scribbles"].max()
                                     .sum())
        splits = {}
        if "is_thing" in records and records["is_thing"].notna().any():
            for key, name in ((True, "thing"), (False, "stuff")):
                part = records[records["is_thing"] == key]
                if len(part):
                    splits[name] = curve_summary(part, self.reach_thresholds)
        if splits:
            out["splits"] = splits
            for name, figs in splits.items():
                out["curve"][f"miou_{name}"] = figs["curve"]["miou"]
                out["curve"][f"scribbles_per_region_{name}"] = figs["curve"][
                    "scribbles_per_region"]
        return out


        return write_full_image_outputs(summary, Path(out_dir))

"""Full-image protocol: extreme points for every region, then rounds of corrective scribbles
allocated over the whole image, scored per region; ``docs/protocols/full-image.md``.

Source: Agustsson, Uijlings and Ferrari, "Interactive Full Image Segmentation by Considering
All Regions Jointly", CVPR 2019: Sec. 3.2 (annotations), Sec. 4 (simulated annotator),
Sec. 5.3 and Fig. 5 (evaluation). Constant: ``DEFAULT_ROUNDS`` = 10.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from iseg_bench.adapters.multi_region import to_region_map
from iseg_bench.adapters.single_region import build_multi_region_adapter
from iseg_bench.datasets.base import Dataset
from iseg_bench.errors import SampleError, UsageError
from iseg_bench.options import option
from iseg_bench.protocols.base import Protocol, Unit, WorkerContext
from iseg_bench.protocols.full_image_figures import (
    REACH_THRESHOLDS,
    FullImageSummary,
    full_image_summary,
)
from iseg_bench.protocols.session import Session, run
from iseg_bench.robots.extreme_points import DEFAULT_TOLERANCE, ExtremePointsRobot
from iseg_bench.robots.full_image_allocator import (
    THICKNESS,
    TRIES,
    FullImageScribbleAllocator,
    region_ious,
)
from iseg_bench.types import Interaction, Sample

DEFAULT_ROUNDS = 10


@dataclass(frozen=True)
class FullImageOptions:
    """Options of the full-image protocol (``--protocol-opt KEY=VALUE``).

    Raises:
        UsageError: ``rounds`` or ``tolerance`` < 0, or ``tries``, ``thickness`` or
            ``budget_per_region`` not positive (from ``__post_init__``; the same bounds as
            the robots').
    """

    allocation: Literal["free", "per-region"] = option(
        "free", "how a round's scribbles are spread: free (budget_per_region x regions "
        "scribbles over the ranked error regions of the whole image) or per-region (one "
        "for each region with an error)")
    rounds: int = option(DEFAULT_ROUNDS, "rounds of corrective scribbles after the extreme "
                         "points (>= 0)")
    tolerance: int = option(DEFAULT_TOLERANCE, "extreme-point tolerance in pixels")
    tries: int = option(TRIES, "scribble curves drawn per scribble")
    thickness: int = option(THICKNESS, "scribble width in pixels")
    budget_per_region: float = option(1.0, "scribbles per region per round (free allocation)")
    reach_thresholds: tuple[float, ...] = option(
        REACH_THRESHOLDS, "mean IoUs whose scribbles and rounds to reach are reported")

    def __post_init__(self) -> None:
        owner = "protocol full-image"
        for key in ("rounds", "tolerance"):
            if getattr(self, key) < 0:
                raise UsageError(f"{owner}: {key} must be >= 0, got {getattr(self, key)}")
        for key in ("tries", "thickness", "budget_per_region"):
            if getattr(self, key) <= 0:
                raise UsageError(f"{owner}: {key} must be positive, got {getattr(self, key)}")


@dataclass
class FullImageRobots:
    """The two simulated annotators of the protocol and the number of rounds."""

    extreme: ExtremePointsRobot
    allocator: FullImageScribbleAllocator
    rounds: int

    def describe(self) -> dict[str, Any]:
        return {"extreme_points": self.extreme.describe(),
                "allocator": self.allocator.describe(), "rounds": self.rounds}


def image_rngs(seed: int, sample_id: str) -> tuple[np.random.Generator, np.random.Generator]:
    """(extreme-point generator, scribble generator) of one image: the two children of
    ``SeedSequence([seed, crc32(sample_id utf-8)])``."""
    ss = np.random.SeedSequence([int(seed), zlib.crc32(str(sample_id).encode("utf-8"))])
    a, b = ss.spawn(2)
    return np.random.default_rng(a), np.random.default_rng(b)


def image_regions(sample: Sample) -> tuple[list[int], dict[int, dict[str, Any]]]:
    """(region ids, {id: info}) of a full-image sample: the non-zero ids with a non-ignored
    pixel, increasing; info is ``meta["regions"][id]`` or {"category": None,
    "is_thing": None}.

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


def region_of(interaction: Interaction) -> int:
    """The region id an interaction of full-image work is tagged with.

    Raises:
        SampleError: the interaction has no region.
    """
    if interaction.region is None:
        raise SampleError(f"{interaction.kind} without a region in full-image work")
    return int(interaction.region)


@dataclass
class ImageState:
    """The evolving state of one image's session.

    Attributes:
        sample: the image (target: (H, W) int region-id map).
        regions, info: from :func:`image_regions`; areas: {id: non-ignored pixels}.
        rng_points, rng_scribbles: from :func:`image_rngs`.
        round: the next round (0 = extreme points).
        pred: (H, W) int32 current prediction, None before round 0.
        received: {id: scribbles received so far}.
        history, records: interactions so far; one record row per region per round.
    """

    sample: Sample
    regions: list[int]
    info: dict[int, dict[str, Any]]
    areas: dict[int, int]
    rng_points: np.random.Generator
    rng_scribbles: np.random.Generator
    round: int = 0
    pred: np.ndarray | None = None
    received: dict[int, int] = field(default_factory=dict)
    history: list[Interaction] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def start(cls, sample: Sample, seed: int) -> ImageState:
        """The state before round 0. Raises SampleError (see :func:`image_regions`)."""
        regions, info = image_regions(sample)
        areas = {r: int(np.count_nonzero((sample.target == r) & ~sample.ignore))
                 for r in regions}
        return cls(sample, regions, info, areas, *image_rngs(seed, sample.sample_id),
                   received={r: 0 for r in regions})


@dataclass
class ImageSession(Session[ImageState, np.ndarray]):
    """One multi-region model driven by the extreme-point robot (round 0) and the scribble
    allocator (later rounds); each round scores every region by IoU."""

    adapter: Any
    extreme: ExtremePointsRobot
    allocator: FullImageScribbleAllocator

    def interact(self, state: ImageState) -> list[Interaction]:
        s = state.sample
        if state.pred is None:
            return list(self.extreme.annotate(s.target, s.ignore, state.regions,
                                              state.rng_points))
        return list(self.allocator.allocate(s.target, s.ignore, state.pred, state.regions,
                                            state.rng_scribbles))

    def predict(self, state: ImageState) -> Any:
        return self.adapter.predict(list(state.history), list(state.regions), state.pred)

    def validate(self, state: ImageState, raw: Any) -> np.ndarray:
        return to_region_map(raw, state.regions, state.sample.shape)

    def score(self, state: ImageState, new: Sequence[Interaction], pred: np.ndarray,
              seconds: float) -> float:
        """Record one row per region; returns the mean IoU over the regions."""
        s, rnd = state.sample, state.round
        given: dict[int, list[Interaction]] = {}
        if rnd == 0:
            given = {region_of(e): [e] for e in new}
        else:
            for i in new:
                given.setdefault(region_of(i), []).append(i)
                state.received[region_of(i)] += 1
        ious = region_ious(s.target, pred, s.ignore, state.regions)
        total = sum(state.received.values())
        for r, v in zip(state.regions, ious):
            state.records.append({
                "sample_id": s.sample_id, "region": r, "category": state.info[r].get("category"),
                "is_thing": state.info[r].get("is_thing"), "area": state.areas[r],
                "round": rnd, "iou": float(v), "scribbles": state.received[r],
                "scribbles_round": len(given.get(r, [])) if rnd else 0,
                "n_regions": len(state.regions), "image_scribbles": total,
                "model_seconds": seconds,
                "annotation": json.dumps([i.to_json() for i in given.get(r, [])])})
        state.pred, state.round = pred, rnd + 1
        return float(np.mean(ious))


def run_full_image(sample: Sample, ctx: WorkerContext) -> list[dict[str, Any]]:
    """Run one image's whole session; its records, one per region per round.

    Raises:
        SampleError: not a region-id map, no region, or an invalid model output.
    """
    robots: FullImageRobots = ctx.robot
    state = ImageState.start(sample, ctx.config.seed)
    ctx.adapter.set_image(sample.image)
    run(ImageSession(ctx.adapter, robots.extreme, robots.allocator), state, robots.rounds + 1)
    return state.records


class FullImageProtocol(Protocol):
    """All regions of an image at once (Agustsson et al. 2019); one unit per image.

    Raises:
        UsageError: an unknown or invalid protocol option (at construction).
    """

    name = "full-image"
    unit_name = "image"
    options_class = FullImageOptions

    options: FullImageOptions

    def build_context(self, dataset: Dataset, adapter: Any = None) -> WorkerContext:
        """The multi-region model (`adapter` when given, a multi-region model already built;
        a registered single-object model is composed, see adapters.single_region) and the
        two robots; ``config.robot`` is not used."""
        cfg = self.config
        if adapter is None:
            adapter = build_multi_region_adapter(cfg.model, **dict(cfg.model_options))
        return WorkerContext(cfg, dataset, adapter, self._robots())

    def _robots(self) -> FullImageRobots:
        o = self.options
        return FullImageRobots(
            ExtremePointsRobot(o.tolerance),
            FullImageScribbleAllocator(o.allocation, o.tries, o.thickness, o.budget_per_region),
            o.rounds)

    def evaluate(self, unit: Unit, ctx: WorkerContext) -> list[dict[str, Any]]:
        (index,) = unit.indices
        return run_full_image(ctx.dataset.load(index), ctx)

    def summarize(self, records: pd.DataFrame) -> FullImageSummary:
        o = self.options
        return full_image_summary(records, o.reach_thresholds, o.allocation, o.rounds,
                                  self._robots().describe())

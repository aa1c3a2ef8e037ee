"""Simulated extreme clicking: the four extreme points of every region.

Sources: Papadopoulos, Uijlings, Keller and Ferrari, "Extreme clicking for efficient object
annotation", ICCV 2017 (the annotation); Maninis et al., DEXTR, CVPR 2018 (its simulation,
reused by Agustsson, Uijlings and Ferrari, CVPR 2019, Sec. 4). Exact definition:
docs/robots/extreme-points.md.

Constants: DEFAULT_TOLERANCE = 0 px (only exactly tied pixels compete).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from iseg_bench.errors import SampleError, UsageError
from iseg_bench.options import option, options_dict, parse_options
from iseg_bench.types import ExtremePoints

DEFAULT_TOLERANCE = 0  # px


def extreme_points(mask: np.ndarray, rng: np.random.Generator,
                   tolerance: int = DEFAULT_TOLERANCE) -> np.ndarray:
    """The four extreme points of a mask.

    Args:
        mask: (H, W) bool region.
        rng: generator for the choice among (near-)tied candidates.
        tolerance: px; candidates lie within this distance of the extreme row/column.

    Returns:
        (4, 2) float64 (y, x) integer-valued points in the order left, right, top, bottom.

    Raises:
        SampleError: empty mask. ValueError: negative tolerance.
    """
    if tolerance < 0:
        raise ValueError(f"tolerance must be >= 0, got {tolerance}")
    ys, xs = np.nonzero(mask)
    if len(ys) == 0:
        raise SampleError("cannot place extreme points on an empty region")
    sets = (xs <= xs.min() + tolerance, xs >= xs.max() - tolerance,
            ys <= ys.min() + tolerance, ys >= ys.max() - tolerance)
    out = np.empty((4, 2), dtype=np.float64)
    for k, sel in enumerate(sets):
        cand = np.flatnonzero(sel)
        pick = cand[int(rng.integers(len(cand)))]
        out[k] = ys[pick], xs[pick]
    return out


@dataclass(frozen=True)
class ExtremePointsOptions:
    """Options of ``ExtremePointsRobot``; a negative tolerance raises UsageError."""

    tolerance: int = option(DEFAULT_TOLERANCE,
                            "px; candidates lie within this distance of the extreme row/column")

    def __post_init__(self) -> None:
        if self.tolerance < 0:
            raise UsageError(f"extreme points: tolerance must be >= 0, got {self.tolerance}")


class ExtremePointsRobot:
    """Extreme points of every region of a full-image target (docs/robots/extreme-points.md).

    Args:
        tolerance: px (default 0, exact ties only).

    Raises:
        UsageError: a negative tolerance.
    """

    name = "extreme-points"
    kind = "extreme_points"
    options_class = ExtremePointsOptions

    def __init__(self, tolerance: int = DEFAULT_TOLERANCE):
        self.options = parse_options(ExtremePointsOptions, {"tolerance": tolerance},
                                     "extreme points")

    def annotate(self, target: np.ndarray, ignore: np.ndarray, regions: Sequence[int],
                 rng: np.random.Generator) -> list[ExtremePoints]:
        """One ExtremePoints per region, in `regions` order.

        Args:
            target: (H, W) int region-id map.
            ignore: (H, W) bool.
            regions: region ids (each must have a non-ignored pixel).
            rng: generator (consumed in `regions` order).

        Returns:
            list of ExtremePoints tagged with their region id.
        """
        return [ExtremePoints(extreme_points((target == r) & ~ignore, rng,
                                             self.options.tolerance),
                              region=int(r)) for r in regions]

    def describe(self) -> dict[str, Any]:
        """{"name", "tolerance"}."""
        return {"name": self.name, **options_dict(self.options)}

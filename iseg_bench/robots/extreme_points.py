"""Simulated extreme clicking: the four extreme points of every region.

Sources: Papadopoulos, Uijlings, Keller and Ferrari, "Extreme clicking for efficient object
annotation", ICCV 2017 (the annotation); Maninis et al., DEXTR, CVPR 2018 (its simulation,
which Agustsson, Uijlings and Ferrari, CVPR 2019, Sec. 4 "Extreme points", reuse).

Simulation (as DEXTR's): for the left-most point the candidates are the region's pixels whose
column is at most min(column) + ``tolerance``; likewise right (column >= max - tolerance),
top (row <= min + tolerance) and bottom (row >= max - tolerance). One candidate is drawn
uniformly from each set with the caller's ``numpy.random.Generator`` (in the order left,
right, top, bottom, one ``integers`` draw each), so a seed fixes the points.

Constants:
    ``tolerance`` = 0 px by default: only exactly tied pixels compete (a straight vertical
    left edge gives one candidate per row of that edge). A positive tolerance also admits
    near-tied pixels, up to that many pixels inside the extreme row/column (a perturbation
    such as DEXTR's training-time ``pert``).
    Ignored pixels never become extreme points: the region is target == id & ~ignore.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from iseg_bench.errors import SampleError
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


class ExtremePointsRobot:
    """Extreme points of every region of a full-image target (module docstring).

    Args:
        tolerance: px (default 0, exact ties only).
    """

    name = "extreme-points"
    kind = "extreme_points"

    def __init__(self, tolerance: int = DEFAULT_TOLERANCE):
        if int(tolerance) < 0:
            raise ValueError(f"tolerance must be >= 0, got {tolerance}")
        self.tolerance = int(tolerance)

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
        return [ExtremePoints(extreme_points((target == r) & ~ignore, rng, self.tolerance),
                              region=int(r)) for r in regions]

    def describe(self) -> dict:
        return {"name": self.name, "tolerance": self.tolerance}

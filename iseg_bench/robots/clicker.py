"""Click robots: the reference center-of-error clicker and the DIOS largest-region clicker.

Sources: ``CenterOfErrorClicker`` reproduces the clicker of RITM's evaluation code (Sofiiuk
et al. 2022, ``isegm/inference/clicker.py``; FocalClick, SimpleClick and EMC-Click use the
same one); ``LargestRegionCenterClicker`` is the robot of DIOS (Xu et al. 2016). Exact
definitions: docs/robots/clicker.md and docs/robots/dios-clicker.md.

Constants: none beyond those of ``geometry.distance`` (1-pixel padding, exact L2 transform)
and ``geometry.error_regions`` (8-connected error regions).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from iseg_bench.geometry import deepest_point, error_masks, largest_error_region
from iseg_bench.robots.base import Robot
from iseg_bench.types import Click, Interaction


def _clicked_pixels(history: Sequence[Interaction]) -> tuple[np.ndarray, np.ndarray]:
    """(ys, xs) intp arrays of the earlier clicks' pixels."""
    clicks = [h for h in history if isinstance(h, Click)]
    return (np.fromiter((c.y for c in clicks), dtype=np.intp, count=len(clicks)),
            np.fromiter((c.x for c in clicks), dtype=np.intp, count=len(clicks)))


class CenterOfErrorClicker(Robot):
    """The reference center-of-error clicker (RITM protocol; docs/robots/clicker.md).

    The click is positive iff the deepest unclicked FN pixel is strictly deeper than the
    deepest unclicked FP pixel, and goes to the first row-major pixel of that depth.
    Returns ``Click(y, x, is_positive)`` with int pixel coordinates. No options.
    """

    name = "clicker"
    kind = "click"

    def next_interaction(self, target: np.ndarray, ignore: np.ndarray, pred: np.ndarray,
                         history: Sequence[Interaction]) -> Click:
        fn, fp = error_masks(target, pred, ignore)
        ys, xs = _clicked_pixels(history)
        fn_max, fn_at = deepest_point(fn, ys, xs)
        fp_max, fp_at = deepest_point(fp, ys, xs)
        is_positive = fn_max > fp_max
        y, x = fn_at if is_positive else fp_at
        return Click(int(y), int(x), is_positive)


class LargestRegionCenterClicker(Robot):
    """DIOS-style clicker: the interior-most point of the largest error region
    (docs/robots/dios-clicker.md). Not the reference clicker: its NoC figures are not
    comparable. Returns ``Click(y, x, is_positive)``. No options.
    """

    name = "dios-clicker"
    kind = "click"

    def next_interaction(self, target: np.ndarray, ignore: np.ndarray, pred: np.ndarray,
                         history: Sequence[Interaction]) -> Click:
        ys, xs = _clicked_pixels(history)
        region = largest_error_region(target, ignore, pred, order="label", clicked=(ys, xs))
        if region is None:
            return Click(0, 0, False)
        if region.fully_clicked:
            ys, xs = ys[:0], xs[:0]
        _, (y, x) = deepest_point(region.mask, ys, xs)
        return Click(int(y), int(x), region.is_positive)

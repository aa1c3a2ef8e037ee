"""The annotation-map convention of full-image segmentation: how extreme points, scribbles
and clicks of each region are painted into per-region binary maps.

Source: Agustsson, Uijlings and Ferrari, "Interactive Full Image Segmentation by Considering
All Regions Jointly", CVPR 2019, Sec. 3.1 (boxes b_i), Sec. 3.2 and Eq. 2 (maps F_i), Fig. 3.
Specified in ``docs/adapters.md``.

Constants: ``EXTREME_POINT_DIAMETER`` = 6 px (the paper: "a circle which is 6 pixels in
diameter"), ``SCRIBBLE_WIDTH`` = 3 px (the paper: "Scribbles are 3 pixels wide").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import numpy as np

from iseg_bench.errors import SampleError
from iseg_bench.geometry import rasterize_stroke
from iseg_bench.masks import disk
from iseg_bench.types import Click, ExtremePoints, Interaction, Scribble

EXTREME_POINT_DIAMETER = 6.0
SCRIBBLE_WIDTH = 3


def paint_extreme_points(points: np.ndarray, shape: tuple[int, int],
                         scale: float = 1.0) -> np.ndarray:
    """(H, W) bool: discs EXTREME_POINT_DIAMETER px across (x `scale`, radius >= 1 px when
    scale < 1) around each (y, x) point of `points` ((K, 2) float, original pixels)."""
    out = np.zeros(shape, dtype=bool)
    radius = EXTREME_POINT_DIAMETER / 2 * scale
    if scale < 1.0:
        radius = max(1.0, radius)
    for y, x in np.asarray(points, dtype=np.float64).reshape(-1, 2) * scale:
        out |= disk(shape, y, x, radius)
    return out


def paint_scribble(points: np.ndarray, shape: tuple[int, int], width: int = SCRIBBLE_WIDTH,
                   scale: float = 1.0) -> np.ndarray:
    """(H, W) bool: the polyline `points` ((N, 2) float (y, x), original pixels, x `scale`)
    painted `width` px wide by ``geometry.rasterize_stroke``. At scale < 1 the width is scaled
    and rounded, at least 1 px."""
    w = max(1, int(round(width * scale))) if scale < 1.0 else int(width)
    return rasterize_stroke(np.asarray(points, dtype=np.float64) * scale, w, shape)


def paint_annotation(inter: Interaction, shape: tuple[int, int],
                     scale: float = 1.0) -> np.ndarray:
    """(H, W) bool footprint of one interaction (extreme points: 6-px discs; scribbles:
    SCRIBBLE_WIDTH px wide, or the scribble's own thickness when smaller; clicks: one
    extreme-point-sized disc). Raises TypeError for another interaction type."""
    if isinstance(inter, ExtremePoints):
        return paint_extreme_points(inter.points, shape, scale)
    if isinstance(inter, Scribble):
        return paint_scribble(inter.points, shape, min(SCRIBBLE_WIDTH, inter.thickness), scale)
    if isinstance(inter, Click):
        return paint_extreme_points(np.array([[inter.y, inter.x]], float), shape, scale)
    raise TypeError(f"cannot paint {type(inter).__name__}")


def annotation_maps(interactions: Sequence[Interaction], regions: Sequence[int],
                    shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The paper's two-channel annotation maps F_i = (S_i, sum_{j != i} S_j) (Eq. 2).

    Args:
        interactions: the image's history; each carries ``region`` (an id in `regions`).
        regions: the N region ids, fixing the channel order.
        shape: (H, W).

    Returns:
        (positive, negative): two (N, H, W) bool arrays; negative[i] is the union of the
        positive maps of all other regions (binary).

    Raises:
        SampleError: an interaction without a region or with an unknown region.
    """
    index = {int(r): k for k, r in enumerate(regions)}
    pos = np.zeros((len(regions), *shape), dtype=bool)
    for inter in interactions:
        k = None if inter.region is None else index.get(int(inter.region))
        if k is None:
            raise SampleError(f"annotation tagged with region {inter.region!r}, not one of "
                              f"the image's regions")
        pos[k] |= paint_annotation(inter, shape)
    total = pos.sum(axis=0)
    neg = (total[None] - pos.astype(np.int32)) > 0
    return pos, neg


def region_boxes(interactions: Sequence[Interaction]) -> dict[int, tuple[int, int, int, int]]:
    """{region id: (y0, x0, y1, x1)} inclusive integer box of each region's extreme points
    (the boxes b_i of the paper, Sec. 3.1)."""
    out = {}
    for inter in interactions:
        if isinstance(inter, ExtremePoints):
            p = np.round(inter.points).astype(int)
            region = int(cast(int, inter.region))   # full-image extreme points carry one
            out[region] = (int(p[:, 0].min()), int(p[:, 1].min()),
                           int(p[:, 0].max()), int(p[:, 1].max()))
    return out

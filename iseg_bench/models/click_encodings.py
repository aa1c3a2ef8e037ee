"""Click encodings, how clicks become input channels: binary disks (EMC-Click, Du et al.
2023, Sec. 3.2), Gaussian maps at three scales (Forte et al. 2020, Sec. 3.1, Tab. 2) and
distance maps (Xu et al. 2016, Sec. 3.1). Specified in ``docs/models/torch-models.md``.

Constants: ``DISK_RADIUS`` = 5 px (RITM public code), ``GAUSSIAN_L`` = 352 and
``GAUSSIAN_SCALES`` = (0.02, 0.08, 0.16) (sigma = scale x L; the 99% network's released
``networks/transforms.py``, MarcoForte/DeepInteractiveSegmentation), ``DISTANCE_CAP`` = 255.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

DISK_RADIUS = 5
GAUSSIAN_L = 352.0
GAUSSIAN_SCALES = (0.02, 0.08, 0.16)
DISTANCE_CAP = 255.0

ClickTuple = tuple[float, float, bool]


def as_click_tuples(clicks: Iterable) -> list[ClickTuple]:
    """Normalise iseg_bench ``Click`` objects or (y, x, is_positive) tuples to tuples."""
    out = []
    for c in clicks:
        if hasattr(c, "y") and hasattr(c, "x"):
            out.append((float(c.y), float(c.x), bool(c.is_positive)))
        else:
            y, x, p = c
            out.append((float(y), float(x), bool(p)))
    return out


def _min_sq_dist(points: Sequence[tuple[float, float]], shape: tuple[int, int]) -> np.ndarray:
    """(H, W) float64 squared distance to the nearest point; +inf when there is none."""
    h, w = shape
    yy = np.arange(h, dtype=np.float64)[:, None]
    xx = np.arange(w, dtype=np.float64)[None, :]
    best = np.full((h, w), np.inf)
    for y, x in points:
        np.minimum(best, (yy - y) ** 2 + (xx - x) ** 2, out=best)
    return best


def _split(clicks: Iterable) -> tuple[list, list]:
    tuples = as_click_tuples(clicks)
    pos = [(y, x) for y, x, p in tuples if p]
    neg = [(y, x) for y, x, p in tuples if not p]
    return pos, neg


def disk_maps(clicks: Iterable, shape: tuple[int, int], radius: float = DISK_RADIUS) -> np.ndarray:
    """Binary disks: (2, H, W) float32, channel 0 positive, 1 negative; 1 inside a disk."""
    out = np.zeros((2, *shape), np.float32)
    for k, pts in enumerate(_split(clicks)):
        if pts:
            out[k] = _min_sq_dist(pts, shape) <= radius * radius
    return out


def gaussian_maps(clicks: Iterable, shape: tuple[int, int], length: float = GAUSSIAN_L,
                  scales: Sequence[float] = GAUSSIAN_SCALES) -> np.ndarray:
    """Gaussian maps exp(-d^2 / (2 (scale L)^2)) of the Euclidean distance d to the nearest
    click of each sign: (2 * len(scales), H, W) float32 in [0, 1]; the negative (background)
    maps first, then the positive ones, each from the finest scale up (the released 99%
    network's order); all zero for a sign without clicks."""
    out = np.zeros((2 * len(scales), *shape), np.float32)
    pos, neg = _split(clicks)
    for k, pts in enumerate((neg, pos)):
        if not pts:
            continue
        d2 = _min_sq_dist(pts, shape)
        for s, scale in enumerate(scales):
            sigma = scale * length
            out[k * len(scales) + s] = np.exp(-d2 / (2.0 * sigma * sigma))
    return out


def click_pixel_maps(clicks: Iterable, shape: tuple[int, int]) -> np.ndarray:
    """(2, H, W) float32: 1 at the (rounded, in-bounds) pixels of the negative clicks
    (channel 0) and of the positive clicks (channel 1), else 0 (the released 99% network's
    two-channel "trimap", background first)."""
    out = np.zeros((2, *shape), np.float32)
    for y, x, positive in as_click_tuples(clicks):
        yi, xi = int(round(y)), int(round(x))
        if 0 <= yi < shape[0] and 0 <= xi < shape[1]:
            out[int(positive), yi, xi] = 1.0
    return out


def clicks_from_pixel_maps(maps: np.ndarray) -> list[ClickTuple]:
    """The clicks of a (2, H, W) pixel map (inverse of ``click_pixel_maps``): one
    (y, x, is_positive) per nonzero pixel, negative channel first, each in raster order."""
    out: list[ClickTuple] = []
    for k in (0, 1):
        ys, xs = np.nonzero(maps[k])
        out.extend((float(y), float(x), bool(k)) for y, x in zip(ys, xs))
    return out


def distance_maps(clicks: Iterable, shape: tuple[int, int],
                  cap: float = DISTANCE_CAP) -> np.ndarray:
    """Truncated Euclidean distance maps: (2, H, W) float32 in [0, cap]; cap when no click."""
    out = np.full((2, *shape), cap, np.float32)
    for k, pts in enumerate(_split(clicks)):
        if pts:
            out[k] = np.minimum(np.sqrt(_min_sq_dist(pts, shape)), cap)
    return out


"""Click robots of the click-based literature.

``CenterOfErrorClicker`` reproduces, bit for bit, the clicker of the field's reference
evaluation code (RITM, Sofiiuk et al. 2022, ``isegm/inference/clicker.py``; FocalClick,
SimpleClick and EMC-Click evaluate with the same one):

1. FN = target & ~pred & ~ignore, FP = ~target & pred & ~ignore.
2. Each error mask is zero-padded by 1 pixel on every side, then the exact Euclidean
   distance transform is taken (OpenCV ``DIST_L2`` with ``DIST_MASK_PRECISE``, float32), and
   the padding is cropped: the image border acts as background one pixel outside the image.
3. Both distance maps are set to 0 at the exact pixels of earlier clicks.
4. The click is positive iff max(FN distance) > max(FP distance) (strict: a tie is negative).
5. It goes to the first pixel, in row-major order, that attains the chosen maximum.

When both maxima are 0 (no error left outside earlier clicks and ignored pixels) the rule
above still yields a click: negative, at pixel (0, 0) -- the first row-major pixel of an
all-zero map. The reference code does the same; the session loop scores it like any other.

``LargestRegionCenterClicker`` is a *different* robot, named in DIOS (Xu et al. 2016) and
several later papers: it clicks the interior-most point of the largest connected error
region (8-connected, FN and FP together; ties by size go to FN, then to the lower label).
A region whose every pixel was clicked before is passed over; when all are, the largest
one is clicked again at its centre (the user insists on the object the model keeps missing).
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from iseg_bench.masks import components, deterministic_opencv, error_masks
from iseg_bench.robots.base import Robot
from iseg_bench.types import Click, Interaction


def _box_distance(mask: np.ndarray) -> tuple[tuple[int, int], np.ndarray] | None:
    """((y0, x0), distance crop) over the mask's bounding box, or None for an empty mask.

    Every pixel of the box has its nearest non-mask pixel within a 1-pixel zero frame around
    the box (the frame is all non-mask), so the crop equals the transform of the whole padded
    image there, bit for bit, and the transform is 0 outside the box.
    """
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return None
    y0, x0 = int(rows[0]), int(cols[0])
    padded = np.pad(mask[y0:rows[-1] + 1, x0:cols[-1] + 1].view(np.uint8), 1)
    with deterministic_opencv():
        dist = cv2.distanceTransform(padded, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)
    return (y0, x0), dist[1:-1, 1:-1]


def padded_distance(mask: np.ndarray) -> np.ndarray:
    """Exact L2 distance to the nearest non-mask pixel, with the outside of the image counted
    as non-mask. mask: (H, W) bool. Returns (H, W) float32, pixels."""
    out = np.zeros(mask.shape, np.float32)
    found = _box_distance(mask)
    if found is not None:
        (y0, x0), dist = found
        out[y0:y0 + dist.shape[0], x0:x0 + dist.shape[1]] = dist
    return out


def _deepest_unclicked(mask: np.ndarray, ys: np.ndarray,
                       xs: np.ndarray) -> tuple[float, tuple[int, int]]:
    """(max padded distance, first row-major pixel attaining it) with clicked pixels zeroed.

    Works on the bounding-box crop: row-major order inside the box is row-major order in the
    image, and every pixel outside the box is 0, so a positive maximum is found in the box;
    an all-zero map gives (0.0, (0, 0)), the first pixel of the image.
    """
    found = _box_distance(mask)
    if found is None:
        return 0.0, (0, 0)
    (y0, x0), dist = found
    h, w = dist.shape
    inside = (ys >= y0) & (ys < y0 + h) & (xs >= x0) & (xs < x0 + w)
    dist[ys[inside] - y0, xs[inside] - x0] = 0
    k = int(np.argmax(dist))
    value = float(dist.flat[k])
    return (value, (y0 + k // w, x0 + k % w)) if value > 0 else (0.0, (0, 0))


def _clicked_pixels(history: Sequence[Interaction]) -> tuple[np.ndarray, np.ndarray]:
    clicks = [h for h in history if isinstance(h, Click)]
    return (np.fromiter((c.y for c in clicks), dtype=np.intp, count=len(clicks)),
            np.fromiter((c.x for c in clicks), dtype=np.intp, count=len(clicks)))


def _first_argmax(dist: np.ndarray) -> tuple[int, int]:
    """First row-major pixel attaining the maximum (np.argmax returns the first)."""
    y, x = np.unravel_index(int(np.argmax(dist)), dist.shape)
    return int(y), int(x)


class CenterOfErrorClicker(Robot):
    """The reference center-of-error clicker (RITM protocol); see the module docstring.

    Produces ``Click(y, x, is_positive)`` with int pixel coordinates. Deterministic; no
    constants other than the 1-pixel padding and the precise distance-transform mask.
    """

    name = "clicker"
    kind = "click"

    def next_interaction(self, target: np.ndarray, ignore: np.ndarray, pred: np.ndarray,
                         history: Sequence[Interaction]) -> Click:
        fn, fp = error_masks(target, pred, ignore)
        ys, xs = _clicked_pixels(history)
        fn_max, fn_at = _deepest_unclicked(fn, ys, xs)
        fp_max, fp_at = _deepest_unclicked(fp, ys, xs)
        is_positive = fn_max > fp_max
        y, x = fn_at if is_positive else fp_at
        return Click(int(y), int(x), is_positive)


class LargestRegionCenterClicker(Robot):
    """DIOS-style clicker: centre (interior-most point) of the largest error region.

    The largest 8-connected component over FN and FP is chosen (ties: FN first, then the
    lower component label, i.e. the one met first in row-major order); the click goes to its
    first row-major pixel of maximal padded distance (as in CenterOfErrorClicker), excluding
    earlier click pixels. Not the reference clicker: its NoC figures are not comparable.
    """

    name = "dios-clicker"
    kind = "click"

    def next_interaction(self, target: np.ndarray, ignore: np.ndarray, pred: np.ndarray,
                         history: Sequence[Interaction]) -> Click:
        ys, xs = _clicked_pixels(history)
        fresh, spent = [], []   # candidates (size, -order, is_positive, region)
        for order, (is_positive, err) in enumerate(zip((True, False),
                                                       error_masks(target, pred, ignore))):
            n, labels = components(err)
            if n == 0:
                continue
            sizes = np.bincount(labels.ravel(), minlength=n + 1)
            clicked = np.unique(np.ravel_multi_index((ys, xs), labels.shape))
            hits = np.bincount(labels.ravel()[clicked], minlength=n + 1)
            for pool, mask in ((fresh, hits[1:] < sizes[1:]), (spent, hits[1:] == sizes[1:])):
                if mask.any():
                    k = int(np.argmax(np.where(mask, sizes[1:], -1)))
                    pool.append((int(sizes[k + 1]), -order, is_positive, labels == k + 1))
        pool = fresh or spent
        if not pool:
            return Click(0, 0, False)
        _, _, is_positive, region = max(pool, key=lambda c: c[:2])
        dist = padded_distance(region)
        if fresh:
            dist[ys, xs] = 0
        y, x = _first_argmax(dist)
        return Click(y, x, is_positive)

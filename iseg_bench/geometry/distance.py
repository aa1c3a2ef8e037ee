"""The padded Euclidean distance transform and its deepest point.

Source: the clicker of the field's reference evaluation code (RITM, Sofiiuk et al. 2022,
``isegm/inference/clicker.py``): the error mask is zero-padded by one pixel, OpenCV's exact
transform is taken, and the padding is cropped, so the image border acts as background one
pixel outside the image. See docs/robots/clicker.md.

Constants: 1-pixel padding; ``cv2.DIST_L2`` with ``cv2.DIST_MASK_PRECISE`` (float32), run
with OpenCV's IPP code paths off (``masks.deterministic_opencv``).
"""

from __future__ import annotations

import cv2
import numpy as np

from iseg_bench.masks import deterministic_opencv


def _box_distance(mask: np.ndarray, mask_size: int = cv2.DIST_MASK_PRECISE
                  ) -> tuple[tuple[int, int], np.ndarray] | None:
    """((y0, x0), distance crop) over the mask's bounding box, or None for an empty mask.

    Every pixel of the box has its nearest non-mask pixel within a 1-pixel zero frame around
    the box (the frame is all non-mask), so the crop equals the transform of the whole padded
    image there, bit for bit, and the transform is 0 outside the box. This holds for the
    chamfer masks too: a chamfer path leaving the box passes a frame pixel that a shorter
    step reaches.
    """
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if rows.size == 0:
        return None
    y0, x0 = int(rows[0]), int(cols[0])
    padded = np.pad(mask[y0:rows[-1] + 1, x0:cols[-1] + 1].view(np.uint8), 1)
    with deterministic_opencv():
        dist: np.ndarray = cv2.distanceTransform(padded, cv2.DIST_L2, mask_size)
    return (y0, x0), dist[1:-1, 1:-1]


def padded_distance(mask: np.ndarray, mask_size: int = cv2.DIST_MASK_PRECISE) -> np.ndarray:
    """Exact L2 distance to the nearest non-mask pixel, the outside of the image counting as
    non-mask.

    Args:
        mask: (H, W) bool.
        mask_size: OpenCV's ``distanceTransform`` mask: ``DIST_MASK_PRECISE`` (0, exact; the
            evaluation robots) or 3 / 5 for its chamfer approximations (the EMC-Click
            authors' training clicks use 5 after the first click).

    Returns:
        (H, W) float32 distances in pixels (0 off the mask).
    """
    out = np.zeros(mask.shape, np.float32)
    found = _box_distance(mask, mask_size)
    if found is not None:
        (y0, x0), dist = found
        out[y0:y0 + dist.shape[0], x0:x0 + dist.shape[1]] = dist
    return out


def deepest_point(mask: np.ndarray, ys: np.ndarray,
                  xs: np.ndarray) -> tuple[float, tuple[int, int]]:
    """The mask's interior-most pixel, excluding given pixels.

    The padded distance (``padded_distance``) is set to 0 at the pixels (ys, xs); the result
    is its maximum and the first pixel in row-major order attaining it.

    Args:
        mask: (H, W) bool.
        ys, xs: (N,) int rows and columns of excluded pixels (e.g. earlier clicks).

    Returns:
        (max distance in px, (y, x)); (0.0, (0, 0)) -- the first pixel of the image -- when
        the map is all zero.
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

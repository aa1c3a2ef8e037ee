"""Training-time click placement.

* First click at the object centre: the object pixel farthest from the object boundary and
  the image sides (the evaluation protocol's first click, Du et al. 2023 Sec. 4.1; Forte et
  al. 2020 Sec. 3.2).
* Next clicks at the centre of the largest error region of the model's own prediction
  (Forte et al. 2020, Sec. 3.2: "segment the mislabelled pixels into connected regions ...
  place the click at the centre of the largest incorrect region, so as to maximise the
  Euclidean distance to both the region boundary and the sides of the image"): false
  negatives give a positive click, false positives a negative one; 8-connected regions;
  ignored pixels are never errors. Ties go to the first pixel in row-major order.
"""

from __future__ import annotations

import cv2
import numpy as np


def _centre(region: np.ndarray) -> tuple[int, int]:
    """(y, x) of the region pixel with the largest distance to the region boundary and the
    image sides (L2 distance transform of the region padded with background)."""
    padded = np.pad(region.astype(np.uint8), 1)
    dist = cv2.distanceTransform(padded, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)[1:-1, 1:-1]
    y, x = np.unravel_index(int(np.argmax(dist)), dist.shape)
    return int(y), int(x)


def object_centre_click(target: np.ndarray) -> tuple[int, int, bool] | None:
    """First click (y, x, True) at the centre of bool (H, W) `target`; None if empty."""
    if not target.any():
        return None
    return (*_centre(target), True)


def largest_error_click(pred: np.ndarray, target: np.ndarray,
                        ignore: np.ndarray | None = None) -> tuple[int, int, bool] | None:
    """Corrective click (y, x, is_positive) for bool `pred` vs bool `target`; None if perfect."""
    valid = np.ones_like(target, bool) if ignore is None else ~ignore
    fn = target & ~pred & valid
    fp = ~target & pred & valid
    best = None
    for err, positive in ((fn, True), (fp, False)):
        if not err.any():
            continue
        n, labels, stats, _ = cv2.connectedComponentsWithStats(err.astype(np.uint8), connectivity=8)
        k = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
        area = int(stats[k, cv2.CC_STAT_AREA])
        if best is None or area > best[0]:
            best = (area, labels == k, positive)
    if best is None:
        return None
    return (*_centre(best[1]), best[2])

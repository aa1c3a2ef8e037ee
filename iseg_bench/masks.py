"""Mask primitives: IoU with an ignore mask, disks, and deterministic OpenCV.

All masks are (H, W) bool; coordinates are (y, x) pixels. Source of the IoU convention: RITM
(Sofiiuk et al. 2022), ``isegm/inference/utils.py``, ``get_iou``.
"""

from __future__ import annotations

from typing import Literal

import cv2
import numpy as np

from iseg_bench.errors import SampleError


class deterministic_opencv:
    """Context manager: OpenCV's Intel IPP code paths off inside the block (restored after).

    IPP's precise distance transform returns values that differ in the last float bits from
    call to call (OpenCV issue 24082), which moves the reference clicker's clicks between
    identical runs. OpenCV's own implementation is exact and as fast. A no-op when OpenCV
    has no IPP switch.
    """

    def __enter__(self) -> deterministic_opencv:
        ipp = getattr(cv2, "ipp", None)
        self._ipp = ipp if ipp is not None and hasattr(ipp, "setUseIPP") else None
        self._old = self._ipp.useIPP() if self._ipp is not None else None
        if self._ipp is not None:
            self._ipp.setUseIPP(False)
        return self

    def __exit__(self, *exc: object) -> Literal[False]:
        if self._ipp is not None:
            self._ipp.setUseIPP(self._old)
        return False


def iou(target: np.ndarray, pred: np.ndarray, ignore: np.ndarray) -> float:
    """Intersection over union counted on non-ignored pixels only.

    Both intersection and union exclude ignored pixels, as the field's reference evaluation
    code does (RITM ``utils.get_iou``; GrabCut's 128 band is excluded from both).

    Args:
        target, pred, ignore: (H, W) bool.

    Returns:
        IoU in [0, 1] (float).

    Raises:
        SampleError: when the union is empty (nothing to score), so no NaN reaches a mean.
    """
    valid = ~ignore
    union = np.count_nonzero((target | pred) & valid)
    if union == 0:
        raise SampleError("empty union: the target and the prediction are both empty "
                          "outside the ignore mask")
    return float(np.count_nonzero(target & pred & valid) / union)


def disk(shape: tuple[int, int], y: float, x: float, radius: float) -> np.ndarray:
    """(H, W) bool disk of pixels whose centre is within `radius` pixels of (y, x)."""
    yy, xx = np.ogrid[:shape[0], :shape[1]]
    inside: np.ndarray = (yy - y) ** 2 + (xx - x) ** 2 <= radius ** 2
    return inside

"""Mask primitives: IoU with an ignore mask, FN/FP error masks, components, rasterising.

All masks are (H, W) bool unless stated; coordinates are (y, x) pixels.
"""

from __future__ import annotations

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

    def __enter__(self):
        ipp = getattr(cv2, "ipp", None)
        self._ipp = ipp if ipp is not None and hasattr(ipp, "setUseIPP") else None
        self._old = self._ipp.useIPP() if self._ipp is not None else None
        if self._ipp is not None:
            self._ipp.setUseIPP(False)
        return self

    def __exit__(self, *exc):
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
    return np.count_nonzero(target & pred & valid) / union


def error_masks(target: np.ndarray, pred: np.ndarray,
                ignore: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(FN, FP): FN = target & ~pred & ~ignore, FP = ~target & pred & ~ignore."""
    valid = ~ignore
    return target & ~pred & valid, ~target & pred & valid


def component_at(mask: np.ndarray, y: int, x: int, connectivity: int = 8) -> np.ndarray:
    """(H, W) bool: the connected component of `mask` containing (y, x) (empty if mask[y, x]
    is False). connectivity: 4 or 8."""
    out = np.zeros(mask.shape, dtype=bool)
    if not mask[y, x]:
        return out
    work = mask.astype(np.uint8)
    ff = np.zeros((mask.shape[0] + 2, mask.shape[1] + 2), dtype=np.uint8)
    cv2.floodFill(work, ff, (int(x), int(y)), 2, flags=connectivity)
    return work == 2


def components(mask: np.ndarray, connectivity: int = 8) -> tuple[int, np.ndarray]:
    """Label connected components: (count, (H, W) int32 labels, 0 = background)."""
    n, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=connectivity,
                                        ltype=cv2.CV_32S)
    return n - 1, labels


def disk(shape: tuple[int, int], y: float, x: float, radius: float) -> np.ndarray:
    """(H, W) bool disk of pixels whose centre is within `radius` pixels of (y, x)."""
    yy, xx = np.ogrid[:shape[0], :shape[1]]
    return (yy - y) ** 2 + (xx - x) ** 2 <= radius ** 2


def rasterize_stroke(points: np.ndarray, thickness: int, shape: tuple[int, int]) -> np.ndarray:
    """Rasterise a polyline of (N, 2) float (y, x) points as a stroke `thickness` px wide.

    The centre line is drawn 1 px wide (OpenCV, 8-connected, points rounded to the nearest
    pixel) and dilated with a `thickness` x `thickness` elliptical kernel, so a straight
    stroke of odd thickness t is exactly t pixels across (OpenCV's own thick lines are
    wider: 5 px for t = 3). A single point gives the kernel itself. Pixels outside `shape`
    are clipped.

    Returns:
        (H, W) bool.
    """
    canvas = np.zeros(shape, dtype=np.uint8)
    pts = np.round(np.asarray(points, dtype=np.float64)[:, ::-1]).astype(np.int32)
    cv2.polylines(canvas, [pts.reshape(-1, 1, 2)], False, 1, 1, cv2.LINE_8)
    if len(pts) == 1 or not canvas.any():
        x, y = int(pts[0, 0]), int(pts[0, 1])
        if 0 <= y < shape[0] and 0 <= x < shape[1]:
            canvas[y, x] = 1
    t = max(int(thickness), 1)
    if t > 1:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (t, t))
        canvas = cv2.dilate(canvas, kernel)
    return canvas.astype(bool)

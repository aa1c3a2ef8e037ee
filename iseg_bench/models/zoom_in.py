"""Zoom-in: run the model on a box around the object from the second click on.

Source: the ZoomIn transform of the click-based evaluation code (Sofiiuk et al., RITM, ICIP
2022, public code; kept by FocalClick; EMC-Click's released evaluation does not zoom in, its
predictor resizes the whole image, so ``emc-click`` refuses the option). Rule and deviation:
``docs/models/torch-models.md``.

Constants: ``ZOOM_EXPANSION`` = 1.4, ``ZOOM_MIN_SIZE`` = 200 px, ``ZOOM_PROB_THRESH`` = 0.5,
``ZOOM_SKIP_CLICKS`` = 1.
"""

from __future__ import annotations

from collections.abc import Iterable

import cv2
import numpy as np

from iseg_bench.models.click_encodings import as_click_tuples

ZOOM_EXPANSION = 1.4
ZOOM_MIN_SIZE = 200
ZOOM_PROB_THRESH = 0.5
ZOOM_SKIP_CLICKS = 1

Box = tuple[int, int, int, int]  # y0, y1, x0, x1 (half-open)


def zoom_in_box(prev_prob: np.ndarray, clicks: Iterable, expansion: float = ZOOM_EXPANSION,
                min_size: int = ZOOM_MIN_SIZE, thresh: float = ZOOM_PROB_THRESH) -> Box | None:
    """The zoom-in box (y0, y1, x0, x1), half-open, inside the image; None when the previous
    mask is empty and there is no positive click.

    Args:
        prev_prob: (H, W) float previous probabilities.
        clicks: Click objects or (y, x, is_positive) tuples in image pixels.
    """
    h, w = prev_prob.shape
    fg = prev_prob > thresh
    ys, xs = np.nonzero(fg)
    ys, xs = list(ys), list(xs)
    for y, x, p in as_click_tuples(clicks):
        if p:
            ys.append(int(round(y)))
            xs.append(int(round(x)))
    if not ys:
        return None
    ymin, ymax, xmin, xmax = min(ys), max(ys), min(xs), max(xs)
    cy, cx = (ymin + ymax) / 2.0, (xmin + xmax) / 2.0
    bh = max((ymax - ymin + 1) * expansion, min_size)
    bw = max((xmax - xmin + 1) * expansion, min_size)
    y0 = int(np.clip(np.floor(cy - bh / 2.0), 0, h - 1))
    y1 = int(np.clip(np.ceil(cy + bh / 2.0), y0 + 1, h))
    x0 = int(np.clip(np.floor(cx - bw / 2.0), 0, w - 1))
    x1 = int(np.clip(np.ceil(cx + bw / 2.0), x0 + 1, w))
    return y0, y1, x0, x1


def target_shape(box: Box, target_size: int) -> tuple[int, int]:
    """(h, w) of the resized crop: long side = target_size, aspect ratio kept."""
    bh, bw = box[1] - box[0], box[3] - box[2]
    scale = target_size / max(bh, bw)
    return max(1, int(round(bh * scale))), max(1, int(round(bw * scale)))


def crop_resize(array: np.ndarray, box: Box, shape: tuple[int, int],
                interpolation: int = cv2.INTER_LINEAR) -> np.ndarray:
    """Crop (H, W[, C]) `array` to `box` and resize to `shape` (h, w); dtype kept."""
    crop = np.ascontiguousarray(array[box[0]:box[1], box[2]:box[3]])
    if crop.shape[:2] == tuple(shape):
        return crop
    is_mask = crop.dtype.kind == "b"
    src = crop.astype(np.float32) if is_mask else crop
    out = cv2.resize(src, (shape[1], shape[0]), interpolation=interpolation)
    return (out > 0.5) if is_mask else out


def paste_back(prob: np.ndarray, box: Box, full_shape: tuple[int, int]) -> np.ndarray:
    """Resize (h, w) float32 `prob` to the box and paste it into zeros of `full_shape`."""
    out = np.zeros(full_shape, np.float32)
    bh, bw = box[1] - box[0], box[3] - box[2]
    out[box[0]:box[1], box[2]:box[3]] = cv2.resize(prob.astype(np.float32), (bw, bh),
                                                   interpolation=cv2.INTER_LINEAR)
    return out


def clicks_to_box(clicks: Iterable, box: Box,
                  shape: tuple[int, int]) -> list[tuple[float, float, bool]]:
    """Map clicks from image pixels into the resized crop's pixels (pixel-centre convention)."""
    sy = shape[0] / (box[1] - box[0])
    sx = shape[1] / (box[3] - box[2])
    return [((y - box[0] + 0.5) * sy - 0.5, (x - box[2] + 0.5) * sx - 0.5, p)
            for y, x, p in as_click_tuples(clicks)]

"""Seeds for the classical baselines: interactions rasterised at a working resolution
(``docs/models/baselines.md``).

Constants: ``SEED_RADIUS`` = 5, the click-disk radius in original-image pixels (the field's
click disk, RITM).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from iseg_bench.geometry import rasterize_stroke
from iseg_bench.types import Click, Interaction, Scribble

SEED_RADIUS = 5


@dataclass(frozen=True)
class WorkingResolution:
    """Scale between an (H, W) image and its working copy (longest side <= max_side)."""

    shape: tuple[int, int]
    max_side: int

    @property
    def scale(self) -> float:
        return min(1.0, self.max_side / max(self.shape))

    @property
    def work_shape(self) -> tuple[int, int]:
        return (max(1, round(self.shape[0] * self.scale)),
                max(1, round(self.shape[1] * self.scale)))

    def down(self, array: np.ndarray, interpolation: int = cv2.INTER_AREA) -> np.ndarray:
        """Resize an (H, W[, C]) array to the working shape."""
        h, w = self.work_shape
        if (h, w) == self.shape:
            return array
        small: np.ndarray = cv2.resize(array, (w, h), interpolation=interpolation)
        return small

    def up(self, prob: np.ndarray) -> np.ndarray:
        """Resize a working-resolution float map back to (H, W) float32 in [0, 1]."""
        h, w = self.shape
        out = prob if prob.shape == self.shape else cv2.resize(prob.astype(np.float32), (w, h),
                                                                interpolation=cv2.INTER_LINEAR)
        return np.clip(out, 0.0, 1.0).astype(np.float32)


def seed_masks(interactions: Sequence[Interaction], work: WorkingResolution,
               radius: float = SEED_RADIUS) -> tuple[np.ndarray, np.ndarray]:
    """(positive, negative) (h, w) bool seed masks at the working resolution.

    A click becomes a disk of `radius` original pixels (at least 1 working pixel); a
    scribble becomes its stroke (thickness scaled, at least 1 pixel). Where a pixel is both,
    the later interaction wins.
    """
    pos = np.zeros(work.work_shape, bool)
    neg = np.zeros(work.work_shape, bool)
    s = work.scale
    r = max(1, int(round(radius * s)))
    for inter in interactions:
        canvas = np.zeros(work.work_shape, np.uint8)
        if isinstance(inter, Click):
            cv2.circle(canvas, (int(round(inter.x * s)), int(round(inter.y * s))), r, 1, -1)
            hit = canvas.astype(bool)
        elif isinstance(inter, Scribble):
            hit = rasterize_stroke(inter.points * s, max(1, int(round(inter.thickness * s))),
                                   work.work_shape)
        else:
            raise TypeError(f"classical baselines take clicks and scribbles, not {inter.kind}")
        (pos if inter.is_positive else neg)[hit] = True
        (neg if inter.is_positive else pos)[hit] = False
    return pos, neg

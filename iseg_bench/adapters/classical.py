"""Classical baselines that need no weights: OpenCV GrabCut and the scikit-image random
walker, seeded by click disks (radius 5 px) or scribble strokes.

Both run at a working resolution (longest side ``max_side`` px, see adapters.seeds) and
return a probability map at full resolution.

* ``grabcut`` -- GrabCut (Rother et al. 2004) via ``cv2.grabCut`` with mask initialisation.
  Seeds are definite foreground/background. The rest is "probable foreground" where the
  previous prediction is foreground (prob > 0.49) and "probable background" elsewhere;
  before any foreground exists, a disk of radius ``init_radius`` x the image diagonal
  around each positive seed is probable foreground (GrabCut needs a foreground guess).
  ``iterations`` rounds of GMM re-estimation and graph cut (5 by default). Output is hard:
  1.0 for (probable) foreground, 0.0 otherwise.
* ``random-walker`` -- Grady's random walker (2006) via
  ``skimage.segmentation.random_walker`` with ``beta`` (130, scikit-image's default),
  conjugate gradient with a Jacobi preconditioner (tolerance 1e-3). Output is the
  foreground probability. The walker needs a background label: until the first negative
  interaction, the 1-px image frame (outside the positive seeds) is background seed.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
from skimage.segmentation import random_walker

from iseg_bench.adapters.base import Adapter
from iseg_bench.adapters.seeds import SEED_RADIUS, WorkingResolution, seed_masks
from iseg_bench.types import Interaction


class _SeededAdapter(Adapter):
    """Shared part: keeps the working-resolution image; subclasses solve from seeds."""

    accepts = frozenset({"click", "scribble"})

    def __init__(self, max_side: int = 320, seed_radius: float = SEED_RADIUS):
        self.max_side = int(max_side)
        self.seed_radius = float(seed_radius)
        self._work: WorkingResolution | None = None
        self._image: np.ndarray | None = None

    def set_image(self, image: np.ndarray) -> None:
        self._work = WorkingResolution(image.shape[:2], self.max_side)
        self._image = self._work.down(image)

    def predict(self, interactions: Sequence[Interaction], prev_prob: np.ndarray) -> np.ndarray:
        pos, neg = seed_masks(interactions, self._work, self.seed_radius)
        prev = self._work.down(prev_prob.astype(np.float32), cv2.INTER_LINEAR) > 0.49
        return self._work.up(self.solve(self._image, pos, neg, prev))

    def solve(self, image: np.ndarray, pos: np.ndarray, neg: np.ndarray,
              prev: np.ndarray) -> np.ndarray:
        """(h, w) float foreground probability from seeds at the working resolution."""
        raise NotImplementedError

    def describe(self) -> dict:
        return {"name": self.name, "max_side": self.max_side, "seed_radius": self.seed_radius}


class GrabCutAdapter(_SeededAdapter):
    """OpenCV GrabCut seeded by interactions (see module docstring for every constant)."""

    name = "grabcut"

    def __init__(self, iterations: int = 5, init_radius: float = 0.1, **kwargs):
        super().__init__(**kwargs)
        self.iterations = int(iterations)
        self.init_radius = float(init_radius)

    def solve(self, image, pos, neg, prev):
        if not pos.any():
            return np.zeros(pos.shape, np.float32)
        guess = prev if prev.any() else self._initial_guess(pos)
        mask = np.where(guess, cv2.GC_PR_FGD, cv2.GC_PR_BGD).astype(np.uint8)
        mask[pos] = cv2.GC_FGD
        mask[neg] = cv2.GC_BGD
        if (mask == cv2.GC_BGD).any() or (mask == cv2.GC_PR_BGD).any():
            bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
            cv2.setRNGSeed(0)
            cv2.grabCut(np.ascontiguousarray(image[..., ::-1]), mask, None, bgd, fgd,
                        self.iterations, cv2.GC_INIT_WITH_MASK)
        return ((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)).astype(np.float32)

    def _initial_guess(self, pos: np.ndarray) -> np.ndarray:
        r = max(1, int(round(self.init_radius * float(np.hypot(*pos.shape)))))
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
        return cv2.dilate(pos.astype(np.uint8), kernel).astype(bool)

    def describe(self) -> dict:
        return {**super().describe(), "iterations": self.iterations,
                "init_radius": self.init_radius}


class RandomWalkerAdapter(_SeededAdapter):
    """scikit-image random walker seeded by interactions (constants in module docstring)."""

    name = "random-walker"

    def __init__(self, beta: float = 130.0, tol: float = 1e-3, **kwargs):
        super().__init__(**kwargs)
        self.beta = float(beta)
        self.tol = float(tol)

    def solve(self, image, pos, neg, prev):
        if not pos.any():
            return np.zeros(pos.shape, np.float32)
        labels = np.zeros(pos.shape, np.int32)
        if not neg.any():
            labels[[0, -1], :] = 2
            labels[:, [0, -1]] = 2
        labels[neg] = 2
        labels[pos] = 1
        if (labels == 0).sum() == 0:
            return pos.astype(np.float32)
        prob = random_walker(image.astype(np.float64) / 255.0, labels, beta=self.beta,
                             mode="bf", channel_axis=-1, return_full_prob=True)
        return prob[0].astype(np.float32)

    def describe(self) -> dict:
        return {**super().describe(), "beta": self.beta, "tol": self.tol}

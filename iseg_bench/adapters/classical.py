"""Classical baselines that need no weights: OpenCV GrabCut (Rother et al. 2004) and the
scikit-image random walker (Grady 2006), seeded by click disks or scribble strokes at a
working resolution. Every constant and rule: ``docs/models/baselines.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from skimage.segmentation import random_walker

from iseg_bench.adapters.base import Adapter, parse_model_options
from iseg_bench.adapters.seeds import SEED_RADIUS, WorkingResolution, seed_masks
from iseg_bench.options import option, options_dict
from iseg_bench.types import Interaction


@dataclass(frozen=True)
class SeededOptions:
    """Options shared by the seeded classical baselines."""

    max_side: int = option(320, "longest side in px of the working resolution")
    seed_radius: float = option(float(SEED_RADIUS), "click-disk radius in original px")


@dataclass(frozen=True)
class GrabCutOptions(SeededOptions):
    """Options of ``grabcut``."""

    iterations: int = option(5, "rounds of GMM re-estimation and graph cut")
    init_radius: float = option(0.1, "radius of the initial foreground guess around each "
                                     "positive seed, as a fraction of the image diagonal")


@dataclass(frozen=True)
class RandomWalkerOptions(SeededOptions):
    """Options of ``random-walker``."""

    beta: float = option(130.0, "random-walker edge weight parameter")
    tol: float = option(1e-3, "tolerance of the conjugate-gradient solver")


class SeededAdapter(Adapter):
    """Shared part of the classical baselines: parses the options (``options_class``),
    keeps the working-resolution image and rasterises the seeds; subclasses solve.

    Raises:
        UsageError: an unknown option or a value of the wrong type.
    """

    accepts = frozenset({"click", "scribble"})
    options_class = SeededOptions

    options: SeededOptions

    def __init__(self, **options: Any):
        self.options = parse_model_options(self.options_class, options, self.name)
        self.max_side: int = self.options.max_side
        self.seed_radius: float = self.options.seed_radius
        self._work: WorkingResolution | None = None
        self._image: np.ndarray | None = None

    def set_image(self, image: np.ndarray) -> None:
        self._work = WorkingResolution(image.shape[:2], self.max_side)
        self._image = self._work.down(image)

    def _working(self) -> tuple[WorkingResolution, np.ndarray]:
        if self._work is None or self._image is None:
            raise RuntimeError(f"{self.name}: predict called before set_image")
        return self._work, self._image

    def predict(self, interactions: Sequence[Interaction], prev_prob: np.ndarray) -> np.ndarray:
        """(H, W) float32 foreground probability after `interactions` (see Adapter)."""
        work, image = self._working()
        pos, neg = seed_masks(interactions, work, self.seed_radius)
        if not pos.any():   # no positive seed yet: nothing is foreground
            return work.up(np.zeros(pos.shape, np.float32))
        prev = work.down(prev_prob.astype(np.float32), cv2.INTER_LINEAR) > 0.49
        return work.up(self.solve(image, pos, neg, prev))

    def solve(self, image: np.ndarray, pos: np.ndarray, neg: np.ndarray,
              prev: np.ndarray) -> np.ndarray:
        """(h, w) float foreground probability from seeds at the working resolution (at
        least one positive seed)."""
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        """The name and every option, in the option class's field order."""
        return {"name": self.name, **options_dict(self.options)}


class GrabCutAdapter(SeededAdapter):
    """OpenCV GrabCut seeded by interactions; options: ``GrabCutOptions``."""

    name = "grabcut"
    options_class = GrabCutOptions
    options: GrabCutOptions

    def solve(self, image: np.ndarray, pos: np.ndarray, neg: np.ndarray,
              prev: np.ndarray) -> np.ndarray:
        guess = prev if prev.any() else self._initial_guess(pos)
        mask = np.where(guess, cv2.GC_PR_FGD, cv2.GC_PR_BGD).astype(np.uint8)
        mask[pos] = cv2.GC_FGD
        mask[neg] = cv2.GC_BGD
        if (mask == cv2.GC_BGD).any() or (mask == cv2.GC_PR_BGD).any():
            bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
            cv2.setRNGSeed(0)
            no_rect: Any = None   # the mask initialises GrabCut; no rectangle
            cv2.grabCut(np.ascontiguousarray(image[..., ::-1]), mask, no_rect, bgd, fgd,
                        self.options.iterations, cv2.GC_INIT_WITH_MASK)
        fg: np.ndarray = ((mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)).astype(np.float32)
        return fg

    def _initial_guess(self, pos: np.ndarray) -> np.ndarray:
        r = max(1, int(round(self.options.init_radius * float(np.hypot(*pos.shape)))))
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
        return cv2.dilate(pos.astype(np.uint8), kernel).astype(bool)


class RandomWalkerAdapter(SeededAdapter):
    """scikit-image random walker seeded by interactions; options: ``RandomWalkerOptions``."""

    name = "random-walker"
    options_class = RandomWalkerOptions
    options: RandomWalkerOptions

    def solve(self, image: np.ndarray, pos: np.ndarray, neg: np.ndarray,
              prev: np.ndarray) -> np.ndarray:
        labels = np.zeros(pos.shape, np.int32)
        if not neg.any():
            labels[[0, -1], :] = 2
            labels[:, [0, -1]] = 2
        labels[neg] = 2
        labels[pos] = 1
        if (labels == 0).sum() == 0:
            return pos.astype(np.float32)
        prob = random_walker(image.astype(np.float64) / 255.0, labels, beta=self.options.beta,
                             mode="bf", channel_axis=-1, return_full_prob=True)
        fg_prob: np.ndarray = prob[0].astype(np.float32)
        return fg_prob

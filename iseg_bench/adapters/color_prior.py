"""``color-prior``: the random walker plus a per-category colour model that proposes the
first click of each object, a classical learner for the sequential protocol (no torch).

Source: Lin et al., "Sequential Interactive Image Segmentation" (SIIS), Sec. 3.2 (initial-
click proposal, Eq. 2, with the click bank's feature similarity replaced by a colour
likelihood) and Sec. 3.3 (learning after every finished annotation, here by counting).
The colour model, likelihood and proposal rule: ``docs/models/baselines.md``.

Constants: ``DEFAULT_BINS`` = 16 levels per RGB channel (4096 bins), ``DEFAULT_ALPHA`` = 1
Laplace count per bin, ``DEFAULT_FILTER_FRAC`` = 0.05 (mean-filter side / working longer
side), ``DEFAULT_TIE_TOL`` = 0.02 (width of the near-maximal plateau).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from iseg_bench.adapters.classical import RandomWalkerAdapter, RandomWalkerOptions
from iseg_bench.adapters.seeds import WorkingResolution
from iseg_bench.geometry import padded_distance
from iseg_bench.options import option
from iseg_bench.types import Interaction

DEFAULT_BINS = 16  # levels per RGB channel -> 4096 colour bins
DEFAULT_ALPHA = 1.0  # Laplace smoothing, counts added to every bin
DEFAULT_FILTER_FRAC = 0.05  # mean-filter side as a fraction of the working longer side
DEFAULT_TIE_TOL = 0.02  # confidences within this of the maximum form the proposal plateau


@dataclass(frozen=True)
class ColorPriorOptions(RandomWalkerOptions):
    """Options of ``color-prior`` (besides the random walker's)."""

    bins: int = option(DEFAULT_BINS, "quantisation levels per RGB channel (2..256)")
    alpha: float = option(DEFAULT_ALPHA, "Laplace smoothing count per bin (> 0)")
    filter_frac: float = option(DEFAULT_FILTER_FRAC, "mean-filter side as a fraction of the "
                                                     "working image's longer side (>= 0)")
    tie_tol: float = option(DEFAULT_TIE_TOL, "width of the near-maximal plateau in "
                                             "confidence units (>= 0)")


class ColorPriorAdapter(RandomWalkerAdapter):
    """Random walker + per-category colour model that proposes the first click.

    Options: ``ColorPriorOptions`` (a filter_frac of 0 means no filtering).

    Raises:
        UsageError: an unknown option or a value of the wrong type.
        ValueError: an out-of-range option.
    """

    name = "color-prior"
    options_class = ColorPriorOptions
    options: ColorPriorOptions

    def __init__(self, **options: Any):
        super().__init__(**options)
        self.bins: int = self.options.bins
        self.alpha: float = self.options.alpha
        self.filter_frac: float = self.options.filter_frac
        self.tie_tol: float = self.options.tie_tol
        if not 2 <= self.bins <= 256 or self.alpha <= 0 or self.filter_frac < 0 \
                or self.tie_tol < 0:
            raise ValueError(f"color-prior: need 2 <= bins <= 256, alpha > 0, filter_frac >= 0;"
                             f" got {self.bins}, {self.alpha}, {self.filter_frac}")
        self._models: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    # -------------------------------------------------------------- colour model

    def bin_index(self, image: np.ndarray) -> np.ndarray:
        """(h, w) int64 colour-bin index of an (h, w, 3) uint8 RGB image, in [0, bins^3)."""
        q = image.astype(np.int64) * self.bins // 256
        index: np.ndarray = (q[..., 0] * self.bins + q[..., 1]) * self.bins + q[..., 2]
        return index

    def reset_learning(self) -> None:
        """Forget every learned category."""
        self._models.clear()

    def learned_categories(self) -> list[str]:
        """Categories with at least one learned annotation."""
        return sorted(self._models)

    def learn(self, image: np.ndarray, category: Any, mask: np.ndarray,
              clicks: Sequence[Interaction] = ()) -> None:
        """Add one finished annotation to the category's colour histograms.

        Args:
            image: (H, W, 3) uint8 RGB.
            category: category key (None: nothing is learned).
            mask: (H, W) bool annotation (final prediction or ground truth).
            clicks: the annotation's interactions (not used: the colour model counts the
                mask's pixels).

        Raises:
            ValueError: when the mask's shape differs from the image's.
        """
        if category is None:
            return
        if mask.shape != image.shape[:2]:
            raise ValueError(f"color-prior.learn: mask {mask.shape} vs image {image.shape[:2]}")
        work = WorkingResolution(image.shape[:2], self.max_side)
        small = work.down(image)
        small_mask = work.down(mask.astype(np.uint8), cv2.INTER_NEAREST).astype(bool)
        idx = self.bin_index(small)
        n = self.bins ** 3
        fg = np.bincount(idx[small_mask], minlength=n).astype(np.float64)
        bg = np.bincount(idx[~small_mask], minlength=n).astype(np.float64)
        old = self._models.get(str(category))
        if old is not None:
            fg, bg = fg + old[0], bg + old[1]
        self._models[str(category)] = (fg, bg)

    def likelihood(self, image: np.ndarray, category: Any) -> np.ndarray | None:
        """(h, w) float32 object likelihood in [0, 1] at the working resolution, or None
        when the category has not been learned."""
        model = self._models.get(str(category)) if category is not None else None
        if model is None or model[0].sum() == 0:
            return None
        fg, bg = model
        n = self.bins ** 3
        p_fg = (fg + self.alpha) / (fg.sum() + self.alpha * n)
        p_bg = (bg + self.alpha) / (bg.sum() + self.alpha * n)
        post = (p_fg / (p_fg + p_bg)).astype(np.float32)
        work = WorkingResolution(image.shape[:2], self.max_side)
        likelihood: np.ndarray = post[self.bin_index(work.down(image))]
        return likelihood

    def filter_size(self, work_shape: tuple[int, int]) -> int:
        """Odd side (px) of the mean filter at the working resolution."""
        side = int(round(self.filter_frac * max(work_shape)))
        return max(1, side + 1 - side % 2)

    def propose_click(self, image: np.ndarray, category: Any,
                      ignore: np.ndarray) -> tuple[int, int] | None:
        """SIIS initial-click proposal: (y, x) int pixel of maximal mean-filtered object
        likelihood outside `ignore`, or None (``docs/models/baselines.md``).

        Args:
            image: (H, W, 3) uint8 RGB.
            category: category key.
            ignore: (H, W) bool, pixels of instances already annotated in this image.
        """
        post = self.likelihood(image, category)
        if post is None:
            return None
        work = WorkingResolution(image.shape[:2], self.max_side)
        k = self.filter_size(post.shape)
        conf = cv2.blur(post, (k, k), borderType=cv2.BORDER_REFLECT) if k > 1 else post
        ign = work.down(ignore.astype(np.float32), cv2.INTER_AREA) > 0
        conf = np.where(ign, -1.0, conf)
        if conf.max() < 0:
            return None
        plateau = (conf >= conf.max() - self.tie_tol) & ~ign
        depth = padded_distance(plateau)
        wy, wx = np.unravel_index(int(np.argmax(depth)), depth.shape)
        h, w = image.shape[:2]
        y = min(h - 1, int((wy + 0.5) / work.scale))
        x = min(w - 1, int((wx + 0.5) / work.scale))
        return int(y), int(x)

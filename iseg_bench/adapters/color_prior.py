"""``color-prior``: a classical learner for the sequential protocol (no torch needed).

It keeps, per category, a colour model learned from finished annotations and uses it for
the SIIS initial-click proposal (Lin et al., "Sequential Interactive Image Segmentation",
Sec. 3.2, Eq. 2, with the click bank's feature similarity replaced by a colour likelihood);
segmentation is the plain random walker of ``adapters.classical.RandomWalkerAdapter``
(subclassed, not copied), so with proposals off it gives exactly the random walker's masks.

Colour model (``learn(image, category, mask)``; SIIS Sec. 3.3's "learn after every finished
annotation", here by counting instead of gradient steps)
    At the working resolution (longest side ``max_side`` = 320 px, the random walker's,
    image by area interpolation, mask by nearest neighbour) every pixel's RGB colour is
    quantised to ``bins`` = 16 levels per channel (bin = value * bins // 256, so 16^3 =
    4096 bins). The category's foreground histogram counts the pixels inside the
    annotation, its background histogram the pixels outside; histograms accumulate over
    every annotation learned for the category.

Object likelihood and proposal (``propose_click(image, category, ignore)``)
    With Laplace smoothing ``alpha`` = 1 count per bin, P(c | fg) = (n_fg(c) + alpha) /
    (N_fg + alpha * B) and likewise for the background; the object likelihood of a pixel
    is P(c | fg) / (P(c | fg) + P(c | bg)) (equal priors), in [0, 1]. The map is mean
    filtered with a square box of side ``filter_frac`` = 0.05 x the working image's longer
    side (rounded to an odd number >= 1 px, reflected border) -- SIIS Sec. 3.2: "a mean
    filtering on the confidence map before selecting the maximum point to prevent the
    occasional extreme points". Working pixels touched by the ignore mask (any covered
    original pixel) are excluded. A uniformly coloured object gives a plateau of equal
    maxima, where the first row-major maximum would sit on the object's top edge; so the
    proposal is the interior-most pixel (largest padded Euclidean distance to the
    plateau's border, ``robots.clicker.padded_distance``, first row-major on ties) of the
    near-maximal region {conf >= max - ``tie_tol``}, ``tie_tol`` = 0.02, mapped to the
    original pixel under its centre. No proposal (None) when the category has no
    learned annotation yet (SIIS's bank starts empty), when the category is None, or when
    every pixel is ignored.

``reset_learning()`` forgets every category; the sequential protocol calls it at the start
of each stream so streams stay independent.
"""

from __future__ import annotations

import cv2
import numpy as np

from iseg_bench.adapters.classical import RandomWalkerAdapter
from iseg_bench.adapters.seeds import WorkingResolution
from iseg_bench.geometry import padded_distance

DEFAULT_BINS = 16  # levels per RGB channel -> 4096 colour bins
DEFAULT_ALPHA = 1.0  # Laplace smoothing, counts added to every bin
DEFAULT_FILTER_FRAC = 0.05  # mean-filter side as a fraction of the working longer side
DEFAULT_TIE_TOL = 0.02  # confidences within this of the maximum form the proposal plateau


class ColorPriorAdapter(RandomWalkerAdapter):
    """Random walker + per-category colour model that proposes the first click.

    Args:
        bins: quantisation levels per RGB channel (2..256).
        alpha: Laplace smoothing count per bin (> 0).
        filter_frac: side of the mean filter as a fraction of the working image's longer
            side (>= 0; 0 = no filtering).
        tie_tol: width of the near-maximal plateau in confidence units (>= 0).
        **kwargs: RandomWalkerAdapter options (beta, tol, max_side, seed_radius).

    Raises:
        ValueError: on an out-of-range option.
    """

    name = "color-prior"

    def __init__(self, bins: int = DEFAULT_BINS, alpha: float = DEFAULT_ALPHA,
                 filter_frac: float = DEFAULT_FILTER_FRAC, tie_tol: float = DEFAULT_TIE_TOL,
                 **kwargs):
        super().__init__(**kwargs)
        self.bins = int(bins)
        self.alpha = float(alpha)
        self.filter_frac = float(filter_frac)
        self.tie_tol = float(tie_tol)
        if not 2 <= self.bins <= 256 or self.alpha <= 0 or self.filter_frac < 0 \
                or self.tie_tol < 0:
            raise ValueError(f"color-prior: need 2 <= bins <= 256, alpha > 0, filter_frac >= 0;"
                             f" got {bins}, {alpha}, {filter_frac}")
        self._models: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    # -------------------------------------------------------------- colour model

    def bin_index(self, image: np.ndarray) -> np.ndarray:
        """(h, w) int64 colour-bin index of an (h, w, 3) uint8 RGB image, in [0, bins^3)."""
        q = image.astype(np.int64) * self.bins // 256
        return (q[..., 0] * self.bins + q[..., 1]) * self.bins + q[..., 2]

    def reset_learning(self) -> None:
        """Forget every learned category."""
        self._models.clear()

    def learned_categories(self) -> list[str]:
        """Categories with at least one learned annotation."""
        return sorted(self._models)

    def learn(self, image: np.ndarray, category, mask: np.ndarray) -> None:
        """Add one finished annotation to the category's colour histograms.

        Args:
            image: (H, W, 3) uint8 RGB.
            category: category key (None: nothing is learned).
            mask: (H, W) bool annotation (ground truth or final prediction).

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

    def likelihood(self, image: np.ndarray, category) -> np.ndarray | None:
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
        return post[self.bin_index(work.down(image))]

    def filter_size(self, work_shape: tuple[int, int]) -> int:
        """Odd side (px) of the mean filter at the working resolution."""
        side = int(round(self.filter_frac * max(work_shape)))
        return max(1, side + 1 - side % 2)

    def propose_click(self, image: np.ndarray, category, ignore: np.ndarray):
        """SIIS initial-click proposal: (y, x) int pixel of maximal mean-filtered object
        likelihood outside `ignore`, or None (see module docstring).

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

    def describe(self) -> dict:
        return {**super().describe(), "bins": self.bins, "alpha": self.alpha,
                "filter_frac": self.filter_frac, "tie_tol": self.tie_tol}

"""ScribbleSeg's training scribble simulators: Bezier, axial and boundary strokes, their
mixture, stroke counts and thicknesses, the boundary strategies, iterative sampling on the
error regions of a previous mask, and the previous-mask sources.

Source: Chen et al., "ScribbleSeg", Sec. 3.3 ("Meta-simulators", "Scribble composition",
"Iterative sampling"), Sec. 4.3 and Tabs. 3-6. The paper gives the families, thickness
3-7 px, P(n) proportional to 0.8^n up to 16 strokes (Tab. 4), the axial + boundary share
0.2 (Tab. 5), the three boundary strategies (Tab. 6; protect is the best and our training
default) and prediction : perturbed ground truth = 1 : 0.4 (Tab. 3). Everything else (how
many Bezier control points, sub-path lengths, the split of the 0.2 between axial and
boundary, the perturbation sizes) is ours: docs/simulators.md lists each choice.

Constants: see the module-level names below (each commented with its source).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from iseg_bench.geometry import (
    bezier_chain,
    erode,
    label_components,
    rasterize_stroke,
    skeleton_path,
    stroke_footprint,
)

THICKNESS_RANGE = (3, 7)        # px, inclusive (Sec. 3.3)
MAX_STROKES = 16                # Tab. 4 (best row)
COUNT_DECAY = 0.8               # P(n) = 0.8 P(n - 1) (Sec. 4.3)
MIX_RATIO = 0.2                 # share of axial + boundary strokes (Tab. 5)
FAMILIES = ("bezier", "axial", "boundary")
STRATEGIES = ("allow", "clean", "protect")
PREV_SOURCE_WEIGHTS = {"prediction": 1.0, "perturbed": 0.4}     # Tab. 3 (best row)
# ours:
BEZIER_CONTROL_POINTS = (3, 4)  # number of random control points of a Bezier stroke
AXIAL_FRACTION = (0.5, 1.0)     # share of the skeleton's longest path an axial stroke covers
BOUNDARY_FRACTION = (0.2, 0.5)  # share of the boundary contour a boundary stroke covers
PERTURB_RADIUS = (0.02, 0.08)   # dilation / erosion radius as a share of sqrt(area)
SHIFT_FRACTION = 0.1            # largest translation as a share of the box side
ERASE_FRACTION = (0.1, 0.4)     # side of the erased box as a share of the box side

Strategy = Literal["allow", "clean", "protect"]


@dataclass(frozen=True)
class SimulatedStroke:
    """One simulated stroke.

    Attributes:
        chain: (N, 2) int64 (y, x) centre-line pixels, N >= 1, 8-connected for Bezier,
            axial and boundary paths.
        thickness: px, passed to ``geometry.rasterize_stroke``.
        family: "bezier", "axial" or "boundary".
        is_positive: the stroke's sign.
        painted: (H, W) bool, the pixels it paints (after "clean").
    """

    chain: np.ndarray
    thickness: int
    family: str
    is_positive: bool
    painted: np.ndarray


def stroke_count_probabilities(max_strokes: int = MAX_STROKES,
                               decay: float = COUNT_DECAY) -> np.ndarray:
    """(max_strokes,) float64 P(n) for n = 1..max_strokes, P(n) = decay P(n - 1), sum 1."""
    p = np.power(decay, np.arange(max_strokes, dtype=np.float64))
    probs: np.ndarray = p / p.sum()
    return probs


def family_probabilities(mix: float = MIX_RATIO) -> np.ndarray:
    """(3,) float64 probabilities of ``FAMILIES``: Bezier 1 - mix, axial and boundary mix / 2
    each (the even split is ours)."""
    return np.array([1.0 - mix, mix / 2, mix / 2])


@dataclass(frozen=True)
class ScribbleSimulator:
    """The composed training simulator (Sec. 3.3); all draws come from the generator passed
    in, so a seeded generator gives identical strokes.

    Attributes:
        strategy: Tab. 6's boundary strategy: "protect" (default: the stroke is drawn in the
            region eroded by its footprint, so it never paints outside), "clean" (drawn in
            the region, painted pixels outside it removed) or "allow" (drawn in the region,
            kept as painted).
        thickness_range: (low, high) px, inclusive.
        max_strokes, decay: the stroke-count law.
        mix: share of axial + boundary strokes.
    """

    strategy: Strategy = "protect"
    thickness_range: tuple[int, int] = THICKNESS_RANGE
    max_strokes: int = MAX_STROKES
    decay: float = COUNT_DECAY
    mix: float = MIX_RATIO

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {STRATEGIES}, got {self.strategy!r}")
        lo, hi = self.thickness_range
        if not 1 <= lo <= hi:
            raise ValueError(f"bad thickness range {self.thickness_range}")
        if self.max_strokes < 1 or not 0 < self.decay or not 0 <= self.mix <= 1:
            raise ValueError("max_strokes >= 1, decay > 0 and 0 <= mix <= 1 are required")

    # -- the random choices -----------------------------------------------------------------
    def stroke_count(self, rng: np.random.Generator) -> int:
        """n in 1..max_strokes with P(n) proportional to decay^n."""
        p = stroke_count_probabilities(self.max_strokes, self.decay)
        return int(rng.choice(len(p), p=p)) + 1

    def family(self, rng: np.random.Generator) -> str:
        """One of ``FAMILIES`` (``family_probabilities``)."""
        return FAMILIES[int(rng.choice(3, p=family_probabilities(self.mix)))]

    def thickness(self, rng: np.random.Generator) -> int:
        """Uniform integer in the inclusive thickness range."""
        lo, hi = self.thickness_range
        return int(rng.integers(lo, hi + 1))

    # -- one stroke -------------------------------------------------------------------------
    def stroke(self, rng: np.random.Generator, region: np.ndarray, is_positive: bool,
               family: str | None = None, thickness: int | None = None) -> SimulatedStroke:
        """One stroke in `region` ((H, W) bool, non-empty).

        Under "protect" the geometry is computed in the region eroded by the stroke's
        footprint (the thickness is lowered until that is non-empty), so the painted stroke
        lies in `region`; under "clean" the painted pixels are cut to `region`; under
        "allow" the control points, skeleton paths and contours lie in `region` but the
        painted stroke may leave it (and a Bezier curve may cut corners).

        Raises:
            ValueError: an empty region or an unknown family.
        """
        region = np.asarray(region, dtype=bool)
        if not region.any():
            raise ValueError("empty region")
        family = family or self.family(rng)
        if family not in FAMILIES:
            raise ValueError(f"family must be one of {FAMILIES}, got {family!r}")
        t = self.thickness(rng) if thickness is None else int(thickness)
        allowed = region
        if self.strategy == "protect":
            allowed = erode(region, stroke_footprint(t))
            while not allowed.any():
                t -= 1
                allowed = erode(region, stroke_footprint(t))
        chain = _FAMILY_CHAINS[family](rng, allowed, self.strategy == "protect")
        painted = rasterize_stroke(chain, t, region.shape)
        if self.strategy == "clean":
            painted &= region
        return SimulatedStroke(chain, t, family, bool(is_positive), painted)

    # -- iterative sampling -----------------------------------------------------------------
    def strokes(self, rng: np.random.Generator, target: np.ndarray,
                prev: np.ndarray | None = None, ignore: np.ndarray | None = None
                ) -> list[SimulatedStroke]:
        """The strokes of one training sample (Sec. 3.3, "Iterative sampling").

        Without a previous mask (or an empty one) the first stroke is positive in the target
        and the others go to the target or the background; with one, positive strokes go to
        its false negatives and negative strokes to its false positives. Each stroke picks
        its sign uniformly among the non-empty regions (ours; the first stroke from a void
        mask is positive), then an 8-connected component of that region with probability
        proportional to its area (ours).

        Args:
            target: (H, W) bool ground truth.
            prev: optional (H, W) bool previous mask.
            ignore: optional (H, W) bool pixels no stroke may be drawn in.

        Returns:
            ``stroke_count`` strokes, fewer when there is nothing to correct (none when both
            regions are empty).
        """
        target = np.asarray(target, dtype=bool)
        keep = np.ones_like(target) if ignore is None else ~np.asarray(ignore, dtype=bool)
        void = prev is None or not np.asarray(prev).any()
        pred = np.zeros_like(target) if void else np.asarray(prev, dtype=bool)
        regions = {True: target & ~pred & keep, False: ~target & pred & keep}
        if void:
            regions[False] = ~target & keep
        out: list[SimulatedStroke] = []
        for k in range(self.stroke_count(rng)):
            signs = [s for s in (True, False) if regions[s].any()]
            if not signs:
                break
            sign = True if (void and k == 0 and regions[True].any()) else \
                bool(signs[int(rng.integers(len(signs)))])
            out.append(self.stroke(rng, _pick_component(rng, regions[sign]), sign))
        return out


def scribble_maps(strokes: list[SimulatedStroke], shape: tuple[int, int]) -> np.ndarray:
    """(2, H, W) float32 maps of the painted positive and negative strokes."""
    maps = np.zeros((2, *shape), dtype=np.float32)
    for s in strokes:
        maps[0 if s.is_positive else 1][s.painted] = 1.0
    return maps


def _pick_component(rng: np.random.Generator, mask: np.ndarray) -> np.ndarray:
    comps = label_components(mask)
    sizes = comps.sizes[1:].astype(np.float64)
    k = int(rng.choice(len(sizes), p=sizes / sizes.sum())) + 1
    picked: np.ndarray = comps.mask(k)
    return picked


def _random_pixels(rng: np.random.Generator, mask: np.ndarray, k: int) -> np.ndarray:
    ys, xs = np.nonzero(mask)
    idx = rng.integers(len(ys), size=k)
    return np.stack([ys[idx], xs[idx]], 1).astype(np.float64)


def bezier_chain_in(rng: np.random.Generator, allowed: np.ndarray, keep_inside: bool
                    ) -> np.ndarray:
    """A Bezier curve through 3 or 4 random pixels of `allowed` (``BEZIER_CONTROL_POINTS``);
    kept inside `allowed` (``geometry.bezier_chain``'s split) when `keep_inside`.
    Returns int64 (N, 2) (y, x)."""
    lo, hi = BEZIER_CONTROL_POINTS
    ctrl = _random_pixels(rng, allowed, int(rng.integers(lo, hi + 1)))
    return bezier_chain(ctrl, allowed if keep_inside else None)


def axial_chain(rng: np.random.Generator, allowed: np.ndarray, keep_inside: bool
                ) -> np.ndarray:
    """A random contiguous part (share ``AXIAL_FRACTION``) of the longest path of the medial
    axis of `allowed` (``geometry.skeleton_path``, Alg. 1's path). Returns int64 (N, 2)."""
    path = skeleton_path(allowed).astype(np.int64)
    n = len(path)
    length = max(1, int(round(n * rng.uniform(*AXIAL_FRACTION))))
    start = int(rng.integers(n - length + 1))
    return path[start:start + length]


def boundary_chain(rng: np.random.Generator, allowed: np.ndarray, keep_inside: bool
                   ) -> np.ndarray:
    """A random arc (share ``BOUNDARY_FRACTION``) of the longest outer contour of `allowed`
    (its boundary pixels, in order; OpenCV ``findContours``, no approximation). Returns
    int64 (N, 2) (y, x) pixels of `allowed`."""
    contours, _ = cv2.findContours(allowed.astype(np.uint8), cv2.RETR_EXTERNAL,
                                   cv2.CHAIN_APPROX_NONE)
    contour = max(contours, key=len)[:, 0, ::-1].astype(np.int64)   # (y, x)
    n = len(contour)
    length = max(1, int(round(n * rng.uniform(*BOUNDARY_FRACTION))))
    start = int(rng.integers(n))
    return contour[(start + np.arange(length)) % n]


_FAMILY_CHAINS = {"bezier": bezier_chain_in, "axial": axial_chain, "boundary": boundary_chain}


# -- previous masks ---------------------------------------------------------------------------

def previous_mask_source(rng: np.random.Generator) -> str:
    """"prediction" (the model's own iterative prediction) or "perturbed" (a perturbed
    ground truth) in the ratio 1 : 0.4 (Tab. 3)."""
    names = list(PREV_SOURCE_WEIGHTS)
    w = np.array([PREV_SOURCE_WEIGHTS[n] for n in names])
    return names[int(rng.choice(len(names), p=w / w.sum()))]


def _disc(radius: int) -> np.ndarray:
    yy, xx = np.mgrid[-radius:radius + 1, -radius:radius + 1]
    disc: np.ndarray = ((yy ** 2 + xx ** 2) <= radius ** 2).astype(np.uint8)
    return disc


def perturb_mask(rng: np.random.Generator, target: np.ndarray) -> np.ndarray:
    """A flawed copy of the ground truth (Sec. 3.3: "random dilation, erosion, translation,
    and local erasing").

    Each of three steps happens with probability 1/2 (at least one always does; ours):
    dilation or erosion (equally likely) by a disc of radius ``PERTURB_RADIUS`` x
    sqrt(area) px (at least 1); a translation by up to ``SHIFT_FRACTION`` of the object's
    box in each direction (zeros shifted in); erasing a random box of ``ERASE_FRACTION`` of
    the object's box sides placed inside that box.

    Args:
        target: (H, W) bool, non-empty.

    Returns:
        (H, W) bool.
    """
    target = np.asarray(target, dtype=bool)
    ys, xs = np.nonzero(target)
    if len(ys) == 0:
        return target.copy()
    bh, bw = int(ys.max() - ys.min() + 1), int(xs.max() - xs.min() + 1)
    steps = rng.random(3) < 0.5
    if not steps.any():
        steps[int(rng.integers(3))] = True
    out: np.ndarray = target.astype(np.uint8)
    if steps[0]:
        r = max(1, int(round(rng.uniform(*PERTURB_RADIUS) * np.sqrt(len(ys)))))
        op = cv2.dilate if rng.random() < 0.5 else cv2.erode
        out = np.asarray(op(out, _disc(r)), dtype=np.uint8)
    if steps[1]:
        dy = int(rng.integers(-int(SHIFT_FRACTION * bh), int(SHIFT_FRACTION * bh) + 1))
        dx = int(rng.integers(-int(SHIFT_FRACTION * bw), int(SHIFT_FRACTION * bw) + 1))
        shifted = np.zeros_like(out)
        h, w = out.shape
        shifted[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
            out[max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
        out = shifted
    if steps[2]:
        eh = max(1, int(round(bh * rng.uniform(*ERASE_FRACTION))))
        ew = max(1, int(round(bw * rng.uniform(*ERASE_FRACTION))))
        y0 = int(ys.min() + rng.integers(bh - eh + 1))
        x0 = int(xs.min() + rng.integers(bw - ew + 1))
        out[y0:y0 + eh, x0:x0 + ew] = 0
    return out.astype(bool)

"""The ScribbleSeg deterministic scribbler: one stroke on the largest error region.

Source: Chen et al., "ScribbleSeg: Scribble-based Interactive Image Segmentation", Sec. 3.4
("Deterministic scribble-simulator"), Alg. 1, and Tab. 6 (boundary strategies; "Protect
Boundary" is the paper's best and our default). Alg. 1 descends from the DAVIS interactive
robot (Caelles et al. 2018), from which the neighbourhood radius sqrt(2) is taken.

One stroke, step by step (Alg. 1 line numbers in brackets):

1. Error region [line 1, "max(error_mask)"]. FN = target & ~pred & ~ignore and FP =
   ~target & pred & ~ignore are split into 8-connected components; the largest component
   over both types is chosen. Ties: equal sizes go to FN (a positive stroke) first, then to
   the component whose first pixel in raster order comes first (the same rule as
   ``clicker.LargestRegionCenterClicker``). FN gives a positive stroke, FP a negative one.
   First interaction (empty history): the prediction is taken as all background, so the
   region is the largest component of the (non-ignored) target. When nothing is wrong
   (no FN and no FP pixel) the stroke re-affirms the object: it is drawn as on the first
   interaction (raises SampleError only when the target is empty outside the ignore mask).
2. Boundary strategy (Tab. 6). The "true region" of the stroke is target & ~ignore for a
   positive stroke and ~target & ~ignore for a negative one; F is the stroke footprint (see
   ``stroke_footprint``: the smallest disc that contains everything ``masks.rasterize_stroke``
   paints around a centre-line pixel).
   - "protect" (default): the centre line must lie in E = component & erode(true region, F),
     so the painted stroke never leaves the true region. The erosion radius is the
     footprint radius, derived from the rasteriser at run time (so it follows any change to
     it): with the current ``rasterize_stroke`` (1-px centre line dilated by a t x t
     elliptical kernel) F is that kernel, i.e. radius 1 px (the 5-pixel cross) for the
     default thickness 3, radius sqrt(5) px for thickness 5.
   - "clean": the stroke is computed on the whole component, then the parts whose
     footprint leaves the true region are removed; the longest remaining run (by length in
     px; ties: the first along the curve) is kept. If nothing remains, "protect" is used.
   - "allow": the stroke is computed on the whole component and kept as is (it may cross
     the boundary by up to the footprint radius, and a curved Bezier may cut corners).
3. Medial axis of E [line 2]: ``graph_paths.medial_axis`` (skimage's algorithm with a fixed
   tie-breaking seed, MEDIAL_AXIS_SEED = 0), with the region padded by one background pixel so
   that the image border counts as background.
4. Radius-neighbour graph over the skeleton pixels [line 3], radius sqrt(2) px by default
   (distance <= radius), edge weight = Euclidean distance.
5. Cycles removed per connected sub-graph [lines 4-11]: the heaviest edge of a cycle goes
   first (ties by node numbers), computed as the minimum spanning forest, which is provably
   the same graph (``graph_paths.minimum_spanning_forest``).
6. Longest shortest path [lines 12-17]: the weighted diameter of the forest with two
   traversals (``graph_paths.longest_path_in_forest``); ``path_method="every_node"`` runs
   the literal every-node loop instead (same length; used as oracle and benchmark baseline).
7. Bezier curve [line 18] with the path's pixels as control points (degree n = K - 1),
   evaluated in the Bernstein basis in log space (``bezier_curve``: log-binomials from
   ``gammaln``, no overflow or underflow for any n; the basis is truncated to a band of
   half-width ceil(sqrt(14.5 n)) + 1 around n*t, whose neglected mass is below
   BAND_TAIL = 1e-12 by Hoeffding's bound, then renormalised). Sampling density: a piece of
   degree m whose control polygon's largest per-coordinate step is c (1 px on a skeleton)
   is sampled at S = floor(m c) + 2 uniform parameter values, about one sample per control
   point; each coordinate of B'(t) is bounded by m c, so consecutive samples differ by
   less than 1 px per coordinate and the rounded samples form an 8-connected pixel chain
   (``_piece_parameters``). Under "protect" a piece whose
   rounded samples leave E is split at its middle control point into two Bezier pieces that
   share it (a composite Bezier curve, still with the path's pixels as control points),
   recursively; a piece of two control points is the segment between two 8-adjacent skeleton
   pixels, which lies in E, so the recursion always ends inside E. (With a radius >= 2 px,
   consecutive path pixels may be farther apart; a straight segment between them that
   leaves E is cut, keeping the longest run of the chain inside E.)
8. The stroke: ``Scribble(points, is_positive, thickness)`` whose points are that pixel chain
   (float64 (N, 2) (y, x), consecutive duplicates removed), drawn by
   ``masks.rasterize_stroke`` with the given thickness (3 by default, as in Sec. 3.4).
   Because every chain pixel lies in E and consecutive chain pixels are 8-adjacent, the
   painted stroke lies in the union of footprints at chain pixels, i.e. in the true region.
   Degenerate regions: if E is empty at the requested thickness (a component thinner than
   the stroke), the thickness is reduced one step at a time until E is non-empty; at
   thickness 1 the footprint is one pixel and E is the whole component, so a stroke always
   exists. A skeleton of one or two pixels gives a one- or two-point stroke.

The robot is a pure, deterministic function of (target, ignore, pred, whether history is
empty). All work is done on a crop around the chosen component (margin = footprint radius
+ 2 px, crop origin at even coordinates so that numpy's round-half-to-even is unchanged by
the shift), so the cost scales with the component, not with the image.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

import cv2
import numpy as np
from scipy.special import gammaln

from iseg_bench.errors import SampleError
from iseg_bench.masks import error_masks, rasterize_stroke
from iseg_bench.robots.base import Robot
from iseg_bench.robots.graph_paths import (
    DEFAULT_RADIUS,
    MEDIAL_AXIS_SEED,
    medial_axis,
    skeleton_longest_path,
)
from iseg_bench.types import Interaction, Scribble

BOUNDARY_MODES = ("protect", "clean", "allow")
#: Under "protect", every COARSE_STRIDE-th Bezier sample is checked before all of them.
COARSE_STRIDE = 8
#: Bernstein mass neglected outside the evaluated band (Hoeffding: 2 exp(-2 (w-1/2)^2 / n)).
BAND_TAIL = 1e-12
_BAND_C = math.log(2.0 / BAND_TAIL) / 2.0      # (w - 1/2)^2 >= n * _BAND_C  (about 14.5)
#: Connectivity of error components (8, as the field's click robots).
CONNECTIVITY = 8

_STEPS = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]


# ---------------------------------------------------------------------------------------
# Stroke footprint
# ---------------------------------------------------------------------------------------

@lru_cache(maxsize=32)
def stroke_footprint(thickness: int) -> np.ndarray:
    """The disc F such that a stroke drawn by ``masks.rasterize_stroke`` through an
    8-connected chain of integer pixels lies inside the union of F placed at chain pixels.

    Derived from the rasteriser itself: every chain of one pixel or of one or two unit steps
    (8-neighbour moves, including repeats) is drawn, and rho^2 is the largest squared
    distance from a painted pixel to the nearest chain pixel; F = {(dy, dx): dy^2 + dx^2 <=
    rho^2}. (A longer polyline is drawn segment by segment, so the property extends; the
    tests check it on random chains.) With the current rasteriser (centre line dilated by a
    t x t ellipse): thickness 1 -> rho^2 = 0 (one pixel), 2 and 3 -> 1 (the 5-pixel cross),
    4 and 5 -> 5 (21 pixels), 7 -> 10.

    Args:
        thickness: stroke width in pixels (>= 1).

    Returns:
        (2R+1, 2R+1) uint8 structuring element, R = floor(rho), centred.
    """
    if thickness < 1:
        raise ValueError(f"thickness must be >= 1, got {thickness}")
    size = 4 * thickness + 9
    c = size // 2
    rho2 = 0
    chains = [[(0, 0)]] + [[(0, 0), a] for a in _STEPS] + [
        [(0, 0), a, (a[0] + b[0], a[1] + b[1])] for a in _STEPS for b in _STEPS]
    for chain in chains:
        pts = np.array(chain, dtype=np.float64) + c
        painted = np.argwhere(rasterize_stroke(pts, thickness, (size, size)))
        d2 = ((painted[:, None, :] - pts[None, :, :]) ** 2).sum(-1).min(1)
        rho2 = max(rho2, int(round(d2.max())))
    r = int(math.isqrt(rho2))
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    return ((yy ** 2 + xx ** 2) <= rho2).astype(np.uint8)


def footprint_radius(thickness: int) -> float:
    """Radius in pixels of ``stroke_footprint(thickness)`` (the Protect-Boundary erosion)."""
    fp = stroke_footprint(thickness)
    r = fp.shape[0] // 2
    yy, xx = np.nonzero(fp)
    return float(np.sqrt(((yy - r) ** 2 + (xx - r) ** 2).max()))


def _erode(mask: np.ndarray, footprint: np.ndarray) -> np.ndarray:
    """Binary erosion; pixels outside the array do not erode (they are never painted)."""
    if footprint.shape == (1, 1):
        return mask.copy()
    return cv2.erode(mask.astype(np.uint8), footprint).astype(bool)


# ---------------------------------------------------------------------------------------
# Bezier curves
# ---------------------------------------------------------------------------------------

_LOG_FACTORIALS = gammaln(np.arange(4097, dtype=np.float64) + 1.0)


def _log_factorials(n: int) -> np.ndarray:
    """log(k!) for k = 0..n (float64 (n + 1,)), from a table grown on demand."""
    global _LOG_FACTORIALS
    if n >= len(_LOG_FACTORIALS):
        _LOG_FACTORIALS = gammaln(np.arange(2 * n + 1, dtype=np.float64) + 1.0)
    return _LOG_FACTORIALS[:n + 1]


def bezier_curve(control: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Points of the Bezier curve with control points `control` at parameters `t`.

    Evaluated in the Bernstein basis computed in log space (log C(n, i) from ``gammaln``,
    plus i log t + (n - i) log(1 - t)), which does not overflow (unlike C(n, i) for
    n > 1029) and does not underflow to 0 * inf (t = 0 and t = 1 give the end points
    exactly). For each t only the band
    |i - round(n t)| <= ceil(sqrt(14.5 n)) + 1 is evaluated; the neglected mass is below
    BAND_TAIL = 1e-12 (Hoeffding), and the band weights are renormalised to sum to 1.

    Args:
        control: (n + 1, 2) float (y, x) control points, n >= 0.
        t: (S,) float parameters in [0, 1].

    Returns:
        (S, 2) float64 points.
    """
    ctrl = np.asarray(control, dtype=np.float64).reshape(-1, 2)
    t = np.asarray(t, dtype=np.float64).reshape(-1)
    n = len(ctrl) - 1
    out = np.repeat(ctrl[:1], len(t), axis=0)
    if n == 0:
        return out
    out[t >= 1.0] = ctrl[n]
    inner = (t > 0.0) & (t < 1.0)
    ti = t[inner]
    if len(ti) == 0:
        return out
    half = int(math.ceil(math.sqrt(_BAND_C * n))) + 1
    width = min(2 * half + 1, n + 1)
    lo = np.clip(np.round(n * ti).astype(np.int64) - half, 0, n + 1 - width)
    idx = lo[:, None] + np.arange(width)[None, :]
    lg = _log_factorials(n)
    log_binom = lg[n] - lg - lg[::-1]                   # log C(n, i), i = 0..n
    log_t, log_1mt = np.log(ti), np.log1p(-ti)
    # log B_{n,i}(t) = log C(n, i) + i log t + (n - i) log(1 - t)
    log_b = log_binom[idx] + idx * (log_t - log_1mt)[:, None]
    log_b += (n * log_1mt)[:, None]
    log_b -= log_b.max(axis=1, keepdims=True)
    b = np.exp(log_b)
    b /= b.sum(axis=1, keepdims=True)
    out[inner] = np.stack([(b * ctrl[idx, 0]).sum(axis=1), (b * ctrl[idx, 1]).sum(axis=1)],
                          axis=1)
    return out


def _piece_parameters(ctrl: np.ndarray) -> np.ndarray:
    """Sample parameters of one Bezier piece: S = floor(m c) + 2 uniform values in [0, 1].

    m = degree, c = the largest per-coordinate step of the control polygon (1 px for a
    skeleton path with radius sqrt(2)). Each coordinate of B'(t) = m sum_i (P_{i+1} - P_i)
    B_{m-1,i}(t) is at most m c in magnitude, so consecutive samples differ by less than
    1 px in each coordinate and round to equal or 8-adjacent pixels.
    """
    m = len(ctrl) - 1
    c = float(np.abs(np.diff(ctrl, axis=0)).max())
    return np.linspace(0.0, 1.0, int(math.floor(m * c)) + 2)


def _sample_piece(ctrl: np.ndarray) -> np.ndarray:
    """Rounded samples (int64 (S, 2)) of one Bezier piece, an 8-connected pixel chain
    (a single point, or two 8-adjacent integer points, are returned as they are)."""
    if len(ctrl) == 1 or (len(ctrl) == 2 and np.abs(ctrl[1] - ctrl[0]).max() <= 1
                          and np.array_equal(ctrl, np.round(ctrl))):
        return np.round(ctrl).astype(np.int64)
    return np.round(bezier_curve(ctrl, _piece_parameters(ctrl))).astype(np.int64)


def _inside(chain: np.ndarray, allowed: np.ndarray) -> bool:
    h, w = allowed.shape
    if (chain.min() < 0) or (chain[:, 0].max() >= h) or (chain[:, 1].max() >= w):
        return False
    return bool(allowed[chain[:, 0], chain[:, 1]].all())


def bezier_chain(control: np.ndarray, allowed: np.ndarray | None = None) -> np.ndarray:
    """The Bezier stroke through `control` as an 8-connected chain of integer pixels.

    Without `allowed`: one Bezier curve of degree K - 1, sampled as in
    ``_piece_parameters``. With `allowed`: composite Bezier curve, refined until every
    rounded sample lies in `allowed` (a piece that leaves it is split at its middle control
    point; a piece of two control points is the straight segment, kept as it is). Every
    COARSE_STRIDE-th sample is checked first, so that a piece that leaves `allowed` is
    usually rejected at 1/COARSE_STRIDE of the cost (same decision: the coarse samples are a
    subset). When the control points are integer pixels in `allowed` and consecutive ones
    are 8-adjacent (a skeleton path with radius < 2) the refinement always ends inside;
    otherwise (a segment between two distant control points leaves `allowed`) only the
    longest run of the chain inside `allowed` is returned, which still contains a control
    point.

    Args:
        control: (K, 2) float (y, x) control points, K >= 1.
        allowed: optional (H, W) bool in the control points' coordinate frame.

    Returns:
        int64 (N, 2) (y, x) pixel chain, consecutive duplicates removed.
    """
    ctrl = np.asarray(control, dtype=np.float64).reshape(-1, 2)
    if allowed is None:
        return _dedupe(_sample_piece(ctrl))
    pieces: list[np.ndarray] = []
    stack = [(0, len(ctrl) - 1)]
    while stack:
        a, b = stack.pop()
        piece = ctrl[a:b + 1]
        if b - a <= 1:
            pieces.append(_sample_piece(piece))
            continue
        t = _piece_parameters(piece)
        ok = True
        if len(t) > 4 * COARSE_STRIDE:
            coarse = np.round(bezier_curve(piece, t[::COARSE_STRIDE])).astype(np.int64)
            ok = _inside(coarse, allowed)
        if ok:
            chain = np.round(bezier_curve(piece, t)).astype(np.int64)
            ok = _inside(chain, allowed)
        if ok:
            pieces.append(chain)
        else:
            mid = (a + b) // 2
            stack.append((mid, b))      # popped second: keeps the pieces in curve order
            stack.append((a, mid))
    chain = _dedupe(np.concatenate(pieces, axis=0))
    h, w = allowed.shape
    ok = ((chain[:, 0] >= 0) & (chain[:, 0] < h) & (chain[:, 1] >= 0) & (chain[:, 1] < w))
    ok[ok] = allowed[chain[ok, 0], chain[ok, 1]]
    if not ok.all():        # only with control points more than one pixel apart
        chain = _longest_run(chain, ok)
    return chain


def _dedupe(chain: np.ndarray) -> np.ndarray:
    keep = np.ones(len(chain), dtype=bool)
    keep[1:] = np.any(chain[1:] != chain[:-1], axis=1)
    return chain[keep]


def _longest_run(chain: np.ndarray, ok: np.ndarray) -> np.ndarray | None:
    """The longest run (in px along the chain; ties: the first) of consecutive ok pixels."""
    if not ok.any():
        return None
    step = np.zeros(len(chain))
    step[1:] = np.hypot(*np.diff(chain, axis=0).T)
    best, best_len, start = None, -1.0, None
    for k in range(len(chain) + 1):
        if k < len(chain) and ok[k]:
            if start is None:
                start = k
        elif start is not None:
            length = float(step[start + 1:k].sum())
            if length > best_len:
                best, best_len = (start, k), length
            start = None
    return chain[best[0]:best[1]]


# ---------------------------------------------------------------------------------------
# Error region (Alg. 1 line 1)
# ---------------------------------------------------------------------------------------

def largest_error_component(target: np.ndarray, ignore: np.ndarray, pred: np.ndarray,
                            first: bool = False) -> tuple[np.ndarray, bool] | None:
    """The largest 8-connected FN or FP component (Alg. 1 line 1).

    Ties: larger first, then FN before FP, then the component whose first pixel in raster
    order comes first.

    Args:
        target, ignore, pred: (H, W) bool.
        first: treat `pred` as all background (first interaction).

    Returns:
        ((H, W) bool component, is_positive), or None when there is no FN/FP pixel.
    """
    if first:
        pred = np.zeros_like(target)
    best = None     # (key, is_positive, label, labels, crop origin)
    for is_positive, err in zip((True, False), error_masks(target, pred, ignore)):
        rows, cols = np.flatnonzero(err.any(axis=1)), np.flatnonzero(err.any(axis=0))
        if len(rows) == 0:
            continue
        oy, ox = int(rows[0]), int(cols[0])
        crop = err[oy:rows[-1] + 1, ox:cols[-1] + 1]
        _, labels = cv2.connectedComponents(crop.astype(np.uint8), connectivity=CONNECTIVITY,
                                            ltype=cv2.CV_32S)
        sizes = np.bincount(labels.ravel())
        sizes[0] = 0
        for k in np.flatnonzero(sizes == sizes.max()):
            fy, fx = divmod(int(np.argmax(labels == k)), labels.shape[1])
            key = (-int(sizes[k]), not is_positive, (oy + fy) * target.shape[1] + ox + fx)
            if best is None or key < best[0]:
                best = (key, is_positive, k, labels, (oy, ox))
    if best is None:
        return None
    _, is_positive, k, labels, (oy, ox) = best
    component = np.zeros(target.shape, dtype=bool)
    component[oy:oy + labels.shape[0], ox:ox + labels.shape[1]] = labels == k
    return component, is_positive


# ---------------------------------------------------------------------------------------
# One stroke in a given region (Alg. 1 lines 2-18)
# ---------------------------------------------------------------------------------------

def _bbox(mask: np.ndarray) -> tuple[int, int, int, int]:
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def _skeleton_path(region: np.ndarray, radius: float, seed: int,
                   path_method: str) -> np.ndarray:
    """Alg. 1 lines 2-17 on a non-empty region: path pixels (K, 2) float64, K >= 1."""
    skel = medial_axis(np.pad(region, 1), seed)[1:-1, 1:-1]
    if not skel.any():      # defensive: a medial axis of a non-empty region is non-empty
        dist = cv2.distanceTransform(np.pad(region, 1).astype(np.uint8), cv2.DIST_L2, 5)
        y, x = np.unravel_index(int(np.argmax(dist)), dist.shape)
        return np.array([[y - 1, x - 1]], dtype=np.float64)
    points, _ = skeleton_longest_path(skel, radius, path_method)
    return points


def scribble_in_region(component: np.ndarray, true_region: np.ndarray, is_positive: bool,
                       thickness: int = 3, boundary: str = "protect",
                       radius: float = DEFAULT_RADIUS, seed: int = MEDIAL_AXIS_SEED,
                       path_method: str = "diameter", region_id: int | None = None
                       ) -> Scribble:
    """One ScribbleSeg stroke (Alg. 1 lines 2-18) in an error component.

    Usable on its own (e.g. by a full-image robot for one region).

    Args:
        component: (H, W) bool, the error component to scribble on (non-empty).
        true_region: (H, W) bool, the pixels of the stroke's true class that may be touched
            (target & ~ignore for a positive stroke, ~target & ~ignore for a negative one);
            must contain `component` for the "protect"/"clean" guarantees.
        is_positive: sign of the stroke.
        thickness: stroke width in px (>= 1) given to ``rasterize_stroke``.
        boundary: "protect", "clean" or "allow" (see the module docstring).
        radius: radius of the skeleton's neighbour graph in px.
        seed: medial-axis tie-breaking seed.
        path_method: "diameter" or "every_node" (same path length).
        region_id: stored in ``Scribble.region``.

    Returns:
        Scribble with (N, 2) float64 integer-valued (y, x) points, N >= 1; its thickness is
        `thickness`, or smaller for a region too thin for it under "protect"/"clean".

    Raises:
        ValueError: empty component, bad shapes, thickness < 1 or an unknown mode.
    """
    if boundary not in BOUNDARY_MODES:
        raise ValueError(f"boundary must be one of {BOUNDARY_MODES}, got {boundary!r}")
    if int(thickness) < 1:
        raise ValueError(f"thickness must be >= 1, got {thickness}")
    thickness = int(thickness)
    component = np.asarray(component, dtype=bool)
    true_region = np.asarray(true_region, dtype=bool)
    if component.shape != true_region.shape or component.ndim != 2:
        raise ValueError(f"component {component.shape} and true_region "
                         f"{true_region.shape} must be the same (H, W)")
    if not component.any():
        raise ValueError("empty error component")
    h, w = component.shape
    margin = stroke_footprint(thickness).shape[0] // 2 + 2
    top, bottom, left, right = _bbox(component)
    y0, x0 = max(0, top - margin), max(0, left - margin)
    y0, x0 = y0 - y0 % 2, x0 - x0 % 2
    y1, x1 = min(h, bottom + margin), min(w, right + margin)
    comp = component[y0:y1, x0:x1]
    true_c = true_region[y0:y1, x0:x1]

    def protected() -> tuple[np.ndarray, int]:
        for th in range(thickness, 0, -1):
            allowed = comp & _erode(true_c, stroke_footprint(th))
            if allowed.any():
                break
        else:   # only if the rasteriser paints more than one pixel at thickness 1
            raise AssertionError("no thickness fits the region")
        ctrl = _skeleton_path(allowed, radius, seed, path_method)
        return bezier_chain(ctrl, allowed), th

    if boundary == "protect":
        chain, used = protected()
    else:
        ctrl = _skeleton_path(comp, radius, seed, path_method)
        chain, used = bezier_chain(ctrl), thickness
        if boundary == "clean":
            safe = _erode(true_c, stroke_footprint(thickness))
            run = _longest_run(chain, safe[chain[:, 0], chain[:, 1]])
            chain, used = (protected() if run is None else (run, thickness))
    points = (chain + np.array([y0, x0])).astype(np.float64)
    return Scribble(points, bool(is_positive), used, region_id)


# ---------------------------------------------------------------------------------------
# The robot
# ---------------------------------------------------------------------------------------

class MedialAxisScribbler(Robot):
    """ScribbleSeg's deterministic scribble simulator (Sec. 3.4, Alg. 1; Tab. 6 boundary
    strategies). See the module docstring for every step, constant and tie rule.

    Args:
        thickness: stroke width in px given to ``masks.rasterize_stroke`` (default 3, as in
            Sec. 3.4).
        boundary: "protect" (default; Tab. 6's "Protect Boundary"), "clean" or "allow".
        radius: radius of the skeleton's neighbour graph in px (default sqrt(2)).
        medial_axis_seed: tie-breaking seed of the medial axis (default 0).
        path_method: "diameter" (default, two traversals) or "every_node" (Alg. 1's literal
            loop; same path length, slower; for checks and benchmarks).

    ``next_interaction`` returns a ``Scribble`` (points (N, 2) float64 (y, x), N >= 1).
    """

    name = "scribbler"
    kind = "scribble"

    def __init__(self, thickness: int = 3, boundary: str = "protect",
                 radius: float = DEFAULT_RADIUS, medial_axis_seed: int = MEDIAL_AXIS_SEED,
                 path_method: str = "diameter"):
        if boundary not in BOUNDARY_MODES:
            raise ValueError(f"boundary must be one of {BOUNDARY_MODES}, got {boundary!r}")
        if int(thickness) != thickness or thickness < 1:
            raise ValueError(f"thickness must be an int >= 1, got {thickness}")
        if not radius > 0:
            raise ValueError(f"radius must be > 0, got {radius}")
        if path_method not in ("diameter", "every_node"):
            raise ValueError(f"path_method must be 'diameter' or 'every_node', "
                             f"got {path_method!r}")
        self.thickness = int(thickness)
        self.boundary = boundary
        self.radius = float(radius)
        self.medial_axis_seed = int(medial_axis_seed)
        self.path_method = path_method

    def describe(self) -> dict:
        return {"name": self.name, "thickness": self.thickness, "boundary": self.boundary,
                "radius": self.radius, "medial_axis_seed": self.medial_axis_seed,
                "path_method": self.path_method}

    def next_interaction(self, target: np.ndarray, ignore: np.ndarray, pred: np.ndarray,
                         history: Sequence[Interaction]) -> Scribble:
        """The next stroke (see the module docstring).

        Args:
            target, ignore, pred: (H, W) bool (pred is ignored when history is empty).
            history: earlier interactions; only its emptiness is used.

        Returns:
            Scribble (points (N, 2) float64 (y, x), is_positive, thickness).

        Raises:
            ValueError: shapes differ or are not 2-D.
            SampleError: the target is empty outside the ignore mask and nothing is wrong.
        """
        target = np.asarray(target, dtype=bool)
        ignore = np.asarray(ignore, dtype=bool)
        pred = np.asarray(pred, dtype=bool)
        if target.ndim != 2 or target.shape != ignore.shape or target.shape != pred.shape:
            raise ValueError(f"target {target.shape}, ignore {ignore.shape} and pred "
                             f"{pred.shape} must be the same (H, W)")
        found = largest_error_component(target, ignore, pred, first=len(history) == 0)
        if found is None:       # nothing wrong: re-affirm the object
            found = largest_error_component(target, ignore, pred, first=True)
        if found is None:
            raise SampleError("the target is empty outside the ignore mask: no stroke")
        component, is_positive = found
        true_region = (target if is_positive else ~target) & ~ignore
        return scribble_in_region(component, true_region, is_positive, self.thickness,
                                  self.boundary, self.radius, self.medial_axis_seed,
                                  self.path_method)

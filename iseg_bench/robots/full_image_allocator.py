"""The full-image scribble allocator: error regions, their importance, the Sec. 4 scribble
simulation and the two allocation strategies of Sec. 5.3.

Source: Agustsson, Uijlings and Ferrari, "Interactive Full Image Segmentation by Considering
All Regions Jointly", CVPR 2019 (below: "the paper"), Sec. 4 ("Scribble corrections",
Fig. 4) and Sec. 5.3 ("Interactive scribble corrections", Fig. 5).

Error regions (Sec. 4)
    For a ground-truth region t, its error regions are the 8-connected components of
    (target == t) & (pred != t) & ~ignore: connected groups of pixels of t that the
    prediction assigns to any other region (or to no region, 0). Ignored pixels are never
    part of an error region.

Importance (Sec. 4)
    The gain in the image's mean IoU (over its N ground-truth regions, IoU counted on
    non-ignored pixels as ``masks.iou``) if the error region E of region t were completely
    corrected, i.e. E relabelled t: IoU_t gains |E| / U_t (its union is unchanged), and
    every region j that E was predicted as loses |E & pred == j| false-positive pixels from
    its union: IoU_j = I_j / (U_j - c_j). gain = (sum of the IoU changes) / N. Computed from
    one confusion matrix, exactly (tests compare it with relabelling and rescoring).
    Ranking: larger gain first; ties by larger size, smaller region id, then the earlier
    first pixel in raster order.

Scribble simulation (Sec. 4, Fig. 4), for an error region E of region t
    true region T = (target == t) & ~ignore; correct part C = T & (pred == t).
    1. The first point P0 is drawn uniformly from the pixels of C that touch E (8-adjacent):
       "on the border of the error region that touches the ground-truth region", on the
       current prediction of t (Fig. 4 caption). Fallback when E touches no pixel of C
       (region t is nowhere predicted next to E): P0 is drawn from E's own border pixels
       (pixels of E with a 4-neighbour outside E, or E itself when it has no such pixel).
    2. Two more points are drawn uniformly from E (independently, with replacement).
    3. A quadratic Bezier curve through the three points: it starts at P0, passes through
       the nearer of the two points at parameter 1/2 (control point 2 M - (P0 + P_end) / 2)
       and ends at the farther one; it is sampled as an 8-connected pixel chain by
       ``scribbler.bezier_chain`` and kept as a polyline through every ``DECIMATE``-th
       (= 4th) chain pixel and the last one.
    4. Steps 1-3 are repeated ``tries`` = 10 times; among the tries whose painted stroke
       (``Scribble.pixels``: ``masks.rasterize_stroke`` at ``thickness`` = 3, the same
       pixels as the annotation maps paint) lies entirely in T, the longest (polyline
       length in px; ties: the earlier try) is kept.
    Fallback (no try lies entirely in T): for th = thickness, ..., 1, the longest run of
    consecutive chain pixels (over all tries; ties: the earlier try, then the earlier run)
    lying in erode(T, ``scribbler.stroke_footprint(th)``) is drawn with thickness th through
    every pixel of the run (no decimation: consecutive chain pixels are 8-adjacent, so the
    stroke stays inside T by the footprint property; it is checked again all the same, and
    a run that fails the check gives way to the next longest); the first th with such a run
    wins. At th = 1 the footprint is one pixel and P0 is in T,
    so a scribble always exists. Every scribble is positive, tagged with region t.
    All draws come from the caller's ``numpy.random.Generator``, so a seed fixes them.

Allocation per round (Sec. 5.3)
    * ``per-region``: exactly one scribble for every region that has an error region, on
      its most important error region.
    * ``free``: a budget of round(``budget_per_region`` x N) = N scribbles (one per region
      on average) spent on the most important error regions of the whole image: the error
      regions are ranked by importance and receive one scribble each in that order; when
      the budget exceeds the number of error regions, further passes over the same ranking
      follow until the budget is spent (so a region may receive several scribbles and
      another none). Only an image without any error region receives fewer (none).
    Scribbles are returned in allocation order, and simulated in that order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from iseg_bench.masks import rasterize_stroke
from iseg_bench.robots.scribbler import _erode, _longest_run, bezier_chain, stroke_footprint
from iseg_bench.types import Scribble

ALLOCATIONS = ("free", "per-region")
CONNECTIVITY = 8          # error-region connectivity
TRIES = 10                # Sec. 4: "We repeat this process ten times"
THICKNESS = 3             # px, Sec. 3.2: "Scribbles are 3 pixels wide"
DECIMATE = 4              # polyline vertex every 4th chain pixel (keeps records small)
_SQUARE = np.ones((3, 3), np.uint8)


@dataclass
class ErrorRegion:
    """One error region.

    Attributes:
        region: id of its ground-truth region t.
        size: pixel count.
        gain: importance, the gain in the image's mean IoU if corrected (in [0, 1]).
        first_pixel: raster index (y * W + x) of its first pixel (tie-break).
        box: (y0, x0, y1, x1) half-open bounding box.
        local: (y1 - y0, x1 - x0) bool mask inside the box.
    """

    region: int
    size: int
    gain: float
    first_pixel: int
    box: tuple[int, int, int, int]
    local: np.ndarray

    def mask(self, shape: tuple[int, int]) -> np.ndarray:
        """(H, W) bool mask of the error region."""
        out = np.zeros(shape, dtype=bool)
        y0, x0, y1, x1 = self.box
        out[y0:y1, x0:x1] = self.local
        return out

    def sort_key(self) -> tuple:
        return (-self.gain, -self.size, self.region, self.first_pixel)


def confusion(target: np.ndarray, pred: np.ndarray, ignore: np.ndarray,
              size: int) -> np.ndarray:
    """(size, size) int64 counts of (target id, predicted id) over non-ignored pixels."""
    valid = ~ignore
    t = target[valid].astype(np.int64)
    p = np.clip(pred[valid].astype(np.int64), 0, size - 1)
    return np.bincount(t * size + p, minlength=size * size).reshape(size, size)


def region_ious(target: np.ndarray, pred: np.ndarray, ignore: np.ndarray,
                regions: Sequence[int]) -> np.ndarray:
    """(N,) float64 IoU of each region (target == r vs pred == r on non-ignored pixels),
    the same number as ``masks.iou``; a region with an empty union scores 0."""
    size = int(max(int(target.max(initial=0)), int(pred.max(initial=0)), max(regions))) + 1
    conf = confusion(target, pred, ignore, size)
    ids = np.asarray(regions, dtype=np.int64)
    inter = conf[ids, ids].astype(np.float64)
    union = conf[ids, :].sum(1) + conf[:, ids].sum(0) - inter
    return np.divide(inter, union, out=np.zeros(len(ids)), where=union > 0)


def error_regions(target: np.ndarray, ignore: np.ndarray, pred: np.ndarray,
                  regions: Sequence[int]) -> list[ErrorRegion]:
    """Every error region of every region in `regions`, ranked by importance (module
    docstring).

    Args:
        target: (H, W) int region-id map; pred: (H, W) int predicted ids; ignore: (H, W) bool.
        regions: the image's N region ids (the mean IoU is over these).

    Returns:
        list of ErrorRegion, most important first.
    """
    h, w = target.shape
    ids = [int(r) for r in regions]
    n = len(ids)
    size = max(int(target.max(initial=0)), int(pred.max(initial=0)), max(ids)) + 1
    conf = confusion(target, pred, ignore, size)
    inter = np.diag(conf).astype(np.float64)
    union = conf.sum(1) + conf.sum(0) - inter
    in_image = np.zeros(size, dtype=bool)
    in_image[ids] = True
    wrong = (pred != target) & ~ignore
    out: list[ErrorRegion] = []
    for t in ids:
        err = wrong & (target == t)
        rows, cols = np.flatnonzero(err.any(1)), np.flatnonzero(err.any(0))
        if len(rows) == 0:
            continue
        y0, y1, x0, x1 = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
        crop = err[y0:y1, x0:x1]
        k, labels, stats, _ = cv2.connectedComponentsWithStats(
            crop.astype(np.uint8), connectivity=CONNECTIVITY, ltype=cv2.CV_32S)
        p = np.clip(pred[y0:y1, x0:x1].astype(np.int64), 0, size - 1)
        counts = np.bincount((labels[crop].astype(np.int64) * size + p[crop]),
                             minlength=k * size).reshape(k, size)
        counts[:, ~in_image] = 0
        # IoU changes of the regions that lose false positives: I_j/(U_j - c_j) - I_j/U_j
        shrunk = union[None, :] - counts
        before = np.divide(inter, union, out=np.zeros(size), where=union > 0)
        after = np.divide(np.broadcast_to(inter, shrunk.shape), shrunk,
                          out=np.zeros(shrunk.shape), where=shrunk > 0)
        delta = np.where(counts > 0, after - before[None, :], 0.0).sum(1)
        for c in range(1, k):
            cy, cx, cw, ch, area = (int(v) for v in stats[c, [1, 0, 2, 3, 4]])
            local = labels[cy:cy + ch, cx:cx + cw] == c
            fy, fx = divmod(int(np.argmax(local)), cw)
            gain = (area / union[t] + delta[c]) / n
            out.append(ErrorRegion(t, area, float(gain), (y0 + cy + fy) * w + x0 + cx + fx,
                                   (y0 + cy, x0 + cx, y0 + cy + ch, x0 + cx + cw), local))
    out.sort(key=ErrorRegion.sort_key)
    return out


def _first_point_candidates(err: ErrorRegion, true_region: np.ndarray,
                            correct: np.ndarray) -> np.ndarray:
    """(M, 2) int64 (y, x) candidates of P0 (module docstring, step 1 and its fallback)."""
    h, w = true_region.shape
    y0, x0, y1, x1 = err.box
    Y0, X0, Y1, X1 = max(0, y0 - 1), max(0, x0 - 1), min(h, y1 + 1), min(w, x1 + 1)
    e = np.zeros((Y1 - Y0, X1 - X0), dtype=np.uint8)
    e[y0 - Y0:y1 - Y0, x0 - X0:x1 - X0] = err.local
    touch = cv2.dilate(e, _SQUARE).astype(bool) & correct[Y0:Y1, X0:X1]
    if not touch.any():
        inner = cv2.erode(e, cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3)),
                          borderType=cv2.BORDER_CONSTANT, borderValue=0)
        touch = e.astype(bool) & ~inner.astype(bool)
        if not touch.any():
            touch = e.astype(bool)
    return np.argwhere(touch) + np.array([Y0, X0])


def _curve_chain(p0: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """int64 (K, 2) 8-connected chain of the quadratic Bezier from p0 through the nearer of
    a, b (at t = 1/2) to the farther."""
    mid, end = (a, b) if np.hypot(*(a - p0)) <= np.hypot(*(b - p0)) else (b, a)
    ctrl = np.stack([p0, 2.0 * mid - 0.5 * (p0 + end), end]).astype(np.float64)
    return bezier_chain(ctrl)


def _polyline(chain: np.ndarray) -> np.ndarray:
    """float64 (M, 2) vertices: every DECIMATE-th chain pixel and the last."""
    idx = np.unique(np.append(np.arange(0, len(chain), DECIMATE), len(chain) - 1))
    return chain[idx].astype(np.float64)


def _length(points: np.ndarray) -> float:
    return float(np.hypot(*np.diff(points, axis=0).T).sum()) if len(points) > 1 else 0.0


def _inside(scribble: Scribble, true_region: np.ndarray) -> bool:
    """True when every vertex is in the image and the painted stroke lies in true_region."""
    h, w = true_region.shape
    pts = np.round(scribble.points)
    if pts.min() < 0 or pts[:, 0].max() >= h or pts[:, 1].max() >= w:
        return False
    painted = rasterize_stroke(scribble.points, scribble.thickness, true_region.shape)
    return not (painted & ~true_region).any()


def simulate_scribble(err: ErrorRegion, target: np.ndarray, ignore: np.ndarray,
                      pred: np.ndarray, rng: np.random.Generator, tries: int = TRIES,
                      thickness: int = THICKNESS) -> Scribble:
    """One corrective scribble for an error region (module docstring, Sec. 4).

    Args:
        err: the error region (of ground-truth region ``err.region``).
        target: (H, W) int region ids; ignore: (H, W) bool; pred: (H, W) int predicted ids.
        rng: generator (3 ``integers`` draws per try).
        tries: how many curves are drawn (10 in the paper).
        thickness: stroke width in px.

    Returns:
        A positive Scribble tagged ``region = err.region`` whose painted pixels
        (``Scribble.pixels``) all lie in (target == err.region) & ~ignore.
    """
    shape = target.shape
    true_region = (target == err.region) & ~ignore
    correct = true_region & (pred == err.region)
    firsts = _first_point_candidates(err, true_region, correct)
    ey, ex = np.nonzero(err.local)
    inner = np.stack([ey + err.box[0], ex + err.box[1]], axis=1)
    chains, best, best_len = [], None, -1.0
    for _ in range(int(tries)):
        p0 = firsts[int(rng.integers(len(firsts)))].astype(np.float64)
        a = inner[int(rng.integers(len(inner)))].astype(np.float64)
        b = inner[int(rng.integers(len(inner)))].astype(np.float64)
        chain = _curve_chain(p0, a, b)
        chains.append(chain)
        cand = Scribble(_polyline(chain), True, thickness, err.region)
        length = _length(cand.points)
        if length > best_len and _inside(cand, true_region):
            best, best_len = cand, length
    if best is not None:
        return best
    h, w = shape
    for th in range(int(thickness), 0, -1):
        allowed = _erode(true_region, stroke_footprint(th))
        runs = []
        for chain in chains:
            ok = ((chain[:, 0] >= 0) & (chain[:, 0] < h) & (chain[:, 1] >= 0)
                  & (chain[:, 1] < w))
            ok[ok] = allowed[chain[ok, 0], chain[ok, 1]]
            run = _longest_run(chain, ok)
            if run is not None:
                runs.append(run)
        lengths = [_length(r.astype(np.float64)) for r in runs]
        for k in sorted(range(len(runs)), key=lambda k: (-lengths[k], k)):
            cand = Scribble(runs[k].astype(np.float64), True, th, err.region)
            if _inside(cand, true_region):
                return cand
    raise AssertionError("unreachable: P0 lies in the true region")  # pragma: no cover


class FullImageScribbleAllocator:
    """Per-round corrective scribbles over the whole image (module docstring).

    Args:
        allocation: "free" (default) or "per-region".
        tries: curves drawn per scribble (10).
        thickness: stroke width in px (3).
        budget_per_region: scribbles per region per round under "free" (1.0).

    Raises:
        ValueError: unknown allocation or non-positive numbers.
    """

    name = "full-image-allocator"
    kind = "scribble"

    def __init__(self, allocation: str = "free", tries: int = TRIES, thickness: int = THICKNESS,
                 budget_per_region: float = 1.0):
        if allocation not in ALLOCATIONS:
            raise ValueError(f"allocation must be one of {ALLOCATIONS}, got {allocation!r}")
        if int(tries) < 1 or int(thickness) < 1 or float(budget_per_region) <= 0:
            raise ValueError("tries, thickness and budget_per_region must be positive")
        self.allocation = allocation
        self.tries = int(tries)
        self.thickness = int(thickness)
        self.budget_per_region = float(budget_per_region)

    def budget(self, n_regions: int) -> int:
        """Scribbles per round under "free": round(budget_per_region x n_regions)."""
        return int(round(self.budget_per_region * n_regions))

    def plan(self, errors: Sequence[ErrorRegion], regions: Sequence[int]) -> list[ErrorRegion]:
        """The error regions that receive a scribble this round, in order (with repeats
        under "free"); `errors` must be ranked (as ``error_regions`` returns them)."""
        if not errors:
            return []
        if self.allocation == "per-region":
            seen, out = set(), []
            for e in errors:
                if e.region not in seen:
                    seen.add(e.region)
                    out.append(e)
            return out
        budget = self.budget(len(regions))
        return [errors[i % len(errors)] for i in range(budget)]

    def allocate(self, target: np.ndarray, ignore: np.ndarray, pred: np.ndarray,
                 regions: Sequence[int], rng: np.random.Generator) -> list[Scribble]:
        """This round's scribbles.

        Args:
            target: (H, W) int region ids; ignore: (H, W) bool; pred: (H, W) int prediction.
            regions: the image's region ids.
            rng: generator for the scribble simulation.

        Returns:
            list of positive Scribbles, each tagged with its region.
        """
        plan = self.plan(error_regions(target, ignore, pred, regions), regions)
        return [simulate_scribble(e, target, ignore, pred, rng, self.tries, self.thickness)
                for e in plan]

    def describe(self) -> dict:
        return {"name": self.name, "allocation": self.allocation, "tries": self.tries,
                "thickness": self.thickness, "budget_per_region": self.budget_per_region}

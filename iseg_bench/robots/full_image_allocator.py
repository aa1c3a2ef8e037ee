"""The full-image scribble allocator: error regions ranked by importance, the scribble
simulation, and the two allocation strategies.

Source: Agustsson, Uijlings and Ferrari, "Interactive Full Image Segmentation by Considering
All Regions Jointly", CVPR 2019, Sec. 4 ("Scribble corrections", Fig. 4) and Sec. 5.3
("Interactive scribble corrections", Fig. 5). Exact definitions:
docs/robots/full-image-allocator.md.

Constants: TRIES = 10 curves per scribble (Sec. 4), THICKNESS = 3 px (Sec. 3.2),
BUDGET_PER_REGION = 1.0 (scribbles per region per round under "free", Sec. 5.3),
DECIMATE = 4 (polyline vertex every 4th chain pixel), 8-connected error regions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import cv2
import numpy as np

from iseg_bench.errors import UsageError
from iseg_bench.geometry import (
    bezier_chain,
    erode,
    label_components,
    longest_run,
    pixels_inside,
    polyline_length,
    stroke_footprint,
    stroke_inside,
)
from iseg_bench.options import option, options_dict, parse_options
from iseg_bench.types import Scribble

ALLOCATIONS = ("free", "per-region")
TRIES = 10                # Sec. 4: "We repeat this process ten times"
THICKNESS = 3             # px, Sec. 3.2: "Scribbles are 3 pixels wide"
BUDGET_PER_REGION = 1.0   # scribbles per region per round under "free" (Sec. 5.3)
DECIMATE = 4              # polyline vertex every 4th chain pixel (keeps records small)
_SQUARE = np.ones((3, 3), np.uint8)


@dataclass
class RankedErrorRegion:
    """One error region of one ground-truth region, with its importance.

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

    def sort_key(self) -> tuple[float, int, int, int]:
        """Ranking key: larger gain, larger size, smaller region id, earlier first pixel."""
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
    # inter <= union and inter = 0 where union = 0: dividing by max(union, 1) scores 0 there
    ious: np.ndarray = inter / np.maximum(union, 1)
    return ious


def error_regions(target: np.ndarray, ignore: np.ndarray, pred: np.ndarray,
                  regions: Sequence[int]) -> list[RankedErrorRegion]:
    """Every error region of every region in `regions`, ranked by importance.

    Args:
        target: (H, W) int region-id map; pred: (H, W) int predicted ids; ignore: (H, W) bool.
        regions: the image's N region ids (the mean IoU is over these).

    Returns:
        list of RankedErrorRegion, most important first.
    """
    ids = [int(r) for r in regions]
    n = len(ids)
    size = max(int(target.max(initial=0)), int(pred.max(initial=0)), max(ids)) + 1
    conf = confusion(target, pred, ignore, size)
    inter = np.diag(conf).astype(np.float64)
    union = conf.sum(1) + conf.sum(0) - inter
    in_image = np.zeros(size, dtype=bool)
    in_image[ids] = True
    wrong = (pred != target) & ~ignore
    out: list[RankedErrorRegion] = []
    for t in ids:
        comps = label_components(wrong & (target == t))
        if comps.count == 0:
            continue
        (y0, x0), (ch, cw) = comps.origin, comps.labels.shape
        labels = comps.labels
        crop = labels > 0
        k = comps.count + 1
        p = np.clip(pred[y0:y0 + ch, x0:x0 + cw].astype(np.int64), 0, size - 1)
        counts = np.bincount((labels[crop].astype(np.int64) * size + p[crop]),
                             minlength=k * size).reshape(k, size)
        counts[:, ~in_image] = 0
        # IoU changes of the regions that lose false positives: I_j/(U_j - c_j) - I_j/U_j
        shrunk = union[None, :] - counts
        # the counts are false positives of j, so inter_j <= shrunk_j (both 0 together)
        before = inter / np.maximum(union, 1)
        after = inter[None, :] / np.maximum(shrunk, 1)
        delta = np.where(counts > 0, after - before[None, :], 0.0).sum(1)
        sizes = comps.sizes
        for c in range(1, k):
            area = int(sizes[c])
            gain = (area / union[t] + delta[c]) / n
            out.append(RankedErrorRegion(t, area, float(gain), comps.first_pixel(c), comps.box(c),
                                   comps.local(c)))
    out.sort(key=RankedErrorRegion.sort_key)
    return out


def _first_point_candidates(err: RankedErrorRegion, true_region: np.ndarray,
                            correct: np.ndarray) -> np.ndarray:
    """(M, 2) int64 (y, x) candidates of P0 (step 1 and its fallback)."""
    h, w = true_region.shape
    y0, x0, y1, x1 = err.box
    Y0, X0, Y1, X1 = max(0, y0 - 1), max(0, x0 - 1), min(h, y1 + 1), min(w, x1 + 1)
    e = np.zeros((Y1 - Y0, X1 - X0), dtype=np.uint8)
    e[y0 - Y0:y1 - Y0, x0 - X0:x1 - X0] = err.local
    touch = cv2.dilate(e, _SQUARE).astype(bool) & correct[Y0:Y1, X0:X1]
    if not touch.any():
        inner = cv2.erode(e, cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3)),
                          borderType=cv2.BORDER_CONSTANT, borderValue=0)
        touch = e.astype(bool) & ~inner.astype(bool)   # never empty: E is finite, its frame 0
    candidates: np.ndarray = np.argwhere(touch) + np.array([Y0, X0])
    return candidates


def _curve_chain(p0: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """int64 (K, 2) 8-connected chain of the quadratic Bezier from p0 through the nearer of
    a, b (at t = 1/2) to the farther."""
    mid, end = (a, b) if np.hypot(*(a - p0)) <= np.hypot(*(b - p0)) else (b, a)
    ctrl = np.stack([p0, 2.0 * mid - 0.5 * (p0 + end), end]).astype(np.float64)
    return bezier_chain(ctrl)


def _polyline(chain: np.ndarray) -> np.ndarray:
    """float64 (M, 2) vertices: every DECIMATE-th chain pixel and the last."""
    idx = np.unique(np.append(np.arange(0, len(chain), DECIMATE), len(chain) - 1))
    vertices: np.ndarray = chain[idx].astype(np.float64)
    return vertices


def simulate_scribble(err: RankedErrorRegion, target: np.ndarray, ignore: np.ndarray,
                      pred: np.ndarray, rng: np.random.Generator, tries: int = TRIES,
                      thickness: int = THICKNESS) -> Scribble:
    """One corrective scribble for an error region (Sec. 4).

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
    true_region = (target == err.region) & ~ignore
    correct = true_region & (pred == err.region)
    firsts = _first_point_candidates(err, true_region, correct)
    ey, ex = np.nonzero(err.local)
    inner = np.stack([ey + err.box[0], ex + err.box[1]], axis=1)
    chains: list[np.ndarray] = []
    best: Scribble | None = None
    best_len = -1.0
    for _ in range(int(tries)):
        p0 = firsts[int(rng.integers(len(firsts)))].astype(np.float64)
        a = inner[int(rng.integers(len(inner)))].astype(np.float64)
        b = inner[int(rng.integers(len(inner)))].astype(np.float64)
        chain = _curve_chain(p0, a, b)
        chains.append(chain)
        cand = Scribble(_polyline(chain), True, thickness, err.region)
        length = polyline_length(cand.points)
        if length > best_len and stroke_inside(cand.points, cand.thickness, true_region):
            best, best_len = cand, length
    if best is not None:
        return best
    for th in range(int(thickness), 0, -1):
        allowed = erode(true_region, stroke_footprint(th))
        runs = [run for run in (longest_run(chain, pixels_inside(chain, allowed))
                                for chain in chains) if run is not None]
        if runs:
            # consecutive chain pixels are 8-adjacent: drawn at th, the run stays in T by the
            # footprint property (geometry.stroke_footprint); max keeps the earliest longest
            longest = max(runs, key=lambda run: polyline_length(run.astype(np.float64)))
            return Scribble(longest.astype(np.float64), True, th, err.region)
    raise AssertionError("unreachable: P0 lies in the true region")  # pragma: no cover


@dataclass(frozen=True)
class AllocatorOptions:
    """Options of ``FullImageScribbleAllocator``; bad values raise UsageError."""

    allocation: Literal["free", "per-region"] = option(
        "free", "free (budget on the most important error regions) or per-region (Sec. 5.3)")
    tries: int = option(TRIES, "curves drawn per scribble (Sec. 4: 10)")
    thickness: int = option(THICKNESS, "stroke width in px (Sec. 3.2: 3)")
    budget_per_region: float = option(BUDGET_PER_REGION,
                                      "scribbles per region per round under free")

    def __post_init__(self) -> None:
        if self.allocation not in ALLOCATIONS:
            raise UsageError(f"full-image allocator: allocation must be one of "
                             f"{', '.join(ALLOCATIONS)}, got {self.allocation!r}")
        if self.tries < 1 or self.thickness < 1 or self.budget_per_region <= 0:
            raise UsageError("full-image allocator: tries, thickness and budget_per_region "
                             "must be positive")


class FullImageScribbleAllocator:
    """Per-round corrective scribbles over the whole image (docs/robots/full-image-allocator.md).

    Args:
        allocation: "free" (default) or "per-region".
        tries: curves drawn per scribble (10).
        thickness: stroke width in px (3).
        budget_per_region: scribbles per region per round under "free" (1.0).

    Raises:
        UsageError: unknown allocation or non-positive numbers.
    """

    name = "full-image-allocator"
    kind = "scribble"
    options_class = AllocatorOptions

    def __init__(self, allocation: str = "free", tries: int = TRIES, thickness: int = THICKNESS,
                 budget_per_region: float = BUDGET_PER_REGION):
        self.options = parse_options(AllocatorOptions, {
            "allocation": allocation, "tries": tries, "thickness": thickness,
            "budget_per_region": budget_per_region}, "full-image allocator")

    def budget(self, n_regions: int) -> int:
        """Scribbles per round under "free": round(budget_per_region x n_regions)."""
        return int(round(self.options.budget_per_region * n_regions))

    def plan(self, errors: Sequence[RankedErrorRegion],
             regions: Sequence[int]) -> list[RankedErrorRegion]:
        """The error regions that receive a scribble this round, in order (with repeats
        under "free"); `errors` must be ranked (as ``error_regions`` returns them)."""
        if not errors:
            return []
        if self.options.allocation == "per-region":
            seen: set[int] = set()
            out: list[RankedErrorRegion] = []
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
        o = self.options
        return [simulate_scribble(e, target, ignore, pred, rng, o.tries, o.thickness)
                for e in plan]

    def describe(self) -> dict[str, Any]:
        """{"name", "allocation", "tries", "thickness", "budget_per_region"}."""
        return {"name": self.name, **options_dict(self.options)}

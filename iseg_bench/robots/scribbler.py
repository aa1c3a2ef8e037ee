"""The ScribbleSeg deterministic scribbler: one stroke on the largest error region.

Source: Chen et al., "ScribbleSeg: Scribble-based Interactive Image Segmentation", Sec. 3.4
("Deterministic scribble-simulator"), Alg. 1, literally by default (no erosion). The
boundary strategies of Tab. 6 (an ablation of the *training* simulator, Sec. 4.3) and the
DAVIS robot's opening of the error region (davis-interactive,
``davisinteractive/robot/interactive_robot.py``) are non-default options. Every step,
constant and tie rule: docs/robots/scribbler.md.

Constants: thickness 3 px (Sec. 3.4), graph radius sqrt(2) px, medial-axis seed 0
(``geometry.graph_paths``); crop margin = footprint radius + 2 px; opening (when asked):
disc radius fraction * sqrt(area) / 2, at most 16 px, shrunk by x0.9 while the opening is
empty and the radius is above 1 px (the DAVIS robot's constants).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from iseg_bench.errors import SampleError, UsageError
from iseg_bench.geometry import (
    DEFAULT_RADIUS,
    MEDIAL_AXIS_SEED,
    bezier_chain,
    erode,
    largest_error_region,
    longest_run,
    skeleton_path,
    stroke_footprint,
)
from iseg_bench.options import option
from iseg_bench.robots.base import Robot
from iseg_bench.types import Interaction, Scribble

THICKNESS = 3               # px, ScribbleSeg Sec. 3.4
#: "none" is Alg. 1 as written (the default); the other three are Tab. 6's training-time
#: strategies, offered for comparison only.
BOUNDARY_MODES = ("none", "protect", "clean", "allow")
OPENING_MAX_RADIUS = 16.0   # px, DAVIS robot's max_kernel_radius
OPENING_SHRINK = 0.9        # DAVIS robot: radius factor while the opening is empty
OPENING_MIN_RADIUS = 1.0    # px, DAVIS robot: no opening at or below this radius
PATH_METHODS = ("diameter", "every_node")


@dataclass(frozen=True)
class ScribblerOptions:
    """Options of ``MedialAxisScribbler``; bad values raise UsageError."""

    thickness: int = option(THICKNESS, "stroke width in px (ScribbleSeg Sec. 3.4: 3)")
    boundary: Literal["none", "protect", "clean", "allow"] = option(
        "none", "none = Alg. 1 as written (no erosion); protect, clean or allow = Tab. 6's "
        "training strategies (not the paper's evaluation)")
    radius: float = option(DEFAULT_RADIUS, "radius of the skeleton's neighbour graph in px")
    medial_axis_seed: int = option(MEDIAL_AXIS_SEED, "tie-breaking seed of the medial axis")
    path_method: Literal["diameter", "every_node"] = option(
        "diameter", "longest path by two traversals (diameter) or Alg. 1's every-node loop")
    opening: float = option(
        0.0, "DAVIS robot's opening of the error region before the skeleton: disc radius "
        "= opening * sqrt(area) / 2 px, at most 16 (DAVIS uses 0.15); 0 = off (Alg. 1)")

    def __post_init__(self) -> None:
        if self.boundary not in BOUNDARY_MODES:
            raise UsageError(f"robot scribbler: boundary must be one of "
                             f"{', '.join(BOUNDARY_MODES)}, got {self.boundary!r}")
        if self.path_method not in PATH_METHODS:
            raise UsageError(f"robot scribbler: path_method must be one of "
                             f"{', '.join(PATH_METHODS)}, got {self.path_method!r}")
        if self.thickness < 1:
            raise UsageError(f"robot scribbler: thickness must be >= 1, got {self.thickness}")
        if not self.radius > 0:
            raise UsageError(f"robot scribbler: radius must be > 0, got {self.radius}")
        if not 0 <= self.opening < 1:
            raise UsageError(f"robot scribbler: opening must be in [0, 1), got {self.opening}")


def largest_error_component(target: np.ndarray, ignore: np.ndarray, pred: np.ndarray,
                            first: bool = False) -> tuple[np.ndarray, bool] | None:
    """The error region of Alg. 1 line 1: ``geometry.largest_error_region`` (ties: FN first,
    then the first pixel in raster order), with `pred` taken as all background when `first`.

    Args:
        target, ignore, pred: (H, W) bool.
        first: treat `pred` as all background (first interaction).

    Returns:
        ((H, W) bool component, is_positive), or None when there is no FN/FP pixel.
    """
    if first:
        pred = np.zeros_like(target)
    region = largest_error_region(target, ignore, pred)
    return None if region is None else (region.mask, region.is_positive)


def _bbox(mask: np.ndarray) -> tuple[int, int, int, int]:
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1


def davis_opening(region: np.ndarray, fraction: float) -> np.ndarray:
    """The DAVIS robot's morphological opening of an error region before its skeleton.

    A disc of radius r = min(fraction * sqrt(area) / 2, 16) px (offsets with
    dy^2 + dx^2 <= r^2) erodes then dilates the region; while the result is empty and
    r > 1 px, r shrinks by x0.9. When no radius above 1 px leaves anything (or `fraction`
    is 0) the region is returned unchanged (ours: the DAVIS robot would go on with an empty
    mask). Pixels outside the array do not erode.

    Args:
        region: (H, W) bool.
        fraction: the DAVIS ``kernel_size`` in [0, 1) (0.15 there).

    Returns:
        (H, W) bool, a subset of `region`.
    """
    region = np.asarray(region, dtype=bool)
    r = min(fraction * float(np.sqrt(region.sum())) / 2, OPENING_MAX_RADIUS)
    while r > OPENING_MIN_RADIUS:
        k = int(np.floor(r))
        yy, xx = np.mgrid[-k:k + 1, -k:k + 1]
        disc = ((yy ** 2 + xx ** 2) <= r * r).astype(np.uint8)
        opened: np.ndarray = cv2.dilate(cv2.erode(region.astype(np.uint8), disc), disc) > 0
        if opened.any():
            kept: np.ndarray = opened & region
            return kept
        r *= OPENING_SHRINK
    return region.copy()


def scribble_in_region(component: np.ndarray, true_region: np.ndarray, is_positive: bool,
                       thickness: int = THICKNESS, boundary: str = "none",
                       radius: float = DEFAULT_RADIUS, seed: int = MEDIAL_AXIS_SEED,
                       path_method: str = "diameter", region_id: int | None = None,
                       opening: float = 0.0) -> Scribble:
    """One ScribbleSeg stroke (Alg. 1 lines 2-18) in an error component.

    Usable on its own (e.g. by a full-image robot for one region).

    Args:
        component: (H, W) bool, the error component to scribble on (non-empty).
        true_region: (H, W) bool, the pixels of the stroke's true class that may be touched
            (target & ~ignore for a positive stroke, ~target & ~ignore for a negative one);
            must contain `component` for the "protect"/"clean" guarantees (unused by
            "none" and "allow").
        is_positive: sign of the stroke.
        thickness: stroke width in px (>= 1) given to ``rasterize_stroke``.
        boundary: "none" (Alg. 1: centre line in the component), or Tab. 6's "protect",
            "clean" or "allow" (docs/robots/scribbler.md).
        radius: radius of the skeleton's neighbour graph in px.
        seed: medial-axis tie-breaking seed.
        path_method: "diameter" or "every_node" (same path length).
        region_id: stored in ``Scribble.region``.
        opening: the DAVIS robot's opening (``davis_opening``) of the component before
            its skeleton; 0 = off.

    Returns:
        Scribble with (N, 2) float64 integer-valued (y, x) points, N >= 1; its thickness is
        `thickness`, or smaller for a region too thin for it under "protect"/"clean".

    Raises:
        ValueError: empty component, bad shapes, thickness < 1, opening outside [0, 1), an
            unknown mode, or (under "protect"/"clean") a component outside `true_region`.
    """
    if boundary not in BOUNDARY_MODES:
        raise ValueError(f"boundary must be one of {BOUNDARY_MODES}, got {boundary!r}")
    if int(thickness) < 1:
        raise ValueError(f"thickness must be >= 1, got {thickness}")
    if not 0 <= opening < 1:
        raise ValueError(f"opening must be in [0, 1), got {opening}")
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
    if opening > 0:
        comp = davis_opening(comp, opening)
    true_c = true_region[y0:y1, x0:x1]

    def protected() -> tuple[np.ndarray, int]:
        for th in range(thickness, 0, -1):
            allowed = comp & erode(true_c, stroke_footprint(th))
            if allowed.any():
                break
        else:   # at thickness 1 the footprint is one pixel: allowed = comp & true_c
            raise ValueError("the error component does not overlap true_region: no "
                             f"{boundary!r} stroke can stay inside it")
        ctrl = skeleton_path(allowed, radius, seed, path_method)
        return bezier_chain(ctrl, allowed), th

    if boundary == "protect":
        chain, used = protected()
    else:
        ctrl = skeleton_path(comp, radius, seed, path_method)
        chain, used = bezier_chain(ctrl, comp if boundary == "none" else None), thickness
        if boundary == "clean":
            safe = erode(true_c, stroke_footprint(thickness))
            run = longest_run(chain, safe[chain[:, 0], chain[:, 1]])
            chain, used = (protected() if run is None else (run, thickness))
    points = (chain + np.array([y0, x0])).astype(np.float64)
    return Scribble(points, bool(is_positive), used, region_id)


class MedialAxisScribbler(Robot):
    """ScribbleSeg's deterministic scribble simulator (Sec. 3.4, Alg. 1, literally by
    default; Tab. 6 boundary strategies and the DAVIS opening as options);
    docs/robots/scribbler.md gives every step, constant and tie rule.

    Options (``ScribblerOptions``): thickness (3), boundary ("none"), radius (sqrt(2)),
    medial_axis_seed (0), path_method ("diameter"), opening (0.0).

    ``next_interaction`` returns a ``Scribble`` (points (N, 2) float64 (y, x), N >= 1).
    """

    name = "scribbler"
    kind = "scribble"
    options_class = ScribblerOptions
    options: ScribblerOptions

    def next_interaction(self, target: np.ndarray, ignore: np.ndarray, pred: np.ndarray,
                         history: Sequence[Interaction]) -> Scribble:
        """The next stroke.

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
        o = self.options
        return scribble_in_region(component, true_region, is_positive, o.thickness,
                                  o.boundary, o.radius, o.medial_axis_seed, o.path_method,
                                  opening=o.opening)

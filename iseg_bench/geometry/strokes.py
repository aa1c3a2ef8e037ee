"""Stroke geometry: the footprint of a painted stroke, erosion by it, pixel chains.

A stroke is drawn by :func:`rasterize_stroke` (1-px centre line dilated by a t x t
ellipse). Its footprint is derived from that rasteriser at run time, so it follows any
change to it. See docs/robots/scribbler.md for how the scribbler uses these.

Constants: the footprint is measured on every chain of one pixel or of one or two unit
(8-neighbour) steps.
"""

from __future__ import annotations

import math
from functools import lru_cache

import cv2
import numpy as np

from iseg_bench.types import Box, Click, ExtremePoints, Interaction, Scribble

_STEPS = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)]


def rasterize_stroke(points: np.ndarray, thickness: int, shape: tuple[int, int]) -> np.ndarray:
    """Rasterise a polyline of (N, 2) float (y, x) points as a stroke `thickness` px wide.

    The centre line is drawn 1 px wide (OpenCV, 8-connected, points rounded to the nearest
    pixel) and dilated with a `thickness` x `thickness` elliptical kernel, so a straight
    stroke of odd thickness t is exactly t pixels across (OpenCV's own thick lines are
    wider: 5 px for t = 3). A single point gives the kernel itself. Pixels outside `shape`
    are clipped. This is the one definition of the pixels a ``Scribble`` paints (robots,
    adapters and annotation maps all use it).

    Args:
        points: (N, 2) float (y, x) polyline vertices, N >= 1.
        thickness: stroke width in px (values below 1 count as 1).
        shape: (H, W) of the canvas.

    Returns:
        (H, W) bool.
    """
    canvas = np.zeros(shape, dtype=np.uint8)
    pts = np.round(np.asarray(points)[:, ::-1]).astype(np.int32)
    if len(pts) == 1:   # OpenCV draws no segment through one point, but a zero-length one
        pts = np.repeat(pts, 2, axis=0)
    cv2.polylines(canvas, [pts], False, 1, 1, cv2.LINE_8)
    t = max(int(thickness), 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (t, t))   # t = 1: the identity
    painted: np.ndarray = cv2.dilate(canvas, kernel) > 0
    return painted


def interaction_pixels(interaction: Interaction, shape: tuple[int, int]) -> np.ndarray:
    """(M, 2) int64 (y, x) pixels an interaction touches: a click its pixel, a scribble its
    rasterised stroke (clipped to `shape`), extreme points their four rounded points, a box
    its two corners (where the drag starts and ends: (y0, x0), (y1, x1); one pixel when they
    coincide)."""
    if isinstance(interaction, Click):
        return np.array([[interaction.y, interaction.x]], dtype=np.int64)
    if isinstance(interaction, Scribble):
        return np.argwhere(rasterize_stroke(interaction.points, interaction.thickness, shape))
    if isinstance(interaction, ExtremePoints):
        return np.round(interaction.points).astype(np.int64)
    if isinstance(interaction, Box):
        return np.unique(np.array([[interaction.y0, interaction.x0],
                                   [interaction.y1, interaction.x1]], dtype=np.int64), axis=0)
    raise TypeError(f"unknown interaction {type(interaction).__name__}")


@lru_cache(maxsize=32)
def stroke_footprint(thickness: int) -> np.ndarray:
    """The disc F such that a stroke drawn by ``rasterize_stroke`` through an 8-connected
    chain of integer pixels lies inside the union of F placed at the chain's pixels.

    Every chain of one pixel or of one or two unit steps (8-neighbour moves, repeats
    included) is drawn; rho^2 is the largest squared distance from a painted pixel to the
    nearest chain pixel, and F = {(dy, dx): dy^2 + dx^2 <= rho^2}. A longer polyline is drawn
    segment by segment, so the property extends. With the current rasteriser: thickness 1 ->
    rho^2 = 0 (one pixel), 2 and 3 -> 1 (the 5-pixel cross), 4 and 5 -> 5 (21 pixels),
    7 -> 10.

    Args:
        thickness: stroke width in pixels (>= 1).

    Returns:
        (2R+1, 2R+1) uint8 structuring element, R = floor(rho), centred.

    Raises:
        ValueError: thickness < 1.
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
    footprint: np.ndarray = ((yy ** 2 + xx ** 2) <= rho2).astype(np.uint8)
    return footprint


def footprint_radius(thickness: int) -> float:
    """Radius in pixels of ``stroke_footprint(thickness)`` (float; 1.0 for thickness 3)."""
    fp = stroke_footprint(thickness)
    r = fp.shape[0] // 2
    yy, xx = np.nonzero(fp)
    return float(np.sqrt(((yy - r) ** 2 + (xx - r) ** 2).max()))


def erode(mask: np.ndarray, footprint: np.ndarray) -> np.ndarray:
    """Binary erosion of `mask` ((H, W) bool) by `footprint` (uint8 structuring element).

    Pixels outside the array do not erode (a stroke never paints there). Returns (H, W) bool.
    """
    eroded: np.ndarray = cv2.erode(mask.astype(np.uint8), footprint)
    return eroded.astype(bool)


def pixels_inside(chain: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(N,) bool: which (y, x) pixels of int (N, 2) `chain` lie in the image and in `mask`."""
    h, w = mask.shape
    ok: np.ndarray = (chain[:, 0] >= 0) & (chain[:, 0] < h) & (chain[:, 1] >= 0) & (chain[:, 1] < w)
    ok[ok] = mask[chain[ok, 0], chain[ok, 1]]
    return ok


def dedupe(chain: np.ndarray) -> np.ndarray:
    """The (N, 2) chain without consecutive duplicate points."""
    keep = np.ones(len(chain), dtype=bool)
    keep[1:] = np.any(chain[1:] != chain[:-1], axis=1)
    kept: np.ndarray = chain[keep]
    return kept


def polyline_length(points: np.ndarray) -> float:
    """Length in pixels of the polyline through (N, 2) (y, x) points (0.0 for N <= 1)."""
    return float(np.hypot(*np.diff(points, axis=0).T).sum())


def longest_run(chain: np.ndarray, ok: np.ndarray) -> np.ndarray | None:
    """The longest run of consecutive `ok` pixels of a chain.

    Args:
        chain: (N, 2) (y, x) pixels.
        ok: (N,) bool.

    Returns:
        The run's (K, 2) rows of `chain` (length measured in px along the chain; ties: the
        first run), or None when no pixel is ok.
    """
    if not ok.any():
        return None
    edges = np.flatnonzero(np.diff(np.concatenate(([0], ok, [0]))))
    starts, stops = edges[0::2], edges[1::2]        # runs chain[a:b] of ok pixels
    step = np.hypot(*np.diff(chain, axis=0).T)      # step[k]: from pixel k to pixel k + 1
    lengths = [float(step[a:b - 1].sum()) for a, b in zip(starts, stops)]
    best = int(np.argmax(lengths))                  # the first of equal lengths
    run: np.ndarray = chain[starts[best]:stops[best]]
    return run


def stroke_inside(points: np.ndarray, thickness: int, allowed: np.ndarray) -> bool:
    """Whether every vertex of a stroke lies in the image and its painted pixels in `allowed`.

    Args:
        points: (N, 2) float (y, x) vertices (rounded to pixels as the rasteriser does).
        thickness: stroke width in px.
        allowed: (H, W) bool.
    """
    h, w = allowed.shape
    pts = np.round(points)
    if pts.min() < 0 or pts[:, 0].max() >= h or pts[:, 1].max() >= w:
        return False
    painted = rasterize_stroke(points, thickness, allowed.shape)
    return not (painted & ~allowed).any()

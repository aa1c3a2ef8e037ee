"""Bezier curves of any degree, evaluated stably and sampled as 8-connected pixel chains.

Source: ScribbleSeg (Chen et al.), Sec. 3.4, Alg. 1 line 18 (a Bezier curve with the
skeleton path's pixels as control points); the evaluation and sampling rules are ours and
are described in docs/robots/scribbler.md.

Constants:
    BAND_TAIL = 1e-12: Bernstein mass neglected outside the evaluated band (Hoeffding).
    COARSE_STRIDE = 8: when refining inside an allowed mask, every 8th sample is checked
        before all of them.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import gammaln

from iseg_bench.geometry.strokes import dedupe, longest_run, pixels_inside

COARSE_STRIDE = 8
BAND_TAIL = 1e-12
_BAND_C = math.log(2.0 / BAND_TAIL) / 2.0      # (w - 1/2)^2 >= n * _BAND_C  (about 14.2)


def bezier_curve(control: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Points of the Bezier curve with control points `control` at parameters `t`.

    Bernstein basis in log space (log C(n, i) from ``gammaln``): no overflow for any degree,
    t = 0 and t = 1 give the end points exactly; only the band
    |i - round(n t)| <= ceil(sqrt(c n)) + 1, c = ln(2 / BAND_TAIL) / 2 (about 14.2), is
    evaluated (neglected mass < BAND_TAIL by Hoeffding's bound),
    and the band weights are renormalised to sum to 1.

    Args:
        control: (n + 1, 2) float (y, x) control points, n >= 0.
        t: (S,) float parameters in [0, 1].

    Returns:
        (S, 2) float64 points.
    """
    ctrl = np.asarray(control, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)
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
    lg = gammaln(np.arange(n + 1) + 1.0)                # log(i!), i = 0..n
    log_binom = lg[n] - lg - lg[::-1]                   # log C(n, i), i = 0..n
    # log B_{n,i}(t) = log C(n, i) + i log(t / (1 - t)) + n log(1 - t); the last term is
    # the same for every i and cancels in the shift by the row maximum and the renormalisation
    log_b = log_binom[idx] + idx * (np.log(ti) - np.log1p(-ti))[:, None]
    log_b -= log_b.max(axis=1, keepdims=True)
    b = np.exp(log_b)
    b /= b.sum(axis=1, keepdims=True)
    out[inner] = np.stack([(b * ctrl[idx, 0]).sum(axis=1), (b * ctrl[idx, 1]).sum(axis=1)],
                          axis=1)
    return out


def _piece_parameters(ctrl: np.ndarray) -> np.ndarray:
    """Sample parameters of one Bezier piece: S = floor(m c) + 2 uniform values in [0, 1]
    (m = degree, c = the largest per-coordinate step of the control polygon), so that
    consecutive samples differ by less than 1 px per coordinate."""
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


def bezier_chain(control: np.ndarray, allowed: np.ndarray | None = None) -> np.ndarray:
    """The Bezier stroke through `control` as an 8-connected chain of integer pixels.

    Without `allowed`: one curve of degree K - 1. With `allowed`: a composite Bezier curve,
    a piece whose rounded samples leave `allowed` being split at its middle control point
    until every piece stays inside (a two-point piece is the straight segment, kept as it
    is); if some segment still leaves `allowed` (control points more than one pixel apart),
    only the longest run of the chain inside it is returned.

    Args:
        control: (K, 2) int or float (y, x) control points, K >= 1.
        allowed: optional (H, W) bool in the control points' coordinate frame.

    Returns:
        int64 (N, 2) (y, x) pixel chain, consecutive duplicates removed.

    Raises:
        ValueError: with `allowed`, when no pixel of the chain lies in it (control points
            outside `allowed`).
    """
    ctrl = np.asarray(control)
    if allowed is None:
        return dedupe(_sample_piece(ctrl))
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
            ok = bool(pixels_inside(coarse, allowed).all())
        if ok:
            chain = np.round(bezier_curve(piece, t)).astype(np.int64)
            ok = bool(pixels_inside(chain, allowed).all())
        if ok:
            pieces.append(chain)
        else:
            mid = (a + b) // 2
            stack.append((mid, b))      # popped second: keeps the pieces in curve order
            stack.append((a, mid))
    chain = dedupe(np.concatenate(pieces))
    inside = pixels_inside(chain, allowed)
    if not inside.all():        # only with control points more than one pixel apart
        run = longest_run(chain, inside)
        if run is None:
            raise ValueError("no pixel of the Bezier chain lies in the allowed mask")
        chain = run
    return chain

"""Training-time click placement.

Two families:

- by the evaluation robots themselves: the object-centre first click and
  largest-error-region next clicks (Du et al. 2023, Sec. 4.1; Forte et al. 2020, Sec. 3.2),
  specified in ``docs/models/torch-models.md``;
- as the EMC-Click authors' training code places them (github feiaxyt/EMC-Click, read for
  facts only): the first click at a random inner pixel of the (mostly eroded) object
  (isegm/data/points_sampler.py FirstPointSampler with first_click_center=True and
  get_point_candidates), each next click at a random inner pixel of the false-negative or
  false-positive area with the sign drawn in proportion to their depths
  (isegm/engine/clickatt_trainer_batchconsistant.py get_rough_next_points), specified in
  ``docs/models/emc-click.md`` ("Training recipe").

Constants (released code): ``FIRST_CLICK_INNER_K`` = 1.7 (sfc_inner_k), ``ERODE_PROB`` =
0.9, ``ERODE_ITERS`` = 3 (3 x 3 kernel), ``ERODE_MIN_PIXELS`` = 10 (positive_erode_prob,
positive_erode_iters, _positive_erode), ``NEXT_CLICK_THRESHOLD`` = 0.49 (pred_thresh).
"""

from __future__ import annotations

import cv2
import numpy as np

from iseg_bench.geometry.distance import padded_distance
from iseg_bench.robots.clicker import CenterOfErrorClicker, LargestRegionCenterClicker

FIRST_CLICK_INNER_K = 1.7
ERODE_PROB = 0.9
ERODE_ITERS = 3
ERODE_MIN_PIXELS = 10
NEXT_CLICK_THRESHOLD = 0.49


def object_centre_click(target: np.ndarray) -> tuple[int, int, bool] | None:
    """First click (y, x, True) at the centre of bool (H, W) `target`; None if empty."""
    if not target.any():
        return None
    none = np.zeros_like(target)
    c = CenterOfErrorClicker().next_interaction(target, none, none, [])
    return c.y, c.x, c.is_positive


def largest_error_click(pred: np.ndarray, target: np.ndarray,
                        ignore: np.ndarray | None = None) -> tuple[int, int, bool] | None:
    """Corrective click (y, x, is_positive) for bool `pred` vs bool `target`; None if perfect."""
    ignore = np.zeros_like(target) if ignore is None else ignore
    if not ((target ^ pred) & ~ignore).any():
        return None
    c = LargestRegionCenterClicker().next_interaction(target, ignore, pred, [])
    return c.y, c.x, c.is_positive


def emc_first_click(target: np.ndarray, rng: np.random.Generator) -> tuple[int, int, bool] | None:
    """The EMC-Click authors' first training click on bool (H, W) `target`.

    With probability ``ERODE_PROB`` the object is eroded ``ERODE_ITERS`` times by a 3 x 3
    square (kept only if more than ``ERODE_MIN_PIXELS`` pixels remain); the click is a
    uniformly random pixel whose exact distance to the background (image border included)
    exceeds max / ``FIRST_CLICK_INNER_K``. Returns (y, x, True), or None for an empty target.
    """
    if not target.any():
        return None
    mask = target
    if rng.random() < ERODE_PROB:
        eroded = cv2.erode(target.astype(np.uint8), np.ones((3, 3), np.uint8),
                           iterations=ERODE_ITERS) > 0
        if eroded.sum() > ERODE_MIN_PIXELS:
            mask = eroded
    dist = padded_distance(mask, 0)
    ys, xs = np.nonzero(dist > dist.max() / FIRST_CLICK_INNER_K)
    k = int(rng.integers(len(ys)))
    return int(ys[k]), int(xs[k]), True


def emc_next_click(prob: np.ndarray, target: np.ndarray, ignore: np.ndarray,
                   rng: np.random.Generator) -> tuple[int, int, bool] | None:
    """The EMC-Click authors' next training click for the probability map `prob` (H, W)
    float against bool `target`, outside bool `ignore` (ours: the authors have no ignore).

    FN = target and prob < 0.49, FP = not target and prob > 0.49; d_FN, d_FP their
    chamfer (5 x 5) distance transforms with the image border as background and m_FN, m_FP
    their maxima. The sign is positive with probability m_FN / (m_FN + m_FP); the click is a
    uniformly random pixel of that sign's area with d > max(m_FN, m_FP) / 2 -- the larger of
    the *two* maxima, so a sign whose area is less than half as deep as the other's yields
    no click at all (the released rule).

    Returns:
        (y, x, is_positive), or None when the prediction has no error or the drawn sign has
        no pixel deep enough.
    """
    valid = ~ignore
    fn = target & (prob < NEXT_CLICK_THRESHOLD) & valid
    fp = ~target & (prob > NEXT_CLICK_THRESHOLD) & valid
    d_fn, d_fp = padded_distance(fn, 5), padded_distance(fp, 5)
    m_fn, m_fp = float(d_fn.max()), float(d_fp.max())
    if m_fn + m_fp == 0:
        return None
    positive = bool(rng.random() < m_fn / (m_fn + m_fp))
    ys, xs = np.nonzero((d_fn if positive else d_fp) > max(m_fn, m_fp) / 2)
    if not len(ys):
        return None
    k = int(rng.integers(len(ys)))
    return int(ys[k]), int(xs[k]), positive

"""Training-time click placement, by the evaluation robots themselves.

* First click at the object centre: the object pixel farthest from the object boundary and
  the image sides (the evaluation protocol's first click, Du et al. 2023 Sec. 4.1; Forte et
  al. 2020 Sec. 3.2): the reference clicker's first click on an empty prediction
  (``robots.clicker.CenterOfErrorClicker``).
* Next clicks at the centre of the largest error region of the model's own prediction
  (Forte et al. 2020, Sec. 3.2: "segment the mislabelled pixels into connected regions ...
  place the click at the centre of the largest incorrect region, so as to maximise the
  Euclidean distance to both the region boundary and the sides of the image"): the DIOS-style
  robot ``robots.clicker.LargestRegionCenterClicker`` with no click history (8-connected
  regions; false negatives give a positive click, false positives a negative one; ignored
  pixels are never errors; ties: larger region, then FN, then the first pixel in row-major
  order).
"""

from __future__ import annotations

import numpy as np

from iseg_bench.robots.clicker import CenterOfErrorClicker, LargestRegionCenterClicker


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

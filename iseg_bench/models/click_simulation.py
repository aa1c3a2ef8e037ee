"""Training-time click placement by the evaluation robots themselves: the object-centre
first click and largest-error-region next clicks (Du et al. 2023, Sec. 4.1; Forte et al.
2020, Sec. 3.2). Specified in ``docs/models/torch-models.md``.
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

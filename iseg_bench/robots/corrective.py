"""Corrective-interaction accuracy meter (Forte et al., "Getting to 99% Accuracy in
Interactive Segmentation", Sec. 4, Fig. 6).

For interaction k, the *error region* it was placed in is the 8-connected component of that
interaction's error type (FN for a positive, FP for a negative interaction) in the previous
prediction that contains the interaction's pixels (for a click: the clicked pixel; for a
stroke: every stroke pixel, so the union of the components it touches). The accuracy is the
share of that region's pixels that the new prediction labels correctly (as the target).

When the interaction touches no error pixel of its type (e.g. the reference clicker's
fallback click once nothing is wrong) the figure is undefined and returned as NaN; the
metrics average it with ``nanmean`` and report how many interactions were counted.
"""

from __future__ import annotations

import numpy as np

from iseg_bench.masks import component_at, components, error_masks
from iseg_bench.types import Click, Interaction

CONNECTIVITY = 8


def error_region(target: np.ndarray, ignore: np.ndarray, prev_pred: np.ndarray,
                 interaction: Interaction) -> np.ndarray:
    """(H, W) bool error region that `interaction` was placed in (see module docstring)."""
    fn, fp = error_masks(target, prev_pred, ignore)
    err = fn if interaction.is_positive else fp
    if isinstance(interaction, Click):
        return component_at(err, interaction.y, interaction.x, CONNECTIVITY)
    px = interaction.pixels(target.shape)
    _, labels = components(err, CONNECTIVITY)
    hit = np.unique(labels[px[:, 0], px[:, 1]])
    return np.isin(labels, hit[hit > 0])


def corrective_accuracy(target: np.ndarray, ignore: np.ndarray, prev_pred: np.ndarray,
                        new_pred: np.ndarray, interaction: Interaction) -> float:
    """Share in [0, 1] of the interaction's error region that `new_pred` gets right, or NaN.

    Args:
        target, ignore, prev_pred, new_pred: (H, W) bool.
        interaction: the Click or Scribble placed between prev_pred and new_pred.
    """
    region = error_region(target, ignore, prev_pred, interaction)
    n = np.count_nonzero(region)
    if n == 0:
        return float("nan")
    return float(np.count_nonzero(new_pred[region] == target[region]) / n)

"""Corrective-interaction accuracy meter.

Source: Forte et al., "Getting to 99% Accuracy in Interactive Segmentation", Sec. 4, Fig. 6.
Exact definition: docs/robots/corrective-accuracy.md.

Constants: error regions are 8-connected (``geometry.error_regions``).
"""

from __future__ import annotations

import numpy as np

from iseg_bench.geometry import interaction_error_region
from iseg_bench.types import Interaction


def corrective_accuracy(target: np.ndarray, ignore: np.ndarray, prev_pred: np.ndarray,
                        new_pred: np.ndarray, interaction: Interaction) -> float:
    """Share in [0, 1] of the interaction's error region that `new_pred` labels as the
    target, or NaN when the interaction touches no error pixel of its type.

    Args:
        target, ignore, prev_pred, new_pred: (H, W) bool.
        interaction: the Click or Scribble placed between prev_pred and new_pred.
    """
    region = interaction_error_region(target, ignore, prev_pred, interaction)
    n = np.count_nonzero(region)
    if n == 0:
        return float("nan")
    return float(np.count_nonzero(new_pred[region] == target[region]) / n)

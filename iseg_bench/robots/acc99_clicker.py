"""The robot of the 99%-accuracy network's released evaluation (Forte et al. 2020).

Source: MarcoForte/DeepInteractiveSegmentation (commit ddd7426), ``interaction.py``
(``robot_click``, ``get_largest_incorrect_region``, ``click_position``) as ``demo.py`` calls
it; the paper's Sec. 4 describes the same policy in words. Exact definition:
docs/robots/acc99-clicker.md.

Rule: the largest 8-connected error component per error type (OpenCV's labelling, lowest
label on equal sizes), the larger of the two, the FP one on equal sizes; the click goes to
its deepest pixel (padded exact L2 distance, first in row-major order). Earlier clicks are
not excluded. With no error left the release clicks negatively at the last pixel
(index -1, -1), and so does this robot.

Constants: none beyond those of ``geometry.distance`` and ``geometry.error_regions``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from iseg_bench.geometry import deepest_point, largest_error_region
from iseg_bench.robots.base import Robot
from iseg_bench.types import Click, Interaction

_NONE = np.zeros(0, np.intp)


class Acc99Clicker(Robot):
    """Forte et al.'s released robot: the deepest point of the largest error region, clicked
    pixels not excluded, FP first on equal sizes. Returns ``Click(y, x, is_positive)`` with
    int pixel coordinates. No options.

    To reproduce the release's binary prediction (probability >= 0.5) run with a foreground
    threshold of 0.49999997 (float32 probabilities: ``p > 0.49999997`` iff ``p >= 0.5``).
    """

    name = "acc99-clicker"
    kind = "click"

    def next_interaction(self, target: np.ndarray, ignore: np.ndarray, pred: np.ndarray,
                         history: Sequence[Interaction]) -> Click:
        region = largest_error_region(target, ignore, pred, order="label", ties="fp")
        if region is None:
            h, w = target.shape
            return Click(h - 1, w - 1, False)
        _, (y, x) = deepest_point(region.mask, _NONE, _NONE)
        return Click(int(y), int(x), region.is_positive)

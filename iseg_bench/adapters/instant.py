"""``instant``: a model that costs (almost) nothing, for benchmarking the harness itself.

It paints a disk of ``radius`` px (20 by default) at each click into the previous
probability map: 1.0 for a positive click, 0.0 for a negative one. Its numbers mean nothing;
its time per click is the floor under any real model's.
"""

from __future__ import annotations

import cv2
import numpy as np

from iseg_bench.adapters.base import Adapter


class InstantAdapter(Adapter):
    """Echo model: previous map plus a disk at the newest click (see module docstring)."""

    name = "instant"

    def __init__(self, radius: int = 20):
        self.radius = int(radius)

    def set_image(self, image: np.ndarray) -> None:
        pass

    def predict(self, interactions, prev_prob):
        out = prev_prob.copy()
        last = interactions[-1]
        cv2.circle(out, (int(last.x), int(last.y)), self.radius, float(last.is_positive), -1)
        return out

    def describe(self) -> dict:
        return {"name": self.name, "radius": self.radius}

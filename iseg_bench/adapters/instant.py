"""``instant``: a model that costs (almost) nothing, for benchmarking the harness itself
(``docs/models/baselines.md``).

Constants: the default disk radius, 20 px.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from iseg_bench.adapters.base import Adapter, BatchItem, parse_model_options
from iseg_bench.options import option
from iseg_bench.types import Click, Interaction


@dataclass(frozen=True)
class InstantOptions:
    """Options of ``instant``."""

    radius: int = option(20, "radius in px of the disk painted at each click")


class InstantAdapter(Adapter):
    """Echo model: the previous map plus a disk at the newest click, 1.0 for a positive
    click and 0.0 for a negative one; its numbers mean nothing.

    Raises:
        UsageError: an unknown option or a value of the wrong type.
    """

    name = "instant"
    options_class = InstantOptions

    def __init__(self, **options: Any):
        opts: InstantOptions = parse_model_options(self.options_class, options, self.name)
        self.radius = opts.radius

    def set_image(self, image: np.ndarray) -> None:
        pass

    def predict(self, interactions: Sequence[Interaction], prev_prob: np.ndarray) -> np.ndarray:
        """(H, W) float32: `prev_prob` with a disk painted at the newest click."""
        out = prev_prob.copy()
        last = interactions[-1]
        if not isinstance(last, Click):
            raise TypeError(f"instant takes clicks, not {last.kind}")
        cv2.circle(out, (int(last.x), int(last.y)), self.radius, float(last.is_positive), -1)
        return out

    def predict_batch(self, items: Sequence[BatchItem]) -> list[np.ndarray]:
        """:meth:`predict` of each item (the model is stateless, so a sample's output never
        depends on its batch-mates)."""
        return [self.predict(it.interactions, it.prev_prob) for it in items]

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "radius": self.radius}

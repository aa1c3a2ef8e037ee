"""The robot protocol: a deterministic simulated user (see DESIGN.md, "robot").

A robot never sees the model: it is a pure function of the target, the ignore mask, the
current binary prediction and the interaction history (randomised robots take a seed in
their constructor).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import ClassVar

import numpy as np

from iseg_bench.types import Interaction


class Robot(ABC):
    """Base class for single-object robots.

    Class attributes:
        name: registry name.
        kind: the interaction kind it produces ("click" or "scribble").
    """

    name: ClassVar[str] = "robot"
    kind: ClassVar[str] = "click"

    @abstractmethod
    def next_interaction(self, target: np.ndarray, ignore: np.ndarray, pred: np.ndarray,
                         history: Sequence[Interaction]) -> Interaction:
        """The next interaction.

        Args:
            target: (H, W) bool ground truth.
            ignore: (H, W) bool, pixels never scored and never interacted with.
            pred: (H, W) bool current prediction (all False before the first interaction).
            history: earlier interactions of this sample, oldest first.
        """

    def describe(self) -> dict:
        """Settings that identify this robot in a run's configuration (JSON-serialisable)."""
        return {"name": self.name}

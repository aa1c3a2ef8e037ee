"""The robot protocol: a deterministic simulated user of a single-object session.

A robot never sees the model: it is a pure function of the target, the ignore mask, the
current binary prediction and the interaction history (randomised robots take a seed in
their options).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from iseg_bench.options import options_dict, parse_options
from iseg_bench.types import Interaction, Sample


@dataclass(frozen=True)
class NoOptions:
    """The option set of a robot that takes no option."""


class Robot(ABC):
    """Base class for single-object robots.

    Class attributes:
        name: registry name.
        kind: the interaction kind it produces ("click" or "scribble"; None when only its
            options say, as for the replay robot).
        options_class: the typed option set (a frozen dataclass, see ``iseg_bench.options``).

    Args:
        **options: option values, checked and converted by ``options_class``.

    Raises:
        UsageError: an unknown option or a bad value.
    """

    name: ClassVar[str] = "robot"
    kind: ClassVar[str | None] = "click"
    options_class: ClassVar[type[Any]] = NoOptions

    def __init__(self, **options: Any):
        self.options = parse_options(self.options_class, options, f"robot {self.name}")

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

    def check_dataset(self, sample_ids: Sequence[str]) -> None:
        """Called once with the run's dataset's sample ids before any work; a robot that
        cannot serve them raises UsageError (default: any dataset)."""
        return None

    def start_sample(self, sample: Sample) -> None:
        """Called before a sample's first interaction (default: nothing; the replay robot
        looks the sample's recorded interactions up)."""
        return None

    def describe(self) -> dict[str, Any]:
        """Settings that identify this robot in a run's configuration (JSON-serialisable)."""
        return {"name": self.name, **options_dict(self.options)}

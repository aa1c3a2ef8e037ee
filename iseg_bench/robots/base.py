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
        kind: the interaction kind it produces ("click", "scribble", "box"); its first one
            when it produces several; None when only its options say, as for the replay
            robot.
        kinds: every kind it produces, when more than ``kind`` (see :func:`robot_kinds`).
        options_class: the typed option set (a frozen dataclass, see ``iseg_bench.options``).

    Args:
        **options: option values, checked and converted by ``options_class``.

    Raises:
        UsageError: an unknown option or a bad value.
    """

    name: ClassVar[str] = "robot"
    kind: ClassVar[str | None] = "click"
    kinds: ClassVar[frozenset[str] | None] = None
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


def robot_kinds(robot: type[Any] | Any) -> frozenset[str]:
    """The interaction kinds a robot (class or instance) produces: its ``kinds`` when set,
    else ``{kind}``; empty when its kind is None (known only from its options, as for the
    replay robot)."""
    kinds: frozenset[str] | None = getattr(robot, "kinds", None)
    if kinds:
        return kinds
    return frozenset() if robot.kind is None else frozenset({robot.kind})

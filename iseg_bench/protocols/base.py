"""Protocol interface: how a run is cut into units and how a unit is evaluated.

A *unit* is the smallest piece of work whose records are written together: one sample
(single-object), one image (full-image) or one category stream (sequential). Execution
owns processes, durability and failure isolation; a protocol only says what to evaluate and
how to summarise the records (``docs/protocols/``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar
from typing import Protocol as TypingProtocol

import pandas as pd

from iseg_bench.config import RunConfig
from iseg_bench.datasets.base import Dataset
from iseg_bench.options import parse_options


class Summary(TypingProtocol):
    """A protocol's typed summary of a run's records."""

    def to_json(self) -> dict[str, Any]:
        """The summary.json dict (JSON-serialisable; thresholds keyed by their labels)."""


@dataclass(frozen=True)
class NoOptions:
    """The option set of a protocol that takes no options (every key is unknown)."""


@dataclass
class WorkerContext:
    """What a worker process holds for the whole run: the dataset, the model and the robot."""

    config: RunConfig
    dataset: Dataset
    adapter: Any
    robot: Any


@dataclass(frozen=True)
class Unit:
    """One unit of work: a stable id (used for resume) and the sample indices it covers."""

    unit_id: str
    indices: tuple[int, ...]
    payload: Any = None


class Protocol(ABC):
    """Base class of protocols. Subclasses set ``name`` and implement the three steps.

    Class attributes:
        name: registry name.
        unit_name: what a unit is, for messages ("sample", "image", "stream").
        options_class: the typed option set parsed from ``config.protocol_options`` into
            ``self.options``.
    """

    name: ClassVar[str] = "protocol"
    unit_name: ClassVar[str] = "sample"
    options_class: ClassVar[type[Any]] = NoOptions

    def __init__(self, config: RunConfig):
        """Raises UsageError on an unknown or invalid protocol option."""
        self.config = config
        self.options: Any = parse_options(self.options_class, config.protocol_options,
                                          f"protocol {self.name}")

    def build_context(self, dataset: Dataset, adapter: Any = None) -> WorkerContext:
        """Build the model and robot of this run around `dataset` (once per worker); the
        robot checks the dataset's sample ids (``Robot.check_dataset``).

        Args:
            adapter: a model already built (``iseg_bench.evaluate`` with an adapter
                instance) to use instead of building ``config.model``.
        """
        from iseg_bench.adapters.registry import build_adapter
        from iseg_bench.robots.registry import build_robot

        cfg = self.config
        robot = build_robot(cfg.robot, **cfg.robot_options)
        robot.check_dataset(dataset.sample_ids())
        if adapter is None:
            adapter = build_adapter(cfg.model, **cfg.model_options)
        return WorkerContext(cfg, dataset, adapter, robot)

    def units(self, dataset: Dataset) -> list[Unit]:
        """One unit per sample by default, honouring ``config.limit``."""
        n = len(dataset) if self.config.limit is None else min(self.config.limit, len(dataset))
        ids = dataset.sample_ids()
        return [Unit(ids[i], (i,)) for i in range(n)]

    @abstractmethod
    def evaluate(self, unit: Unit, ctx: WorkerContext) -> list[dict[str, Any]]:
        """Evaluate one unit; return its record rows. Raise to record the unit as failed."""

    @abstractmethod
    def summarize(self, records: pd.DataFrame) -> Summary:
        """The typed summary of the records of the completed units (at least one row)."""

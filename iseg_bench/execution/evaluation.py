"""One unit's evaluation: the run's dataset and context, and a result line that never raises."""

from __future__ import annotations

import traceback
from typing import Any

from iseg_bench.config import RunConfig
from iseg_bench.datasets.base import Dataset
from iseg_bench.datasets.registry import get_dataset
from iseg_bench.errors import AdapterError, IsegBenchError
from iseg_bench.execution.journal import UnitResult, failed_result, ok_result
from iseg_bench.protocols.base import Protocol, Unit, WorkerContext

#: frames of the traceback kept in a failed unit's journal line
TRACEBACK_FRAMES = 8


def load_dataset(config: RunConfig) -> Dataset:
    """The run's dataset.

    Raises:
        UnknownNameError: no dataset of that name.
        DatasetError: the folder is missing or malformed (the message names the layout).
    """
    dataset: Dataset = get_dataset(config.dataset, config.data_root, **config.dataset_options)
    return dataset


def build_context(protocol: Protocol, dataset: Dataset, adapter: Any = None) -> WorkerContext:
    """The protocol's model (`adapter` when given: a model already built) and robot around
    `dataset`.

    Raises:
        IsegBenchError: raised by a registry or a factory (an unknown name or a bad option
            is a UsageError naming the model or robot): passed through unchanged.
        AdapterError: any other error (any BaseException but KeyboardInterrupt, SystemExit
            included) of the model's or robot's construction, with its cause in the message.
    """
    try:
        return protocol.build_context(dataset, adapter)
    except (IsegBenchError, KeyboardInterrupt):
        raise
    except BaseException as exc:  # a factory's sys.exit too: an error, never a quiet exit
        raise AdapterError(f"cannot build the model {protocol.config.model!r} or the robot "
                           f"{protocol.config.robot!r}: {type(exc).__name__}: {exc}") from exc


def evaluate_unit(protocol: Protocol, ctx: WorkerContext, unit: Unit) -> UnitResult:
    """One unit's result line: its records, or the failure reason and traceback.

    Never raises except KeyboardInterrupt (Ctrl-C, SIGTERM): any other BaseException of
    the model, robot or data, ``SystemExit`` from a ``sys.exit`` included, is the unit's
    failure.
    """
    try:
        return ok_result(unit.unit_id, protocol.evaluate(unit, ctx))
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # one bad sample or model call must not lose the run
        return failed_result(unit.unit_id, f"{type(exc).__name__}: {exc}",
                             traceback.format_exc(limit=TRACEBACK_FRAMES))

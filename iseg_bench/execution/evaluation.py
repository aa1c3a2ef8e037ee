"""One unit's evaluation: the run's dataset and context, and a result line that never raises."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterator, Sequence
from typing import Any

from iseg_bench.adapters.base import has_hook
from iseg_bench.config import RunConfig
from iseg_bench.datasets.base import Dataset
from iseg_bench.datasets.registry import get_dataset
from iseg_bench.errors import AdapterError, IsegBenchError, UsageError
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


def _failure(unit: Unit, exc: BaseException) -> UnitResult:
    """The failed result line of `unit` for `exc`, with its traceback."""
    return failed_result(unit.unit_id, f"{type(exc).__name__}: {exc}",
                         "".join(traceback.format_exception(exc, limit=TRACEBACK_FRAMES)))


def check_batch_size(config: RunConfig, sample_timeout: float | None) -> None:
    """Refuse a batch size below 1, and a batch size above 1 together with a per-sample
    time limit (samples that share model calls have no time of their own) or with local
    worker processes (each of which is handed one sample at a time).

    Raises:
        UsageError: naming the flags.
    """
    if config.batch_size < 1:
        raise UsageError(f"--batch-size must be >= 1, got {config.batch_size}")
    if config.batch_size > 1 and sample_timeout is not None:
        raise UsageError("--batch-size above 1 cannot be combined with --sample-timeout "
                         "(batched samples share their model calls); drop one of them")
    if config.batch_size > 1 and config.workers > 1 and config.executor == "local":
        raise UsageError("--batch-size above 1 runs in one process: use --workers 1, or "
                         "--executor ray to batch in every Ray actor")


def evaluate_units(protocol: Protocol, ctx: WorkerContext, units: Sequence[Unit],
                   batch_size: int) -> Iterator[UnitResult]:
    """The result lines of `units`: one by one (:func:`evaluate_unit`, in unit order), or,
    with `batch_size` > 1, in the protocol's lockstep loop (``evaluate_batch``) in
    completion order. A protocol without ``evaluate_batch`` or a model without the
    ``predict_batch`` hook is evaluated one sample at a time, with a one-line notice.

    Never raises except KeyboardInterrupt, as :func:`evaluate_unit`.
    """
    batched = getattr(protocol, "evaluate_batch", None)
    if batch_size > 1 and batched is not None and has_hook(ctx.adapter, "predict_batch"):
        for unit, out in batched(units, ctx, batch_size):
            yield (_failure(unit, out) if isinstance(out, BaseException)
                   else ok_result(unit.unit_id, out))
        return
    if batch_size > 1:
        what = (f"model {protocol.config.model!r} has no predict_batch" if batched is not None
                else f"protocol {protocol.name!r} has no lockstep loop")
        logging.getLogger("iseg_bench").warning(
            "notice: %s; --batch-size %d falls back to one model call per sample", what,
            batch_size)
    for unit in units:
        yield evaluate_unit(protocol, ctx, unit)

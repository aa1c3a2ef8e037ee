"""Run orchestration: prepare the run folder, stream unit results into the journal (in this
process or the worker pool), stop cleanly on Ctrl-C, SIGTERM or fail-fast, then write the
outputs from the journal.

Failure isolation, interruption, resume and determinism are described in
``docs/execution.md``.
"""

from __future__ import annotations

import math
import signal
import threading
import time
from collections.abc import Callable, Generator
from functools import partial
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any, Literal

from tqdm import tqdm

from iseg_bench.config import RunConfig, versions
from iseg_bench.datasets.base import Dataset
from iseg_bench.errors import IsegBenchError, UsageError
from iseg_bench.execution.crash import crash_log
from iseg_bench.execution.describe import describe_context, record_description
from iseg_bench.execution.evaluation import (
    build_context,
    check_batch_size,
    evaluate_unit,
    evaluate_units,
    load_dataset,
)
from iseg_bench.execution.fingerprint import unit_fingerprints
from iseg_bench.execution.journal import (
    RecordWriter,
    UnitResult,
    latest_results,
    order_results,
    read_results,
)
from iseg_bench.execution.lock import RunFolderLock
from iseg_bench.execution.outputs import RunOutcome, finalize, throughput
from iseg_bench.execution.ray_executor import check_executor, ray_results
from iseg_bench.execution.resume import check_resume
from iseg_bench.execution.shards import shard_items
from iseg_bench.execution.workers import process_results
from iseg_bench.masks import deterministic_opencv
from iseg_bench.protocols.base import Protocol, Unit, WorkerContext
from iseg_bench.protocols.registry import build_protocol
from iseg_bench.run_folder import CONFIG, DATA_FINGERPRINTS, RECORDS, write_json


class _TerminateAsInterrupt:
    """Within the block, SIGTERM raises KeyboardInterrupt in the main thread."""

    def __enter__(self) -> _TerminateAsInterrupt:
        self._old: Any = None
        if threading.current_thread() is threading.main_thread():
            self._old = signal.signal(signal.SIGTERM, self._raise)
        return self

    @staticmethod
    def _raise(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> Literal[False]:
        if self._old is not None:
            signal.signal(signal.SIGTERM, self._old)
        return False


def in_process(config: RunConfig, sample_timeout: float | None, n_units: int) -> bool:
    """Whether units are evaluated in this process: one worker (or one unit) and no time
    limit. Otherwise they run in worker processes."""
    return sample_timeout is None and (config.workers <= 1 or n_units <= 1)


def iterate_results(config: RunConfig, protocol: Protocol, dataset: Dataset,
                    units: list[Unit], sample_timeout: float | None = None,
                    ctx: WorkerContext | None = None,
                    on_ready: Callable[[dict[str, Any]], None] | None = None,
                    on_unit: Callable[[str | None], None] | None = None
                    ) -> Generator[UnitResult, None, None]:
    """Unit results: from this process in unit order (see :func:`in_process`; `ctx` is
    built when not given) or from worker processes in completion order (`on_ready`: see
    :func:`~iseg_bench.execution.workers.process_results`). In this process, `on_unit`
    (when given) is told each unit id before its evaluation, and None after the last one.

    Raises:
        IsegBenchError: the model or robot cannot be built, or a worker cannot start
            (see :func:`iseg_bench.execution.workers.process_results`).
    """
    if config.executor == "ray":
        yield from ray_results(config, units, sample_timeout, on_ready)
        return
    if not in_process(config, sample_timeout, len(units)):
        yield from process_results(config, units, max(1, config.workers), sample_timeout,
                                   on_ready)
        return
    if not units:
        return
    ctx = ctx if ctx is not None else build_context(protocol, dataset)
    if config.batch_size > 1:   # the lockstep loop: several units in flight, completion order
        yield from evaluate_units(protocol, ctx, units, config.batch_size)
        return
    for unit in units:
        if on_unit is not None:
            on_unit(unit.unit_id)
        yield evaluate_unit(protocol, ctx, unit)
    if on_unit is not None:
        on_unit(None)


def _done_units(out_dir: Path, config: RunConfig, units: list[Unit], resume: bool,
                fingerprints: dict[str, str]) -> dict[str, UnitResult]:
    """The units with an "ok" result in the folder being resumed ({} for a new run).

    Raises:
        IsegBenchError: a new run into a folder that holds one, or a resume of a folder
            that holds none.
        ConfigMismatchError: a resume with different settings or data.
    """
    if resume:
        check_resume(out_dir, config, units, fingerprints)
        return {k: r for k, r in latest_results(out_dir).items() if r["status"] == "ok"}
    if (out_dir / RECORDS).exists() or (out_dir / CONFIG).exists():
        raise IsegBenchError(f"{out_dir} already holds a run; continue it with --resume "
                             f"{out_dir} or choose another --out")
    return {}


def _start_folder(out_dir: Path, config: RunConfig, units: list[Unit],
                  fingerprints: dict[str, str]) -> None:
    """Create the run folder and write config.json (settings, versions, unit ids, data
    fingerprints)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json(out_dir / CONFIG, {**config.to_json(), "versions": versions(),
                                  "units": [u.unit_id for u in units],
                                  DATA_FINGERPRINTS: fingerprints})


class _Counted:
    """A result stream that counts the record rows (interactions) of its "ok" results."""

    def __init__(self, stream: Generator[UnitResult, None, None]):
        self.stream = stream
        self.interactions = 0

    def results(self) -> Generator[UnitResult, None, None]:
        """The results of the stream (closing this closes the stream)."""
        try:
            for result in self.stream:
                if result["status"] == "ok":
                    self.interactions += len(result["records"])
                yield result
        finally:
            self.stream.close()


def _journal(stream: Generator[UnitResult, None, None], writer: RecordWriter, bar: tqdm[Any],
             fail_fast: bool) -> tuple[bool, bool]:
    """Write every result of `stream` to the journal; (interrupted, stopped by fail-fast).
    Closes `stream` (which kills the workers)."""
    interrupted, stopped = False, False
    with _TerminateAsInterrupt(), deterministic_opencv():
        try:
            for result in stream:
                writer.write(result)
                bar.update(1)
                if fail_fast and result["status"] != "ok":
                    stopped = True
                    break
        except KeyboardInterrupt:
            interrupted = True
        finally:
            stream.close()
    return interrupted, stopped


def _check_thresholds(config: RunConfig, sample_timeout: float | None) -> None:
    """Refuse a time limit that is not a finite number > 0 and a probability threshold
    outside the open interval (0, 1); NaN fails both.

    Raises:
        UsageError: naming the flag and the value.
    """
    if sample_timeout is not None and not 0 < sample_timeout < math.inf:
        raise UsageError(f"--sample-timeout must be a finite number of seconds > 0 (leave "
                         f"it out for no limit), got {sample_timeout}")
    if not 0 < config.prob_threshold < 1:
        raise UsageError(f"--prob-threshold must be in (0, 1) (foreground: probability > "
                         f"threshold), got {config.prob_threshold}")


def execute(config: RunConfig, out_dir: Path, progress: bool = True, *, resume: bool = False,
            fail_fast: bool = False, sample_timeout: float | None = None,
            adapter: Any = None, dataset: Dataset | None = None) -> RunOutcome:
    """Run `config` into the folder `out_dir` (created) and write every output.

    Args:
        config: the run's settings.
        out_dir: the run folder (``docs/execution.md``).
        progress: show a progress bar.
        resume: continue the run already in `out_dir`.
        fail_fast: stop at the first failed unit.
        sample_timeout: seconds one unit may take (None = no limit); units then run in
            worker processes.
        adapter, dataset: a model and a dataset already built, used instead of building
            ``config.model`` and ``config.dataset`` (in this process only).

    Returns:
        RunOutcome. Ctrl-C / SIGTERM do not raise: the outcome says ``interrupted``.

    Raises:
        UsageError: an unknown name or a bad option (before any work), a `sample_timeout`
            that is not finite and > 0, a `prob_threshold` outside (0, 1), an `adapter`
            or `dataset` with worker processes.
        DatasetError / AdapterError: before any work, when the dataset or model is wrong.
        ConfigMismatchError: a resume with different settings or data files.
        IsegBenchError: `out_dir` already holds a run and
            `resume` is False, or holds none and `resume` is True.
        RunFolderBusyError: another run holds `out_dir` (its lock, ``docs/execution.md``).
    """
    _check_thresholds(config, sample_timeout)
    check_batch_size(config, sample_timeout)
    check_executor(config)
    if (adapter is not None or dataset is not None) and not in_process(config, sample_timeout,
                                                                        2):
        raise UsageError("a model or dataset given as an object is evaluated in this "
                         "process only: use workers=1 and no sample timeout, or give names")
    dataset = dataset if dataset is not None else load_dataset(config)
    protocol = build_protocol(config)
    units = shard_items(protocol.units(dataset), config.shard)
    with RunFolderLock(Path(out_dir)) as lock, crash_log(Path(out_dir)):
        return _execute_locked(config, protocol, dataset, units, Path(out_dir), progress,
                               resume=resume, fail_fast=fail_fast,
                               sample_timeout=sample_timeout, adapter=adapter,
                               on_unit=lock.mark)


def _execute_locked(config: RunConfig, protocol: Protocol, dataset: Dataset, units: list[Unit],
                    out_dir: Path, progress: bool, *, resume: bool, fail_fast: bool,
                    sample_timeout: float | None, adapter: Any,
                    on_unit: Callable[[str | None], None] | None = None) -> RunOutcome:
    """:func:`execute` once the run folder is locked and the units are known (`on_unit`:
    see :func:`iterate_results`)."""
    fingerprints = unit_fingerprints(dataset, units)
    done = _done_units(out_dir, config, units, resume, fingerprints)
    todo = [u for u in units if u.unit_id not in done]
    ctx = None
    if sample_timeout is None and config.workers <= 1 and config.executor == "local" and todo:
        ctx = build_context(protocol, dataset, adapter)  # a broken model fails before work
    if not resume:
        _start_folder(out_dir, config, units, fingerprints)
        if ctx is not None:
            record_description(out_dir, describe_context(ctx))
    writer = RecordWriter(out_dir / RECORDS)
    bar = tqdm(total=len(units), initial=len(units) - len(todo), unit=protocol.unit_name,
               desc=f"{config.model} on {config.dataset}", disable=not progress)
    stream = iterate_results(config, protocol, dataset, todo, sample_timeout, ctx=ctx,
                             on_ready=partial(record_description, out_dir), on_unit=on_unit)
    counted = _Counted(stream)
    t0 = time.perf_counter()
    try:
        interrupted, stopped = _journal(counted.results(), writer, bar, fail_fast)
    except IsegBenchError:
        writer.close()
        if not resume and (out_dir / RECORDS).stat().st_size == 0:
            for name in (RECORDS, CONFIG):   # nothing ran (a worker could not start):
                (out_dir / name).unlink(missing_ok=True)   # leave no run behind
        raise
    finally:
        writer.close()
        bar.close()
    unit_ids = [u.unit_id for u in units]
    results = order_results(read_results(out_dir), unit_ids)
    outcome = finalize(config, protocol, out_dir, results, unit_order=unit_ids,
                       complete=not (interrupted or stopped) and len(results) == len(units),
                       run_seconds=throughput(time.perf_counter() - t0, counted.interactions,
                                              config.batch_size))
    outcome.interrupted = interrupted
    outcome.n_skipped = len(units) - len(todo)
    return outcome

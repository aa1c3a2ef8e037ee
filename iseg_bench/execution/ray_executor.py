"""The Ray executor (``--executor ray``): units evaluated by model-holding Ray actors on a
cluster (``--ray-address``, or a local one), one GPU per actor where the cluster has GPUs.

Ray (https://docs.ray.io, an optional extra) only moves work: each actor builds the dataset,
model and robot once, exactly as a worker process does (:mod:`iseg_bench.execution.workers`),
and returns unit result lines; this process writes the journal as it does for local workers,
so resume, failure isolation and byte-identical records hold. A task is one unit, or with
``--batch-size B`` a chunk of ``CHUNK_BATCHES * B`` units run in the actor's lockstep loop.
An actor that dies (its process or node lost) costs only the tasks it held: they are re-tried
once on a fresh actor, then recorded as failed ("WorkerDied: ..."); a task still running
after ``--sample-timeout`` has its actor killed and is recorded as failed
("SampleTimeout: ..."). ``docs/execution.md``.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from iseg_bench.config import RunConfig
from iseg_bench.errors import AdapterError, UsageError
from iseg_bench.execution.describe import describe_context
from iseg_bench.execution.evaluation import build_context, evaluate_units, load_dataset
from iseg_bench.execution.journal import UnitResult
from iseg_bench.execution.workers import (
    WORKER_DEATH_ATTEMPTS,
    _died,
    _start_error,
    _timed_out,
    drain,
)
from iseg_bench.masks import deterministic_opencv
from iseg_bench.protocols.base import Unit
from iseg_bench.protocols.registry import build_protocol

#: tasks an actor holds at once without a time limit (the next is queued while one runs);
#: with --sample-timeout one, so that the limit times a single task
IN_FLIGHT = 2
#: units per task with --batch-size B: this many batches, so the lockstep loop stays full
CHUNK_BATCHES = 4
#: seconds to wait for each task of a dead actor to resolve (a result that was on its way
#: when the actor died, or the actor's error)
DEATH_GET_SECONDS = 30
#: executors known to --executor
EXECUTORS = ("local", "ray")


def check_executor(config: RunConfig) -> None:
    """Refuse an unknown executor, and ``ray`` when Ray is not installed.

    Raises:
        UsageError: naming --executor and the fix.
    """
    if config.executor not in EXECUTORS:
        raise UsageError(f"--executor must be one of {', '.join(EXECUTORS)}, got "
                         f"{config.executor!r}")
    if config.executor == "ray":
        try:
            import ray  # noqa: F401
        except ImportError:
            raise UsageError("--executor ray needs Ray: pip install 'iseg-bench[ray]'") from None


class UnitActor:
    """What a Ray actor holds: the run's protocol and context, built once (as a worker)."""

    def __init__(self, config_json: dict[str, Any]):
        import traceback

        from iseg_bench.execution.evaluation import TRACEBACK_FRAMES

        deterministic_opencv().__enter__()  # type: ignore[no-untyped-call]  # the whole life
        self.error: tuple[str, str, str] | None = None
        try:
            self.config = RunConfig.from_json(config_json)
            self.protocol = build_protocol(self.config)
            self.ctx = build_context(self.protocol, load_dataset(self.config))
        except Exception as exc:
            self.error = (type(exc).__name__, str(exc),
                          traceback.format_exc(limit=TRACEBACK_FRAMES))

    def ready(self) -> tuple[tuple[str, str, str] | None, dict[str, Any] | None]:
        """(None, the ``describe_context`` of its model, robot and dataset) once built, else
        ((error class name, message, traceback), None)."""
        return self.error, None if self.error else describe_context(self.ctx)

    def evaluate(self, units: list[Unit]) -> list[UnitResult]:
        """The result lines of `units` (never raises but for KeyboardInterrupt)."""
        return list(evaluate_units(self.protocol, self.ctx, units, self.config.batch_size))


#: a task: (units, attempt number from 1)
Task = tuple[list[Unit], int]


@dataclass
class _Actor:
    """One actor handle and the tasks it holds: object ref -> (task, start time)."""

    handle: Any
    ready_ref: Any
    ready: bool = False
    held: dict[Any, tuple[Task, float]] = field(default_factory=dict)


class _RayPool:
    """The actors of one run, the tasks not yet handed out and the results not yet given."""

    def __init__(self, ray: Any, config: RunConfig, units: list[Unit],
                 sample_timeout: float | None,
                 on_ready: Callable[[dict[str, Any]], None] | None = None):
        self.ray = ray
        self.on_ready = on_ready
        self.config_json = config.to_json()
        self.sample_timeout = sample_timeout
        size = 1 if config.batch_size <= 1 else CHUNK_BATCHES * config.batch_size
        self.pending: deque[Task] = deque((units[i:i + size], 1)
                                          for i in range(0, len(units), size))
        self.outstanding = len(self.pending)
        gpus = 1 if ray.cluster_resources().get("GPU", 0) >= 1 else 0
        self.actor_class = ray.remote(num_cpus=1, num_gpus=gpus, max_restarts=0)(UnitActor)
        self.in_flight = 1 if sample_timeout is not None else IN_FLIGHT
        self.actors = [self._start() for _ in range(min(max(1, config.workers),
                                                          self.outstanding))]

    def _start(self) -> _Actor:
        handle = self.actor_class.remote(self.config_json)
        return _Actor(handle, handle.ready.remote())

    def hand_out(self) -> None:
        """Give pending tasks to every ready actor with room."""
        for a in self.actors:
            while a.ready and len(a.held) < self.in_flight and self.pending:
                task = self.pending.popleft()
                a.held[a.handle.evaluate.remote(task[0])] = (task, time.monotonic())

    def _timeout(self) -> float | None:
        if self.sample_timeout is None:
            return None
        starts = [t0 for a in self.actors for _, t0 in a.held.values()]
        return max(0.0, min(starts) + self.sample_timeout - time.monotonic()) if starts else None

    def step(self) -> Iterator[UnitResult]:
        """Wait for the next finished call; the results it completes."""
        refs = [a.ready_ref for a in self.actors if not a.ready]
        refs += [r for a in self.actors for r in a.held]
        done, _ = self.ray.wait(refs, num_returns=1, timeout=self._timeout())
        for a in list(self.actors):
            if not a.ready and a.ready_ref in done:
                self._on_ready(a)
            for ref in [r for r in a.held if r in done]:
                if a in self.actors:
                    yield from self._on_result(a, ref)
            if a in self.actors and any(self._overdue(t0) for _, t0 in a.held.values()):
                yield from self._on_timeout(a)

    def _overdue(self, t0: float) -> bool:
        return self.sample_timeout is not None and time.monotonic() - t0 >= self.sample_timeout

    def _on_ready(self, a: _Actor) -> None:
        try:
            error, description = self.ray.get(a.ready_ref)
        except self.ray.exceptions.RayError as exc:
            raise AdapterError(f"a Ray actor died while starting ({type(exc).__name__}); "
                               "run with --executor local --workers 1 to see the "
                               "error") from exc
        if error is not None:
            raise _start_error(*error)
        a.ready = True
        if self.on_ready is not None:   # the first ready actor describes the run
            self.on_ready(description)
            self.on_ready = None

    def _on_result(self, a: _Actor, ref: Any) -> Iterator[UnitResult]:
        try:
            results: list[UnitResult] = self.ray.get(ref)
        except self.ray.exceptions.RayError:   # the actor, its process or its node died
            yield from self._on_death(a)
            return
        a.held.pop(ref)
        self.outstanding -= 1
        yield from results

    def _on_death(self, a: _Actor) -> Iterator[UnitResult]:
        """Re-try the tasks of the dead actor `a` (or record them as failed); replace it.
        Tasks it finished before it died keep their results; an actor runs its tasks in
        order, so only its first unfinished one was running and uses up an attempt."""
        self._drop(a)
        running = True
        for ref, ((units, attempt), _) in a.held.items():
            try:   # the actor is dead: each ref resolves soon, to a result or an error
                results: list[UnitResult] = self.ray.get(ref, timeout=DEATH_GET_SECONDS)
            except self.ray.exceptions.RayError:
                pass
            else:
                self.outstanding -= 1
                yield from results
                continue
            if not running:       # queued behind the running task: not tried yet
                self.pending.appendleft((units, attempt))
            elif attempt < WORKER_DEATH_ATTEMPTS:
                self.pending.appendleft((units, attempt + 1))
            else:
                self.outstanding -= 1
                yield from (_died(u, None, attempt) for u in units)
            running = False

    def _on_timeout(self, a: _Actor) -> Iterator[UnitResult]:
        """Kill `a`, whose task ran past the limit; its other tasks go back to the queue."""
        assert self.sample_timeout is not None
        self._drop(a)
        for (units, attempt), t0 in a.held.values():
            if self._overdue(t0):
                self.outstanding -= 1
                yield from (_timed_out(u, self.sample_timeout) for u in units)
            else:
                self.pending.appendleft((units, attempt))

    def _drop(self, a: _Actor) -> None:
        """Kill and forget `a`; start a fresh actor while work is left."""
        self.ray.kill(a.handle)
        self.actors.remove(a)
        if self.pending or self.outstanding > sum(len(x.held) for x in self.actors):
            self.actors.append(self._start())

    def close(self) -> None:
        """Kill every actor."""
        for a in self.actors:
            self.ray.kill(a.handle)


def ray_results(config: RunConfig, units: list[Unit], sample_timeout: float | None,
                on_ready: Callable[[dict[str, Any]], None] | None = None
                ) -> Iterator[UnitResult]:
    """Unit results, in completion order, from ``config.workers`` Ray actors on the cluster
    at ``config.ray_address`` (None: the running one of this process, else a new local
    cluster, shut down at the end). Closing the generator kills the actors. `on_ready` is
    called once, with the first ready actor's ``describe_context``.

    Raises:
        IsegBenchError: an actor could not build its dataset, model or robot (the error
            it reported, same class when it was an IsegBenchError, else AdapterError).
        AdapterError: an actor died before it was ready.
        UsageError: Ray is not installed.
    """
    check_executor(config)
    import ray

    started = not ray.is_initialized()
    if started:
        ray.init(address=config.ray_address, include_dashboard=False,
                 log_to_driver=False, logging_level=logging.ERROR)
    try:
        yield from drain(_RayPool(ray, config, units, sample_timeout, on_ready))
    finally:
        if started:
            ray.shutdown()

"""The worker pool: units evaluated in "spawn" worker processes, with a per-unit time limit
and a re-try of the unit a dying worker held.

Each worker builds its dataset, model and robot once; the main process hands it one unit at
a time. Timeouts and dead workers are described in ``docs/execution.md``.
"""

from __future__ import annotations

import ctypes
import multiprocessing as mp
import os
import signal
import sys
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from multiprocessing.connection import wait as wait_any
from multiprocessing.context import SpawnContext, SpawnProcess
from typing import Any, Protocol

from iseg_bench import errors
from iseg_bench.config import RunConfig
from iseg_bench.errors import AdapterError, IsegBenchError
from iseg_bench.execution.describe import describe_context
from iseg_bench.execution.evaluation import (
    TRACEBACK_FRAMES,
    build_context,
    evaluate_unit,
    load_dataset,
)
from iseg_bench.execution.journal import UnitResult, failed_result
from iseg_bench.masks import deterministic_opencv
from iseg_bench.protocols.base import Unit
from iseg_bench.protocols.registry import build_protocol

#: how many times a unit is evaluated when its worker process dies (first try + 1 retry)
WORKER_DEATH_ATTEMPTS = 2
#: seconds an idle worker is given to exit after it is asked to
STOP_GRACE_SECONDS = 2
#: seconds a killed worker is waited for
KILL_JOIN_SECONDS = 5

#: Linux prctl(2) option: the signal this process gets when its parent dies
#: (PR_SET_PDEATHSIG in <linux/prctl.h>)
PR_SET_PDEATHSIG = 1

#: a unit handed to a worker: (position in the run, unit, attempt number from 1)
Task = tuple[int, Unit, int]


def _die_with_parent(parent_pid: int) -> None:
    """Make this worker die with the main process `parent_pid`, however that one ends.

    On Linux the kernel sends SIGKILL when the parent dies (prctl PR_SET_PDEATHSIG), so a
    SIGKILL, OOM kill or CI timeout of the main process leaves no worker busy with a unit;
    a parent already gone by now (before the call) ends the worker at once. Elsewhere a
    worker notices the closed pipe only between units.

    Raises:
        OSError: prctl failed.
    """
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent_pid:
        os._exit(1)


def _worker_main(config_json: dict[str, Any], conn: Connection, parent_pid: int) -> None:
    """Worker process: build the context once, then evaluate the units it is sent."""
    _die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # the main process owns Ctrl-C
    deterministic_opencv().__enter__()  # type: ignore[no-untyped-call]  # the whole life
    try:
        config = RunConfig.from_json(config_json)
        protocol = build_protocol(config)
        ctx = build_context(protocol, load_dataset(config))
    except Exception as exc:
        conn.send(("init_error", (type(exc).__name__, str(exc),
                                  traceback.format_exc(limit=TRACEBACK_FRAMES))))
        return
    conn.send(("ready", describe_context(ctx)))
    while True:
        try:
            unit = conn.recv()
        except (EOFError, OSError):     # the main process is gone
            return
        if unit is None:
            return
        try:
            conn.send(("result", evaluate_unit(protocol, ctx, unit)))
        except (BrokenPipeError, OSError):
            return


def _start_error(name: str, message: str, tb: str) -> IsegBenchError:
    """The error a worker reported while building its model, dataset or robot: the same
    IsegBenchError class when it was one, else an AdapterError holding the traceback."""
    cls = getattr(errors, name, None)
    if isinstance(cls, type) and issubclass(cls, IsegBenchError):
        return cls(message)
    return AdapterError(f"a worker process could not start: {name}: {message}\n{tb}")


class _Worker:
    """One worker process, its pipe, and the task it holds."""

    def __init__(self, mpctx: SpawnContext, config_json: dict[str, Any]):
        self.conn, child = mpctx.Pipe(duplex=True)
        self.proc: SpawnProcess = mpctx.Process(
            target=_worker_main, args=(config_json, child, os.getpid()), daemon=True)
        self.proc.start()
        child.close()
        self.ready = False
        self.task: Task | None = None
        self.started = 0.0

    def assign(self, task: Task) -> None:
        """Send `task`'s unit to the worker and start its clock."""
        self.task = task
        self.started = time.monotonic()
        self.conn.send(task[1])

    def receive(self) -> tuple[str, Any] | None:
        """The worker's next message, or None when there is none (or the pipe broke)."""
        try:
            message: tuple[str, Any] | None = self.conn.recv() if self.conn.poll() else None
        except (EOFError, OSError):
            return None
        return message

    def overdue(self, sample_timeout: float | None) -> bool:
        """Whether the unit it holds has run `sample_timeout` seconds or more."""
        return (self.task is not None and sample_timeout is not None
                and time.monotonic() - self.started >= sample_timeout)

    def kill(self) -> int | None:
        """Kill the process (SIGKILL) and reap it; returns its exit code."""
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(KILL_JOIN_SECONDS)
        self.conn.close()
        return self.proc.exitcode

    def stop(self) -> None:
        """Ask an idle worker to exit, then make sure it has."""
        try:
            self.conn.send(None)
        except (BrokenPipeError, OSError):
            pass
        self.proc.join(STOP_GRACE_SECONDS)
        self.kill()


def _wait_timeout(workers: list[_Worker], sample_timeout: float | None) -> float | None:
    """Seconds until the first busy worker's time limit (None: no limit applies)."""
    if sample_timeout is None:
        return None
    now = time.monotonic()
    deadlines = [w.started + sample_timeout - now for w in workers if w.task is not None]
    return max(0.0, min(deadlines)) if deadlines else None


def _died(unit: Unit, code: int | None, attempt: int) -> UnitResult:
    return failed_result(unit.unit_id, f"WorkerDied: the worker process died (exit code "
                                       f"{code}) while evaluating this sample, {attempt} times")


def _timed_out(unit: Unit, sample_timeout: float) -> UnitResult:
    return failed_result(unit.unit_id, f"SampleTimeout: the sample took longer than the "
                                       f"--sample-timeout of {sample_timeout:g} s; its worker "
                                       f"process was killed")


class _Pool:
    """The workers of one run, the tasks not yet handed out and the results not yet given."""

    def __init__(self, config: RunConfig, units: list[Unit], n_workers: int,
                 sample_timeout: float | None,
                 on_ready: Callable[[dict[str, Any]], None] | None = None):
        self.on_ready = on_ready
        self.mpctx = mp.get_context("spawn")
        self.config_json = config.to_json()
        self.sample_timeout = sample_timeout
        self.pending: deque[Task] = deque((i, u, 1) for i, u in enumerate(units))
        self.outstanding = len(units)
        self.workers = [_Worker(self.mpctx, self.config_json)
                        for _ in range(min(n_workers, len(units)))]

    def hand_out(self) -> None:
        """Give a pending task to every ready, idle worker."""
        for w in self.workers:
            if w.ready and w.task is None and self.pending:
                w.assign(self.pending.popleft())

    def step(self) -> Iterator[UnitResult]:
        """Wait for the next events of the workers; the results they complete."""
        waitables = [w.conn for w in self.workers] + [w.proc.sentinel for w in self.workers]
        ready = set(wait_any(waitables, _wait_timeout(self.workers, self.sample_timeout)))
        replaced: list[_Worker] = []
        for w in self.workers:
            message = w.receive() if w.conn in ready or w.proc.sentinel in ready else None
            if message is not None:
                yield from self._on_message(w, message)
            elif w.proc.sentinel in ready or not w.proc.is_alive():
                yield from self._on_death(w)
                replaced.append(w)
            elif w.overdue(self.sample_timeout):
                yield self._on_timeout(w)
                replaced.append(w)
        self._replace(replaced)

    def _on_message(self, w: _Worker, message: tuple[str, Any]) -> Iterator[UnitResult]:
        kind, payload = message
        if kind == "ready":
            w.ready = True
            if self.on_ready is not None:   # the first worker's describe_context
                self.on_ready(payload)
                self.on_ready = None
        elif kind == "init_error":
            raise _start_error(*payload)
        else:
            w.task = None
            if self.pending:  # keep the worker busy while the caller syncs the journal
                w.assign(self.pending.popleft())
            self.outstanding -= 1
            yield payload

    def _on_death(self, w: _Worker) -> Iterator[UnitResult]:
        code = w.kill()
        if w.task is None and not w.ready:
            raise AdapterError(f"a worker process died while starting (exit code "
                               f"{code}); run with --workers 1 to see the error")
        if w.task is not None:
            index, unit, attempt = w.task
            if attempt < WORKER_DEATH_ATTEMPTS:
                self.pending.appendleft((index, unit, attempt + 1))
            else:
                self.outstanding -= 1
                yield _died(unit, code, attempt)

    def _on_timeout(self, w: _Worker) -> UnitResult:
        assert w.task is not None and self.sample_timeout is not None
        w.kill()
        self.outstanding -= 1
        result = _timed_out(w.task[1], self.sample_timeout)
        w.task = None
        return result

    def _replace(self, gone: list[_Worker]) -> None:
        """Drop the dead or killed workers; start fresh ones while work is left for them."""
        for w in gone:
            self.workers.remove(w)
            busy = sum(x.task is not None for x in self.workers)
            if self.pending or self.outstanding > busy:
                self.workers.append(_Worker(self.mpctx, self.config_json))

    def close(self) -> None:
        """Stop idle workers, kill busy or starting ones."""
        for w in self.workers:
            if w.task is None and w.ready:
                w.stop()
            else:
                w.kill()


def process_results(config: RunConfig, units: list[Unit], n_workers: int,
                    sample_timeout: float | None,
                    on_ready: Callable[[dict[str, Any]], None] | None = None
                    ) -> Iterator[UnitResult]:
    """Unit results, in completion order, from `n_workers` worker processes.

    A unit still running after `sample_timeout` seconds (None: no limit) has its worker
    killed and is given as failed ("SampleTimeout: ..."); the unit of a worker that dies is
    re-tried once in a fresh worker, then given as failed ("WorkerDied: ..."). Closing the
    generator kills the workers. `on_ready` is called once, with the first ready worker's
    ``describe_context`` of its model, robot and dataset.

    Raises:
        IsegBenchError: a worker could not build its dataset, model or robot (the error
            it reported, same class when it was an IsegBenchError, else AdapterError).
        AdapterError: a worker died before it was ready.
    """
    return drain(_Pool(config, units, n_workers, sample_timeout, on_ready))


class UnitPool(Protocol):
    """What :func:`drain` needs of a pool of workers (local processes or Ray actors)."""

    outstanding: int

    def hand_out(self) -> None:
        """Give pending units to idle workers."""

    def step(self) -> Iterator[UnitResult]:
        """Wait for the next events; the results they complete."""

    def close(self) -> None:
        """Stop or kill every worker."""


def drain(pool: UnitPool) -> Iterator[UnitResult]:
    """The results of `pool` until none is outstanding; closing the generator (or an
    error) closes the pool."""
    try:
        while pool.outstanding:
            pool.hand_out()
            yield from pool.step()
    finally:
        pool.close()

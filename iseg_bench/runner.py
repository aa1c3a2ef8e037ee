"""Executes a run: units (samples) in order, serially or in worker processes, each unit's
result written durably as it finishes, then the figures, tables and plots.

Implements issue 6 ("Runs that survive faults and bad input, resume where they stopped"):

* Failure isolation. A unit whose model raises, returns a bad map (the protocol validates
  it) or whose data is bad is recorded as failed with its reason; the run goes on.
  ``fail_fast=True`` stops at the first failure instead (the run is then incomplete).
* Per-sample time limit. With ``sample_timeout`` set, every unit runs in a worker process
  (one when ``workers == 1``) and a unit that is still running after ``sample_timeout``
  seconds has its worker killed (SIGKILL) and is recorded as failed
  ("SampleTimeout: ..."); a fresh worker takes over. A killed process is the only limit that
  also stops a model stuck inside C code (OpenCV, torch), which ``signal.alarm`` cannot
  interrupt. A timed-out unit is not re-tried.
* Dead workers. A worker process that dies (a crash, ``os._exit``, SIGKILL, the OOM killer)
  is detected through its process sentinel; the unit it was evaluating is re-tried once in a
  fresh worker, and recorded as failed ("WorkerDied: ...") when it kills that one too. A
  worker that dies before it could start raises an error: nothing would run.
* Interruption. Ctrl-C (SIGINT) and SIGTERM stop the run cleanly: workers are killed, every
  finished unit is already in the journal, and the summary of what was done is written with
  ``complete: false``. Workers ignore SIGINT; the main process owns the shutdown.
* Resume. ``resume=True`` continues the run in ``out_dir``: the configuration identity
  (``RunConfig.identity()``), the library versions and the unit list must equal those in its
  config.json (else ConfigMismatchError naming every differing setting); units with an "ok"
  result are skipped, **failed units are evaluated again** (a failure may be transient: a
  timeout, a dead worker), and units never started are evaluated.
* Determinism. Final outputs are always built from the journal, read back and put in unit
  order, so records.csv is byte-identical for the same configuration serially, with
  ``workers=N`` and after any number of resumes. Wall-clock timing (``model_seconds``) is
  written to timings.csv, not to records.csv (see ``iseg_bench.runs``). OpenCV's Intel IPP
  code paths are switched off while a run evaluates (in the main process and in every
  worker): IPP's precise distance transform, which the reference clicker uses, returns
  values that differ in the last float bits from call to call (it reads an uninitialised
  buffer; opencv/opencv issue 24082), enough to move a click between two pixels of nearly
  equal distance. OpenCV's own implementation is exact to the same precision and as fast.

Workers are started with the "spawn" method and each builds its own dataset, model and robot
once; the main process hands them one unit at a time, so a dead or killed worker costs only
the unit it held.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import signal
import threading
import time
import traceback
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import wait as wait_any
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm import tqdm

from iseg_bench import errors, runs
from iseg_bench.config import RunConfig, versions
from iseg_bench.datasets.registry import get_dataset
from iseg_bench.errors import AdapterError, ConfigMismatchError, IsegBenchError
from iseg_bench.masks import deterministic_opencv
from iseg_bench.protocols.base import Protocol, Unit, WorkerContext
from iseg_bench.protocols.registry import build_protocol

#: how many times a unit is evaluated when its worker process dies (first try + 1 retry)
WORKER_DEATH_ATTEMPTS = 2


def load_dataset(config: RunConfig):
    """The run's dataset (raises DatasetError naming the layout when it is wrong)."""
    return get_dataset(config.dataset, config.data_root, **config.dataset_options)


def build_context(protocol: Protocol, dataset) -> WorkerContext:
    """The protocol's model and robot around `dataset`.

    Raises:
        AdapterError: the model or robot cannot be built (the cause is in the message);
            an IsegBenchError raised by the factory passes through unchanged.
    """
    try:
        return protocol.build_context(dataset)
    except IsegBenchError:
        raise
    except Exception as exc:
        raise AdapterError(f"cannot build the model {protocol.config.model!r} or the robot "
                           f"{protocol.config.robot!r}: {type(exc).__name__}: {exc}") from exc


def failure(unit_id: str, error: str, tb: str | None = None) -> dict[str, Any]:
    """A failed unit's result line."""
    return {"unit_id": unit_id, "status": "failed", "error": error, "traceback": tb,
            "records": []}


def evaluate_unit(protocol: Protocol, ctx: WorkerContext, unit: Unit) -> dict[str, Any]:
    """One unit's result line: its records, or the failure reason.

    Never raises Exception (KeyboardInterrupt and SystemExit pass through).
    """
    try:
        return {"unit_id": unit.unit_id, "status": "ok", "error": None,
                "records": protocol.evaluate(unit, ctx)}
    except Exception as exc:  # one bad sample or model call must not lose the run
        return failure(unit.unit_id, f"{type(exc).__name__}: {exc}",
                       traceback.format_exc(limit=8))


# ---------------------------------------------------------------------------------------
# Worker processes
# ---------------------------------------------------------------------------------------

def _worker_main(config_json: dict[str, Any], conn) -> None:
    """Worker process: build the context once, then evaluate the units it is sent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # the main process owns Ctrl-C
    deterministic_opencv().__enter__()              # for the worker's whole life
    try:
        config = RunConfig.from_json(config_json)
        protocol = build_protocol(config)
        ctx = build_context(protocol, load_dataset(config))
    except Exception as exc:
        conn.send(("init_error", (type(exc).__name__, str(exc), traceback.format_exc(limit=8))))
        return
    conn.send(("ready", None))
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
    """The error a worker reported while building its model, dataset or robot."""
    cls = getattr(errors, name, None)
    if isinstance(cls, type) and issubclass(cls, IsegBenchError):
        return cls(message)
    return AdapterError(f"a worker process could not start: {name}: {message}\n{tb}")


class _Worker:
    """One worker process, its pipe, and the unit it holds (index, unit, attempt)."""

    def __init__(self, mpctx, config_json: dict[str, Any]):
        self.conn, child = mpctx.Pipe(duplex=True)
        self.proc = mpctx.Process(target=_worker_main, args=(config_json, child), daemon=True)
        self.proc.start()
        child.close()
        self.ready = False
        self.task: tuple[int, Unit, int] | None = None
        self.started = 0.0

    def assign(self, task: tuple[int, Unit, int]) -> None:
        self.task = task
        self.started = time.monotonic()
        self.conn.send(task[1])

    def kill(self) -> int | None:
        """Kill the process (SIGKILL) and reap it; returns its exit code."""
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(5)
        self.conn.close()
        return self.proc.exitcode

    def stop(self) -> None:
        """Ask an idle worker to exit, then make sure it has."""
        try:
            self.conn.send(None)
        except (BrokenPipeError, OSError):
            pass
        self.proc.join(2)
        self.kill()


def _process_results(config: RunConfig, units: list[Unit], n_workers: int,
                     sample_timeout: float | None) -> Iterator[dict[str, Any]]:
    """Unit results, in completion order, from `n_workers` worker processes (see module
    docstring for timeouts and dead workers). Closing the generator kills the workers."""
    mpctx = mp.get_context("spawn")
    config_json = config.to_json()
    pending: deque[tuple[int, Unit, int]] = deque((i, u, 1) for i, u in enumerate(units))
    workers = [_Worker(mpctx, config_json) for _ in range(min(n_workers, len(units)))]
    outstanding = len(units)
    try:
        while outstanding:
            for w in workers:
                if w.ready and w.task is None and pending:
                    w.assign(pending.popleft())
            now = time.monotonic()
            deadlines = [w.started + sample_timeout - now for w in workers
                         if w.task is not None and sample_timeout is not None]
            timeout = max(0.0, min(deadlines)) if deadlines else None
            waitables = [w.conn for w in workers] + [w.proc.sentinel for w in workers]
            ready = set(wait_any(waitables, timeout))
            replaced: list[_Worker] = []
            for w in workers:
                message = None
                if w.conn in ready or w.proc.sentinel in ready:
                    try:
                        message = w.conn.recv() if w.conn.poll() else None
                    except (EOFError, OSError):
                        message = None
                if message is not None:
                    kind, payload = message
                    if kind == "ready":
                        w.ready = True
                    elif kind == "init_error":
                        raise _start_error(*payload)
                    else:
                        w.task = None
                        if pending:  # keep the worker busy while the caller syncs the journal
                            w.assign(pending.popleft())
                        outstanding -= 1
                        yield payload
                    continue
                if w.proc.sentinel in ready or not w.proc.is_alive():
                    code = w.kill()
                    if w.task is None and not w.ready:
                        raise AdapterError(f"a worker process died while starting (exit code "
                                           f"{code}); run with --workers 1 to see the error")
                    if w.task is not None:
                        index, unit, attempt = w.task
                        if attempt < WORKER_DEATH_ATTEMPTS:
                            pending.appendleft((index, unit, attempt + 1))
                        else:
                            outstanding -= 1
                            yield failure(unit.unit_id,
                                          f"WorkerDied: the worker process died (exit code "
                                          f"{code}) while evaluating this sample, "
                                          f"{attempt} times")
                    replaced.append(w)
                    continue
                if (w.task is not None and sample_timeout is not None
                        and time.monotonic() - w.started >= sample_timeout):
                    w.kill()
                    outstanding -= 1
                    yield failure(w.task[1].unit_id,
                                  f"SampleTimeout: the sample took longer than the "
                                  f"--sample-timeout of {sample_timeout:g} s; its worker "
                                  f"process was killed")
                    w.task = None
                    replaced.append(w)
            for w in replaced:
                workers.remove(w)
                if pending or outstanding > sum(x.task is not None for x in workers):
                    workers.append(_Worker(mpctx, config_json))
    finally:
        for w in workers:
            if w.task is None and w.ready:
                w.stop()
            else:
                w.kill()


def iterate_results(config: RunConfig, protocol: Protocol, dataset, units: list[Unit],
                    sample_timeout: float | None = None,
                    ctx: WorkerContext | None = None) -> Iterator[dict[str, Any]]:
    """Unit results, from this process (``config.workers <= 1`` and no time limit: unit
    order; `ctx` is built when not given) or from worker processes (completion order).

    Raises AdapterError (or the worker's IsegBenchError) when a worker cannot start.
    """
    if sample_timeout is None and (config.workers <= 1 or len(units) <= 1):
        if not units:
            return
        ctx = ctx if ctx is not None else build_context(protocol, dataset)
        for unit in units:
            yield evaluate_unit(protocol, ctx, unit)
        return
    yield from _process_results(config, units, max(1, config.workers), sample_timeout)


# ---------------------------------------------------------------------------------------
# Resume
# ---------------------------------------------------------------------------------------

def _plain(obj: Any) -> Any:
    return json.loads(json.dumps(obj, default=runs._json_default))


def resume_mismatches(stored: dict[str, Any], config: RunConfig,
                      unit_ids: list[str]) -> list[str]:
    """Why a stored run (its config.json) cannot be continued with `config`; [] if it can.

    Compares every identity setting, every library version and the unit list.
    """
    problems = []
    then = _plain(RunConfig.from_json(stored).identity())
    now = _plain(config.identity())
    for key in sorted(set(then) | set(now)):
        if then.get(key) != now.get(key):
            problems.append(f"setting {key!r}: the run has {then.get(key)!r}, this command "
                            f"has {now.get(key)!r}")
    v_then, v_now = stored.get("versions", {}), versions()
    for key in sorted(set(v_then) | set(v_now)):
        if v_then.get(key) != v_now.get(key):
            problems.append(f"version of {key}: the run used {v_then.get(key)!r}, this "
                            f"environment has {v_now.get(key)!r}")
    stored_units = stored.get("units")
    if stored_units is not None and stored_units != unit_ids:
        first = next((i for i, (a, b) in enumerate(zip(stored_units, unit_ids)) if a != b),
                     min(len(stored_units), len(unit_ids)))
        problems.append(f"samples: the run has {len(stored_units)}, this command "
                        f"{len(unit_ids)} (first difference at position {first}; "
                        "--limit, the dataset or its options changed)")
    return problems


def check_resume(out_dir: Path, config: RunConfig, units: list[Unit]) -> dict[str, Any]:
    """The stored config.json of `out_dir`, after checking it matches `config`.

    Raises:
        IsegBenchError: `out_dir` holds no run.
        ConfigMismatchError: the message lists every differing setting.
    """
    stored = runs.read_config(out_dir)
    if stored is None:
        raise IsegBenchError(f"cannot resume {out_dir}: it holds no run ({runs.CONFIG} "
                             "missing); start it without --resume")
    problems = resume_mismatches(stored, config, [u.unit_id for u in units])
    if problems:
        raise ConfigMismatchError(f"cannot resume {out_dir}: this command differs from the "
                                  "interrupted run:\n  - " + "\n  - ".join(problems))
    return stored


# ---------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------

@dataclass
class RunOutcome:
    """What a run produced.

    Attributes:
        out_dir: the run folder.
        summary: the figures written to summary.json.
        n_ok, n_failed: units completed / failed (including those of earlier attempts when
            resumed).
        complete: every unit has a result (False when interrupted or stopped by fail-fast).
        interrupted: stopped by Ctrl-C / SIGTERM.
        n_skipped: units already done in the folder when a resume started.
    """

    out_dir: Path
    summary: dict[str, Any]
    n_ok: int
    n_failed: int
    complete: bool = True
    interrupted: bool = False
    n_skipped: int = 0


class _TerminateAsInterrupt:
    """Within the block, SIGTERM raises KeyboardInterrupt in the main thread."""

    def __enter__(self):
        self._old = None
        if threading.current_thread() is threading.main_thread():
            self._old = signal.signal(signal.SIGTERM, self._raise)
        return self

    @staticmethod
    def _raise(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    def __exit__(self, *exc):
        if self._old is not None:
            signal.signal(signal.SIGTERM, self._old)
        return False


def execute(config: RunConfig, out_dir: Path, progress: bool = True, *, resume: bool = False,
            fail_fast: bool = False, sample_timeout: float | None = None) -> RunOutcome:
    """Run `config` into the folder `out_dir` (created) and write every output.

    Args:
        config: the run's settings.
        out_dir: the run folder (see ``iseg_bench.runs``).
        progress: show a progress bar.
        resume: continue the run already in `out_dir` (see module docstring).
        fail_fast: stop at the first failed unit.
        sample_timeout: seconds one unit may take (None = no limit); see module docstring.

    Returns:
        RunOutcome. Ctrl-C / SIGTERM do not raise: the outcome says ``interrupted``.

    Raises:
        DatasetError / AdapterError: before any work, when the dataset or model is wrong.
        ConfigMismatchError: a resume with different settings.
        IsegBenchError: `out_dir` already holds a run and `resume` is False, or holds none
            and `resume` is True.
    """
    if sample_timeout is not None and not sample_timeout > 0:
        raise IsegBenchError(f"--sample-timeout must be > 0 seconds, got {sample_timeout}")
    dataset = load_dataset(config)
    protocol = build_protocol(config)
    units = protocol.units(dataset)
    out_dir = Path(out_dir)
    done: dict[str, dict[str, Any]] = {}
    if resume:
        check_resume(out_dir, config, units)
        done = {k: r for k, r in runs.latest_results(out_dir).items() if r["status"] == "ok"}
    elif (out_dir / runs.RECORDS).exists() or (out_dir / runs.CONFIG).exists():
        raise IsegBenchError(f"{out_dir} already holds a run; continue it with --resume "
                             f"{out_dir} or choose another --out")
    todo = [u for u in units if u.unit_id not in done]
    ctx = None
    if sample_timeout is None and config.workers <= 1 and todo:
        ctx = build_context(protocol, dataset)   # a broken model fails before any work
    if not resume:
        out_dir.mkdir(parents=True, exist_ok=True)
        runs.write_json(out_dir / runs.CONFIG, {**config.to_json(), "versions": versions(),
                                                "units": [u.unit_id for u in units]})
    interrupted = stopped = False
    n_written = 0
    writer = runs.RecordWriter(out_dir / runs.RECORDS)
    bar = tqdm(total=len(units), initial=len(units) - len(todo), unit=protocol.unit_name,
               desc=f"{config.model} on {config.dataset}", disable=not progress)
    stream = iterate_results(config, protocol, dataset, todo, sample_timeout, ctx=ctx)
    try:
        with _TerminateAsInterrupt(), deterministic_opencv():
            try:
                for result in stream:
                    writer.write(result)
                    n_written += 1
                    bar.update(1)
                    if fail_fast and result["status"] != "ok":
                        stopped = True
                        break
            except KeyboardInterrupt:
                interrupted = True
            finally:
                stream.close()      # kills the workers
    except IsegBenchError:
        writer.close()
        if not resume and n_written == 0:   # a worker could not start: leave no run behind
            for name in (runs.RECORDS, runs.CONFIG):
                (out_dir / name).unlink(missing_ok=True)
        raise
    finally:
        writer.close()
        bar.close()
    unit_ids = [u.unit_id for u in units]
    results = runs.order_results(runs.read_results(out_dir), unit_ids)
    complete = not (interrupted or stopped) and len(results) == len(units)
    outcome = finalize(config, protocol, out_dir, results, complete=complete,
                       unit_order=unit_ids)
    outcome.interrupted = interrupted
    outcome.n_skipped = len(units) - len(todo)
    return outcome


def units_digest(unit_ids: list[str]) -> str:
    """SHA-1 of the ordered unit ids: identifies a run's sample list in its summary."""
    return hashlib.sha1("\n".join(unit_ids).encode("utf-8")).hexdigest()


def finalize(config: RunConfig, protocol: Protocol, out_dir: Path,
             results: Iterable[dict[str, Any]], complete: bool = True,
             unit_order: list[str] | None = None) -> RunOutcome:
    """Write records.csv, timings.csv, failures.csv, summary.json/.md and plots.

    Args:
        results: unit result lines (several per unit allowed: the last counts).
        complete: whether every unit was attempted (stored as ``summary["complete"]``).
        unit_order: the run's unit ids in order (default: the ``units`` of config.json, else
            the order of `results`).

    The figures are computed over the completed units; the summary states how many units
    there are (``n_units``), completed (``n_samples``) and failed (``n_failed``).
    """
    from iseg_bench.reports.presenters import write_plots
    from iseg_bench.reports.tables import summary_markdown

    out_dir = Path(out_dir)
    if unit_order is None:
        unit_order = (runs.read_config(out_dir) or {}).get("units")
    results = runs.order_results(results, unit_order)
    records = runs.records_frame(results)
    failures = pd.DataFrame([{"unit_id": r["unit_id"], "error": r["error"]}
                             for r in results if r["status"] != "ok"],
                            columns=["unit_id", "error"])
    if len(records):
        runs.write_records(records, out_dir)
    else:
        (out_dir / runs.RECORDS_CSV).write_text("", encoding="utf-8")
    failures.to_csv(out_dir / runs.FAILURES_CSV, index=False)
    summary = protocol.summarize(records).to_json() if len(records) else {"n_samples": 0}
    n_units = len(unit_order) if unit_order is not None else len(results)
    summary.update(n_failed=len(failures), n_units=n_units, complete=bool(complete),
                   protocol=config.protocol, model=config.model, dataset=config.dataset,
                   robot=config.robot, config=config.identity(),
                   units_sha1=units_digest(list(unit_order)) if unit_order is not None
                   else None)
    runs.write_json(out_dir / runs.SUMMARY, summary)
    (out_dir / "summary.md").write_text(summary_markdown([summary]) + "\n", encoding="utf-8")
    if len(records):
        (out_dir / "plots").mkdir(exist_ok=True)
        write_plots(summary, out_dir / "plots")
    return RunOutcome(out_dir, summary, len(results) - len(failures), len(failures),
                      complete=bool(complete))

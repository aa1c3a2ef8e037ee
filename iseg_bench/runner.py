"""Executes a run: units in order, serially or in worker processes, each unit's result
written durably as it finishes, then the figures, tables and plots.

A unit that raises is recorded as failed with its reason; the run goes on. Worker processes
are started with the "spawn" method, each builds its own dataset, adapter and robot once,
and results come back in unit order, so records are identical to a serial run.
"""

from __future__ import annotations

import multiprocessing as mp
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

import pandas as pd
from tqdm import tqdm

from iseg_bench import runs
from iseg_bench.config import RunConfig, versions
from iseg_bench.datasets.registry import get_dataset
from iseg_bench.protocols.base import Protocol, Unit, WorkerContext
from iseg_bench.protocols.registry import build_protocol


def load_dataset(config: RunConfig):
    """The run's dataset (raises DatasetError naming the layout when it is wrong)."""
    return get_dataset(config.dataset, config.data_root, **config.dataset_options)


def evaluate_unit(protocol: Protocol, ctx: WorkerContext, unit: Unit) -> dict[str, Any]:
    """One unit's result line: its records, or the failure reason (never raises Exception)."""
    try:
        return {"unit_id": unit.unit_id, "status": "ok", "error": None,
                "records": protocol.evaluate(unit, ctx)}
    except Exception as exc:  # one bad sample or model call must not lose the run
        return {"unit_id": unit.unit_id, "status": "failed",
                "error": f"{type(exc).__name__}: {exc}",
                "traceback": traceback.format_exc(limit=8), "records": []}


_WORKER: tuple[Protocol, WorkerContext] | None = None


def _init_worker(config_json: dict[str, Any]) -> None:
    global _WORKER
    config = RunConfig.from_json(config_json)
    protocol = build_protocol(config)
    _WORKER = (protocol, protocol.build_context(load_dataset(config)))


def _worker_evaluate(unit: Unit) -> dict[str, Any]:
    protocol, ctx = _WORKER
    return evaluate_unit(protocol, ctx, unit)


def iterate_results(config: RunConfig, protocol: Protocol, dataset,
                    units: list[Unit]) -> Iterator[dict[str, Any]]:
    """Unit results in unit order, from this process or from `config.workers` processes."""
    if config.workers <= 1 or len(units) <= 1:
        ctx = protocol.build_context(dataset)
        for unit in units:
            yield evaluate_unit(protocol, ctx, unit)
        return
    pool = mp.get_context("spawn").Pool(config.workers, _init_worker, (config.to_json(),))
    try:
        yield from pool.imap(_worker_evaluate, units, chunksize=1)
        pool.close()
    finally:
        pool.terminate()
        pool.join()


@dataclass
class RunOutcome:
    """What a finished run produced."""

    out_dir: Path
    summary: dict[str, Any]
    n_ok: int
    n_failed: int


def execute(config: RunConfig, out_dir: Path, progress: bool = True) -> RunOutcome:
    """Run `config` into the folder `out_dir` (created) and write every output.

    Raises DatasetError / AdapterError before any work when the dataset or model is wrong.
    """
    dataset = load_dataset(config)
    protocol = build_protocol(config)
    units = protocol.units(dataset)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    runs.write_json(out_dir / runs.CONFIG, {**config.to_json(), "versions": versions(),
                                            "units": [u.unit_id for u in units]})
    writer = runs.RecordWriter(out_dir / runs.RECORDS)
    results = []
    try:
        stream = iterate_results(config, protocol, dataset, units)
        for result in tqdm(stream, total=len(units), desc=f"{config.model} on {config.dataset}",
                           unit=protocol.unit_name, disable=not progress):
            writer.write(result)
            results.append(result)
    finally:
        writer.close()
    return finalize(config, protocol, out_dir, results)


def finalize(config: RunConfig, protocol: Protocol, out_dir: Path,
             results: Iterable[dict[str, Any]], complete: bool = True) -> RunOutcome:
    """Write records.csv, failures.csv, summary.json/.md and plots from unit results."""
    from iseg_bench.reports.tables import summary_markdown

    results = list(results)
    records = runs.records_frame(results)
    failures = pd.DataFrame([{"unit_id": r["unit_id"], "error": r["error"]}
                             for r in results if r["status"] != "ok"],
                            columns=["unit_id", "error"])
    records.to_csv(out_dir / "records.csv", index=False)
    failures.to_csv(out_dir / "failures.csv", index=False)
    summary = protocol.summarize(records) if len(records) else {"n_samples": 0}
    summary.update(n_failed=len(failures), complete=complete, protocol=config.protocol,
                   model=config.model, dataset=config.dataset, robot=config.robot,
                   config=config.identity())
    runs.write_json(out_dir / runs.SUMMARY, summary)
    (out_dir / "summary.md").write_text(summary_markdown([summary]) + "\n", encoding="utf-8")
    if len(records):
        (out_dir / "plots").mkdir(exist_ok=True)
        protocol.write_plots(records, summary, out_dir / "plots")
    return RunOutcome(out_dir, summary, len(results) - len(failures), len(failures))

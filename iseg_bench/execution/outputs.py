"""Output writing: records.csv, timings.csv, failures.csv, summary.json/.md and plots, built
from the journal's unit results in unit order, and the run's outcome."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from iseg_bench.config import RunConfig
from iseg_bench.execution.journal import UnitResult, order_results
from iseg_bench.protocols.base import Protocol
from iseg_bench.run_folder import (
    FAILURES_CSV,
    PLOTS,
    RECORDS_CSV,
    SUMMARY,
    SUMMARY_MD,
    read_config,
    write_json,
    write_records,
)


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


def units_digest(unit_ids: list[str]) -> str:
    """SHA-1 (hex) of the ordered unit ids joined by newlines: identifies a run's sample
    list in its summary."""
    return hashlib.sha1("\n".join(unit_ids).encode("utf-8")).hexdigest()


def records_frame(results: list[UnitResult]) -> pd.DataFrame:
    """Tidy DataFrame of the records of completed units, in the order of `results`."""
    rows = [r for res in results if res["status"] == "ok" for r in res["records"]]
    return pd.DataFrame(rows)


def failures_frame(results: list[UnitResult]) -> pd.DataFrame:
    """unit_id and error of every failed unit, in the order of `results`."""
    return pd.DataFrame([{"unit_id": r["unit_id"], "error": r["error"]}
                         for r in results if r["status"] != "ok"],
                        columns=["unit_id", "error"])


def figures(protocol: Protocol, records: pd.DataFrame) -> dict[str, Any]:
    """The protocol's figures of `records` as summary.json's dict ({"n_samples": 0} when
    no unit completed)."""
    return protocol.summarize(records).to_json() if len(records) else {"n_samples": 0}


def finalize(config: RunConfig, protocol: Protocol, out_dir: Path,
             results: Iterable[UnitResult], complete: bool = True,
             unit_order: list[str] | None = None,
             run_seconds: dict[str, Any] | None = None) -> RunOutcome:
    """Write records.csv, timings.csv, failures.csv, summary.json/.md and plots.

    Args:
        config: the run's settings (stored in the summary as its identity).
        protocol: computes the figures.
        out_dir: the run folder.
        results: unit result lines (several per unit allowed: the last counts).
        complete: whether every unit was attempted (stored as ``summary["complete"]``).
        unit_order: the run's unit ids in order (default: the ``units`` of config.json, else
            the order of `results`).
        run_seconds: the run-level throughput, stored as ``summary["run_seconds"]`` when
            given (:func:`throughput`).

    Returns:
        RunOutcome; the figures cover the completed units, and the summary states how many
        units there are (``n_units``), completed (``n_samples``) and failed (``n_failed``).
    """
    # imported here, not at the top: worker processes import this package and never plot
    from iseg_bench.reports.presenters import write_plots
    from iseg_bench.reports.tables import summary_markdown

    out_dir = Path(out_dir)
    if unit_order is None:
        unit_order = (read_config(out_dir) or {}).get("units")
    ordered = order_results(results, unit_order)
    records = records_frame(ordered)
    failures = failures_frame(ordered)
    if len(records):
        write_records(records, out_dir)
    else:
        (out_dir / RECORDS_CSV).write_text("", encoding="utf-8")
    failures.to_csv(out_dir / FAILURES_CSV, index=False)
    summary = figures(protocol, records)
    summary.update(n_failed=len(failures),
                   n_units=len(unit_order) if unit_order is not None else len(ordered),
                   complete=bool(complete), protocol=config.protocol, model=config.model,
                   dataset=config.dataset, robot=config.robot, config=config.identity(),
                   units_sha1=units_digest(unit_order) if unit_order is not None else None)
    if config.name:
        summary["name"] = config.name   # the label of tables and legends, only when given
    if run_seconds is not None:
        summary["run_seconds"] = run_seconds
    write_json(out_dir / SUMMARY, summary)
    (out_dir / SUMMARY_MD).write_text(summary_markdown([summary]) + "\n", encoding="utf-8")
    if len(records):
        (out_dir / PLOTS).mkdir(exist_ok=True)
        write_plots(summary, out_dir / PLOTS)
    return RunOutcome(out_dir, summary, len(ordered) - len(failures), len(failures),
                      complete=bool(complete))


def throughput(wall_seconds: float, interactions: int, batch_size: int) -> dict[str, Any]:
    """The run-level throughput figure: `interactions` evaluated in `wall_seconds` of
    wall-clock time (this attempt's units only when resumed) with lockstep batches of
    `batch_size`; ``interactions_per_second`` is None when no time passed."""
    rate = interactions / wall_seconds if wall_seconds > 0 else None
    return {"wall_seconds": wall_seconds, "interactions": interactions,
            "interactions_per_second": rate, "batch_size": batch_size}

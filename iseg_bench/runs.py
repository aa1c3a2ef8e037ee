"""The run folder: its files, and durable reading and writing of unit results.

Layout of a run folder::

    config.json      RunConfig + versions + sample count
    records.jsonl    one JSON line per finished unit: {"unit_id", "status", "error",
                     "records": [...]}; appended and fsync'ed as each unit finishes
    records.csv      tidy rows (one per sample and interaction) of the completed units
    failures.csv     unit id and reason of every failed unit
    summary.json     figures; summary.md the same as a Markdown table
    plots/*.png      the protocol's standard plots

A line that does not parse (a torn last write after a crash) is dropped on reading.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterator

import pandas as pd

CONFIG = "config.json"
RECORDS = "records.jsonl"
SUMMARY = "summary.json"


class RecordWriter:
    """Appends one unit result per line and makes it durable before returning."""

    def __init__(self, path: Path):
        self._fh = open(path, "a", encoding="utf-8")

    def write(self, result: dict[str, Any]) -> None:
        self._fh.write(json.dumps(result, allow_nan=True) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        self._fh.close()


def read_results(run_dir: Path) -> Iterator[dict[str, Any]]:
    """Unit results of a run folder, skipping unparsable (torn) lines."""
    path = Path(run_dir) / RECORDS
    if not path.exists():
        return
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            try:
                result = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(result, dict) and "unit_id" in result:
                yield result


def records_frame(results: list[dict[str, Any]]) -> pd.DataFrame:
    """Tidy DataFrame of the records of completed units, in unit order."""
    rows = [r for res in results if res["status"] == "ok" for r in res["records"]]
    return pd.DataFrame(rows)


def write_json(path: Path, obj: Any) -> None:
    """Write JSON atomically (temporary file, then rename)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, allow_nan=True), encoding="utf-8")
    os.replace(tmp, path)


def load_run(run_dir: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(config, summary) of a finished run folder, or of a summary.json file itself."""
    run_dir = Path(run_dir)
    if run_dir.is_file():
        summary = json.loads(run_dir.read_text())
        return summary.get("config", {}), summary
    if not (run_dir / SUMMARY).exists():
        raise FileNotFoundError(f"{run_dir} is not a finished run folder (no {SUMMARY}); "
                                "run `iseg-bench run ... --out DIR` first")
    summary = json.loads((run_dir / SUMMARY).read_text())
    return summary.get("config", {}), summary

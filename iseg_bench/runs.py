"""The run folder: its files, and durable reading and writing of unit results.

Implements the durability part of issue 6 ("Durable, resumable runs"). Layout of a run
folder::

    config.json      RunConfig + versions + the ordered unit (sample) ids; written once when
                     the run starts and never rewritten (a resume checks against it)
    records.jsonl    the journal: one JSON line per finished unit attempt
                     {"unit_id", "status", "error", "records": [...]}, appended and fsync'ed
                     as each unit finishes, in completion order; for a unit listed more than
                     once (a failure re-tried by a resume) the last line counts
    records.csv      tidy rows (one per sample and interaction) of the completed units, in
                     unit order, without timing columns: byte-identical for the same
                     configuration whether run serially, with workers, or resumed
    timings.csv      the timing columns (``*_seconds``) keyed by unit and row, same order
    failures.csv     unit id and reason of every failed unit, in unit order
    summary.json     figures; summary.md the same as a Markdown table
    plots/*.png      the protocol's standard plots

Torn writes: a line that does not parse (a crash in the middle of a write) is dropped on
reading, and :class:`RecordWriter` cuts such a partial last line off before it appends, so a
resumed run never glues a new line to a torn one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

CONFIG = "config.json"
RECORDS = "records.jsonl"
SUMMARY = "summary.json"
RECORDS_CSV = "records.csv"
TIMINGS_CSV = "timings.csv"
FAILURES_CSV = "failures.csv"


def _json_default(obj: Any) -> Any:
    """JSON for numpy scalars and arrays a protocol may leave in its records."""
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"record value of type {type(obj).__name__} is not JSON-serialisable")


def dumps_line(result: dict[str, Any]) -> str:
    """One journal line (no newline) for a unit result."""
    return json.dumps(result, allow_nan=True, default=_json_default)


class RecordWriter:
    """Appends one unit result per line to the journal and makes it durable before returning.

    Args:
        path: the journal file (created when missing). When it ends in a partial line (a
            torn write), that partial line is cut off first.
    """

    def __init__(self, path: Path):
        path = Path(path)
        repair_journal(path)
        self._fh = open(path, "a", encoding="utf-8")

    def write(self, result: dict[str, Any]) -> None:
        """Append `result` as one line, flush and fsync it. Raises TypeError on a value
        that is not JSON-serialisable (numpy scalars and arrays are converted)."""
        self._fh.write(dumps_line(result) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        self._fh.close()


def repair_journal(path: Path) -> int:
    """Cut a partial last line (no trailing newline) off the journal at `path`.

    Returns the number of bytes removed (0 when the file is missing or intact).
    """
    path = Path(path)
    if not path.exists():
        return 0
    with open(path, "rb+") as fh:
        data = fh.read()
        if not data or data.endswith(b"\n"):
            return 0
        keep = data.rfind(b"\n") + 1
        fh.truncate(keep)
        fh.flush()
        os.fsync(fh.fileno())
        return len(data) - keep


def read_results(run_dir: Path) -> Iterator[dict[str, Any]]:
    """Every unit result line of a run folder's journal, in file order, skipping lines that
    do not parse (a torn write) or are not unit results."""
    path = Path(run_dir) / RECORDS
    if not path.exists():
        return
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if not line.endswith("\n"):     # torn last write: never trust it, even if it
                continue                    # happens to parse
            try:
                result = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(result, dict) and "unit_id" in result and "status" in result:
                yield result


def latest_results(run_dir: Path) -> dict[str, dict[str, Any]]:
    """unit_id -> the last journal line of that unit (a re-tried unit's newest attempt)."""
    return {r["unit_id"]: r for r in read_results(run_dir)}


def order_results(results: Iterable[dict[str, Any]],
                  unit_order: list[str] | None) -> list[dict[str, Any]]:
    """The last result of each unit, in `unit_order` (units not listed go last, in their
    first-seen order)."""
    latest: dict[str, dict[str, Any]] = {}
    for r in results:
        latest.pop(r["unit_id"], None)
        latest[r["unit_id"]] = r
    if unit_order is None:
        return list(latest.values())
    rank = {u: i for i, u in enumerate(unit_order)}
    return sorted(latest.values(), key=lambda r: rank.get(r["unit_id"], len(rank)))


def records_frame(results: list[dict[str, Any]]) -> pd.DataFrame:
    """Tidy DataFrame of the records of completed units, in the order of `results`."""
    rows = [r for res in results if res["status"] == "ok" for r in res["records"]]
    return pd.DataFrame(rows)


def is_timing_column(name: str) -> bool:
    """Timing columns (wall-clock, never reproducible) end in ``seconds``."""
    return str(name).endswith("seconds")


def write_records(records: pd.DataFrame, out_dir: Path) -> None:
    """records.csv without timing columns, timings.csv with them (see module docstring)."""
    timing = [c for c in records.columns if is_timing_column(c)]
    records.drop(columns=timing).to_csv(Path(out_dir) / RECORDS_CSV, index=False)
    keys = [c for c in ("sample_id", "unit_id", "interaction") if c in records.columns]
    records[keys + timing].to_csv(Path(out_dir) / TIMINGS_CSV, index=False)


def load_records(run_dir: Path) -> pd.DataFrame:
    """records.csv of a run folder with its timing columns joined back (row by row)."""
    run_dir = Path(run_dir)
    records = pd.read_csv(run_dir / RECORDS_CSV)
    if (run_dir / TIMINGS_CSV).exists():
        timings = pd.read_csv(run_dir / TIMINGS_CSV)
        for c in timings.columns:
            if is_timing_column(c) and len(timings) == len(records):
                records[c] = timings[c].to_numpy()
    return records


def write_json(path: Path, obj: Any) -> None:
    """Write JSON atomically (temporary file, fsync, then rename)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(obj, indent=2, allow_nan=True, default=_json_default))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def read_config(run_dir: Path) -> dict[str, Any] | None:
    """config.json of a run folder, or None when there is none."""
    path = Path(run_dir) / CONFIG
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def load_run(run_dir: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(config, summary) of a finished run folder, or of a summary.json file itself.

    The config is the summary's ``config`` (the settings identity). Raises
    FileNotFoundError when the folder has no summary.json.
    """
    run_dir = Path(run_dir)
    if run_dir.is_file():
        summary = json.loads(run_dir.read_text(encoding="utf-8"))
        return summary.get("config", {}), summary
    if not (run_dir / SUMMARY).exists():
        raise FileNotFoundError(f"{run_dir} is not a finished run folder (no {SUMMARY}); "
                                "run `iseg-bench run ... --out DIR` first")
    summary = json.loads((run_dir / SUMMARY).read_text(encoding="utf-8"))
    return summary.get("config", {}), summary

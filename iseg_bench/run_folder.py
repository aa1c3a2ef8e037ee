"""The run folder: its file names, atomic JSON files, and the records/timings CSV split.

The layout of a run folder and the meaning of every file are in ``docs/execution.md``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from iseg_bench.errors import NotARunError, RunFolderError

#: the run's settings, library versions and ordered unit ids (written once)
CONFIG = "config.json"
#: key of config.json: {unit id: fingerprint of its samples' files} (execution/fingerprint.py)
DATA_FINGERPRINTS = "data_fingerprints"
#: the journal: one JSON line per finished unit attempt
RECORDS = "records.jsonl"
#: the figures
SUMMARY = "summary.json"
#: the figures as a Markdown table
SUMMARY_MD = "summary.md"
#: tidy records of the completed units, without timing columns
RECORDS_CSV = "records.csv"
#: the timing columns of records.csv, keyed by unit and row
TIMINGS_CSV = "timings.csv"
#: unit id and reason of every failed unit
FAILURES_CSV = "failures.csv"
#: the protocol's standard plots
PLOTS = "plots"
#: in the parent folder of a multi-dataset run: its datasets and child run folders
RUNS_JSON = "runs.json"
#: the lock file a run holds while it writes the folder (its pid inside; removed at the end)
LOCK = "run.lock"
#: where a crash of the run's process (a segfault, an abort) leaves its Python traceback
CRASH_LOG = "crash.log"


def json_default(obj: Any) -> Any:
    """JSON for numpy scalars and arrays a protocol may leave in its records or figures.

    Raises:
        TypeError: `obj` is neither a numpy scalar nor an array.
    """
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"record value of type {type(obj).__name__} is not JSON-serialisable")


def write_json(path: Path, obj: Any) -> None:
    """Write `obj` as indented JSON, atomically (temporary file, fsync, then rename)."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(obj, indent=2, allow_nan=True, default=json_default))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _read_json_object(path: Path) -> dict[str, Any]:
    """The JSON object in the file `path`.

    Raises:
        RunFolderError: the file cannot be read, is not JSON or holds no object.
    """
    try:
        obj = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise RunFolderError(f"cannot read {path}: {err}; the file is damaged (re-run, or "
                             "resume the run to rewrite its summary)") from err
    if not isinstance(obj, dict):
        raise RunFolderError(f"{path} does not hold a JSON object; the file is damaged")
    return obj


def read_config(run_dir: Path) -> dict[str, Any] | None:
    """config.json of a run folder, or None when there is none.

    Raises:
        RunFolderError: config.json is damaged.
    """
    path = Path(run_dir) / CONFIG
    if not path.exists():
        return None
    return _read_json_object(path)


def load_run(run_dir: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(config, summary) of a finished run folder, or of a summary.json file itself.

    The config is the summary's ``config`` (the settings identity).

    Raises:
        NotARunError: the folder has no summary.json.
        RunFolderError: the summary is damaged.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_file() and not (run_dir / SUMMARY).exists():
        raise NotARunError(f"{run_dir} is not a finished run folder (no {SUMMARY}); "
                             "run `iseg-bench run ... --out DIR` first")
    summary = _read_json_object(run_dir if run_dir.is_file() else run_dir / SUMMARY)
    return summary.get("config", {}), summary


def is_timing_column(name: object) -> bool:
    """Timing columns (wall-clock, never reproducible) end in ``seconds``."""
    return str(name).endswith("seconds")


def write_records(records: pd.DataFrame, out_dir: Path) -> None:
    """records.csv without the timing columns, timings.csv with them, in the same row order
    (keyed by ``sample_id``, ``unit_id`` and ``interaction`` where present)."""
    timing = [c for c in records.columns if is_timing_column(c)]
    records.drop(columns=timing).to_csv(Path(out_dir) / RECORDS_CSV, index=False)
    keys = [c for c in ("sample_id", "unit_id", "interaction") if c in records.columns]
    records[keys + timing].to_csv(Path(out_dir) / TIMINGS_CSV, index=False)


def load_records(run_dir: Path) -> pd.DataFrame:
    """records.csv of a run folder with its timing columns joined back (row by row);
    ``sample_id`` is read as text, as samples name themselves ("007" stays "007", not the
    integer 7)."""
    run_dir = Path(run_dir)
    records = pd.read_csv(run_dir / RECORDS_CSV, dtype={"sample_id": str})
    if (run_dir / TIMINGS_CSV).exists():
        timings = pd.read_csv(run_dir / TIMINGS_CSV)
        for c in timings.columns:
            if is_timing_column(c) and len(timings) == len(records):
                records[c] = timings[c].to_numpy()
    return records


def read_runs_listing(parent: Path) -> dict[str, Any] | None:
    """The runs.json object of a multi-dataset parent folder (``datasets``: the names in
    run order; ``runs``: {dataset: child folder relative to the parent}), or None when
    `parent` has none.

    Raises:
        RunFolderError: runs.json is damaged.
    """
    path = Path(parent) / RUNS_JSON
    return _read_json_object(path) if path.is_file() else None


def child_runs(parent: Path) -> list[Path] | None:
    """The child run folders of a multi-dataset parent folder, or None when `parent` is no
    such folder: those listed in its runs.json (that exist, in its order); without one, a
    folder that is no run itself stands for its sub-folders holding a config.json or
    summary.json (runs made one by one into one parent), in name order.

    Raises:
        RunFolderError: runs.json is damaged.
    """
    parent = Path(parent)
    listing = read_runs_listing(parent)
    if listing is not None:
        subs = [parent / str(sub) for sub in dict(listing.get("runs", {})).values()]
        return [sub for sub in subs if sub.is_dir()]
    if not parent.is_dir() or (parent / CONFIG).exists() or (parent / SUMMARY).exists():
        return None
    found = sorted(p for p in parent.iterdir()
                   if (p / CONFIG).exists() or (p / SUMMARY).exists())
    return found or None


def expand_runs(paths: Iterable[str | Path]) -> list[Path]:
    """`paths` with every multi-dataset parent folder replaced by its child runs."""
    out: list[Path] = []
    for p in paths:
        children = child_runs(Path(p))
        out.extend([Path(p)] if children is None else children)
    return out

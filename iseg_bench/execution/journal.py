"""The journal (records.jsonl): durable, append-only unit result lines, read back torn-safe.

A unit result line is ``{"unit_id", "status": "ok" | "failed", "error", "records": [...]}``
(a failed line also holds ``"traceback"``). Its rules (fsync per line, torn last lines, the
last line of a unit counts) are in ``docs/execution.md``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from iseg_bench.run_folder import RECORDS, json_default

#: one unit result line of the journal
UnitResult = dict[str, Any]


def ok_result(unit_id: str, records: list[dict[str, Any]]) -> UnitResult:
    """A completed unit's result line holding its record rows."""
    return {"unit_id": unit_id, "status": "ok", "error": None, "records": records}


def failed_result(unit_id: str, error: str, tb: str | None = None) -> UnitResult:
    """A failed unit's result line: `error` is "ExceptionName: message"."""
    return {"unit_id": unit_id, "status": "failed", "error": error, "traceback": tb,
            "records": []}


def dumps_line(result: UnitResult) -> str:
    """One journal line (no newline) for a unit result.

    Raises:
        TypeError: a value is not JSON-serialisable (numpy scalars and arrays are converted).
    """
    return json.dumps(result, allow_nan=True, default=json_default)


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

    def write(self, result: UnitResult) -> None:
        """Append `result` as one line, flush and fsync it.

        Raises:
            TypeError: a value is not JSON-serialisable.
        """
        self._fh.write(dumps_line(result) + "\n")
        self._fh.flush()
        os.fsync(self._fh.fileno())

    def close(self) -> None:
        """Close the journal file (idempotent)."""
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


def read_results(run_dir: Path) -> Iterator[UnitResult]:
    """Every unit result line of a run folder's journal, in file order, skipping lines that
    do not end in a newline or do not parse (a torn write) or are not unit results."""
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


def latest_results(run_dir: Path) -> dict[str, UnitResult]:
    """unit_id -> the last journal line of that unit (a re-tried unit's newest attempt)."""
    return {r["unit_id"]: r for r in read_results(run_dir)}


def order_results(results: Iterable[UnitResult],
                  unit_order: list[str] | None) -> list[UnitResult]:
    """The last result of each unit, in `unit_order`; units not in it (or all units when it
    is None) follow in the order of their last result."""
    latest: dict[str, UnitResult] = {}
    for r in results:
        latest.pop(r["unit_id"], None)
        latest[r["unit_id"]] = r
    if unit_order is None:
        return list(latest.values())
    rank = {u: i for i, u in enumerate(unit_order)}
    return sorted(latest.values(), key=lambda r: rank.get(r["unit_id"], len(rank)))

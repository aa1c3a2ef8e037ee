"""Building blocks of table rows: run labels, the interaction-count heading, split rows.

A summary is the dict of a run's summary.json; a row is a dict of column -> cell.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Summary = dict[str, Any]
Row = dict[str, Any]
#: (summary, run label, heading of the interaction count: "NoC" or "NoI") -> table row
RowFormatter = Callable[[Summary, str, str], Row]


def run_label(summary: Summary) -> str:
    """The label of a run: its ``name`` (``--name``) when it has one, else
    "model / dataset"."""
    return summary.get("name") or f"{summary.get('model')} / {summary.get('dataset')}"


#: protocols whose unit is one sample (single-object) or one image (full-image), so that
#: completed + failed samples count the units done
_SAMPLE_UNITS = ("single-object", "full-image", None)


def run_marks(summary: Summary) -> str:
    """What a run's label must say besides its name: " (incomplete 12/50)" for a run that
    did not attempt every unit (done/all units, where a unit is a sample or an image; plain
    "incomplete" otherwise), " (3 failed)" for failed units, both as " (incomplete 12/50,
    3 failed)"; "" for a complete run without failures."""
    marks = []
    if summary.get("complete") is False:
        n_units = summary.get("n_units")
        done = summary.get("n_samples", 0) + summary.get("n_failed", 0)
        counted = n_units is not None and summary.get("protocol") in _SAMPLE_UNITS
        marks.append(f"incomplete {done}/{n_units}" if counted else "incomplete")
    if summary.get("n_failed"):
        marks.append(f"{summary['n_failed']} failed")
    return f" ({', '.join(marks)})" if marks else ""


def count_heading(summary: Summary) -> str:
    """"NoI" (number of interactions) for scribble runs, else "NoC" (number of clicks)."""
    return "NoI" if summary.get("interaction") == "scribble" else "NoC"


def summary_rows(summary: Summary, row: RowFormatter, label: str, noc_name: str) -> list[Row]:
    """The row of `summary`, then one per thing/stuff (or other) split of it.

    A split row is `row` of the split's figures laid over the summary, labelled
    "label [split]", with no failed count (failures belong to the whole run).
    """
    rows = [row(summary, label, noc_name)]
    for split, figures in (summary.get("splits") or {}).items():
        rows.append(row({**summary, **figures, "n_failed": None}, f"{label} [{split}]",
                        noc_name))
    return rows

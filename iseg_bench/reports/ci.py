"""Confidence intervals in tables: the summary's bootstrap intervals (its ``ci`` key,
:mod:`iseg_bench.protocols.intervals`) by table column, and "[lo, hi]" cells.

Columns are named as in the tables: ``NoC@90`` (``NoI@90`` for scribble runs), ``mIoU@5``,
``AuC``; a summary without ``ci`` (full-image, sequential, or a run made before intervals
existed) has none.
"""

from __future__ import annotations

from iseg_bench.reports.rows import Row, RowFormatter, Summary, count_heading
from iseg_bench.thresholds import percent_label

#: decimals of the interval bounds per figure family (as the tables show the figures)
DECIMALS = {"noc": 2, "miou": 4, "auc": 4}


def intervals(summary: Summary, noc_name: str | None = None
              ) -> dict[str, tuple[str, float, float]]:
    """{column: (family, lo, hi)} of the summary's intervals; {} without a ``ci`` key.

    `noc_name` heads the NoC columns ("NoC" or "NoI"; default: the summary's own).
    """
    ci = summary.get("ci") or {}
    name = noc_name or count_heading(summary)
    out = {f"{name}@{percent_label(t)}": ("noc", lo, hi)
           for t, (lo, hi) in (ci.get("noc") or {}).items()}
    out.update({f"mIoU@{k}": ("miou", lo, hi)
                for k, (lo, hi) in enumerate(ci.get("miou") or [], start=1)})
    if ci.get("auc"):
        out["AuC"] = ("auc", *ci["auc"])
    return out


def interval_text(family: str, lo: float, hi: float) -> str:
    """"[lo, hi]" with the family's ``DECIMALS``, e.g. "[1.05, 1.41]"."""
    d = DECIMALS[family]
    return f"[{lo:.{d}f}, {hi:.{d}f}]"


def with_intervals(row: RowFormatter) -> RowFormatter:
    """`row` with a "<column> 95% CI" cell ("[lo, hi]") after every column that has an
    interval in the summary."""
    def formatted(summary: Summary, label: str, noc_name: str) -> Row:
        found = intervals(summary, noc_name)
        out: Row = {}
        for column, value in row(summary, label, noc_name).items():
            out[column] = value
            if column in found:
                out[f"{column} 95% CI"] = interval_text(*found[column])
        return out
    return formatted

"""Tables of figures across runs: one row per run and per split of it, each protocol's row
from its presenter (columns: docs/reports.md).

Source of the NoI heading for scribble runs and mixed tables: ScribbleSeg, Sec. 3.4 and
Tab. 10.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from iseg_bench.reports.ci import with_intervals
from iseg_bench.reports.markdown import to_markdown
from iseg_bench.reports.presenters import presenter
from iseg_bench.reports.rows import Row, Summary, run_label, run_marks, summary_rows


def summary_frame(summaries: Sequence[Summary], labels: Sequence[str] | None = None,
                  ci: bool = False) -> pd.DataFrame:
    """One row per summary, then one per split of it (columns: see docs/reports.md).

    Args:
        summaries: summaries as in summary.json, of any protocols.
        labels: one ``run`` label per summary (default "model / dataset"); each is
            followed by the run's :func:`~iseg_bench.reports.rows.run_marks` (incomplete,
            failed).
        ci: add a "95% CI" cell after each figure with a bootstrap interval (reports/ci.py).

    Returns:
        The table; columns in order of first appearance, empty cells where a row lacks one.
    """
    kinds = {s.get("interaction") for s in summaries if s.get("interaction")}
    noc_name = "NoI" if "scribble" in kinds else "NoC"
    rows: list[Row] = []
    interactions = []
    for i, s in enumerate(summaries):
        label = ((labels[i] if labels else None) or run_label(s)) + run_marks(s)
        row = with_intervals(presenter(s).row) if ci else presenter(s).row
        own = summary_rows(s, row, label, noc_name)
        rows += own
        interactions += [s.get("interaction")] * len(own)
    frame = pd.DataFrame(rows)
    if len(kinds) > 1:
        frame.insert(2, "interaction", interactions)
    return frame


def summary_markdown(summaries: Sequence[Summary], labels: Sequence[str] | None = None) -> str:
    """:func:`summary_frame` as a GitHub Markdown table."""
    return to_markdown(summary_frame(summaries, labels))

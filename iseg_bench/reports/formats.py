"""``iseg-bench report`` as text: the run folders given (parents of a multi-dataset run
included), their table or pivot table in a format (docs/reports.md, docs/cli.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from iseg_bench.errors import IsegBenchError
from iseg_bench.reports.html import html_report
from iseg_bench.reports.markdown import to_markdown
from iseg_bench.reports.pivot import (
    DEFAULT_FIGURES,
    pivot,
    pivot_frame,
    pivot_latex,
    pivot_markdown,
)
from iseg_bench.reports.tables import summary_frame
from iseg_bench.run_folder import load_run


def render_report(paths: Sequence[Path], fmt: str, pivoted: bool = False, ci: bool = False,
                  figures: str = DEFAULT_FIGURES) -> str:
    """The report of the runs at `paths` in format `fmt`: table (pandas' text), md, csv, latex
    (pivot only) or html.

    Args:
        paths: run folders or summary.json files (parents already expanded, e.g. by
            :func:`~iseg_bench.run_folder.expand_runs`).
        pivoted: the pivot table (one row per model, a column group per dataset) instead of
            one row per run; the HTML page always holds both.
        ci: show the 95 % bootstrap intervals (the HTML page always does).
        figures: the pivot's figures, e.g. "noc,nof,miou@5,auc".

    Raises:
        IsegBenchError: LaTeX without the pivot, a bad `figures`, or two runs of one name on
            one dataset in a pivot.
        RunFolderError: a path holds no run, or a damaged one.
    """
    folders = list(paths)
    summaries = [load_run(p)[1] for p in folders]
    if fmt == "html":
        return html_report(folders, summaries, ci=True, figures=figures)
    if pivoted:
        table = pivot(summaries, figures)
        if fmt == "md":
            return pivot_markdown(table, ci)
        if fmt == "latex":
            return pivot_latex(table, ci)
        frame = pivot_frame(table, ci)
    elif fmt == "latex":
        raise IsegBenchError("--format latex prints the papers' table: add --pivot")
    else:
        frame = summary_frame(summaries, ci=ci)
        if fmt == "md":
            return to_markdown(frame)
    if fmt == "csv":
        return str(frame.to_csv(index=False)).rstrip("\n")
    return str(frame.to_string(index=False))

"""The HTML report: one self-contained static page of several runs (no server, no network,
no script): the runs, the table of figures with their 95 % intervals, the pivot table, each
run's standard plots and the several-runs plot as base64 PNG, and each run's gallery images
when it has any (docs/reports.md).

Constants: ``GALLERY`` (the sub-folder of a run folder whose PNG files are shown as its
gallery), ``STYLE`` (the page's inline CSS).
"""

from __future__ import annotations

import base64
import html
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from iseg_bench.reports.pivot import (
    DEFAULT_FIGURES,
    DuplicateRunError,
    Pivot,
    cell_text,
    pivot,
)
from iseg_bench.reports.presenters import plot_runs, write_plots
from iseg_bench.reports.rows import Summary, run_label
from iseg_bench.reports.tables import summary_frame

GALLERY = "gallery"
STYLE = """
body { font-family: sans-serif; margin: 2em; color: #222; max-width: 80em; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.6em; text-align: right; }
th { background: #eee; } td:first-child, th:first-child { text-align: left; }
td { white-space: nowrap; } th[colspan] { text-align: center; }
.scroll { overflow-x: auto; }
img { max-width: 100%; border: 1px solid #ddd; margin: 0.5em 0.5em 0 0; }
.images { display: flex; flex-wrap: wrap; } .note { color: #555; font-size: 0.9em; }
"""


def _cell(value: object) -> str:
    missing = value is None or (isinstance(value, float) and pd.isna(value))
    return "" if missing else html.escape(str(value))


def frame_html(frame: pd.DataFrame, table_id: str) -> str:
    """`frame` as an HTML table with id `table_id` (escaped cells; None and NaN empty)."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>"
                   for row in frame.itertuples(index=False))
    return (f'<div class="scroll"><table id="{table_id}"><thead><tr>{head}</tr></thead>'
            f"<tbody>{body}</tbody></table></div>")


def pivot_html(table: Pivot, ci: bool) -> str:
    """The pivot table as HTML (id "pivot"): a row of datasets over their figures, best
    values in ``<strong>``."""
    groups: dict[str, int] = {}
    for dataset, _, _ in table.columns:
        groups[dataset] = groups.get(dataset, 0) + 1
    top = "<th></th>" + "".join(f'<th colspan="{n}">{html.escape(d)}</th>'
                                for d, n in groups.items())
    names = "<th>run</th>" + "".join(f"<th>{html.escape(f)}</th>" for _, f, _ in table.columns)
    body = "".join(
        f"<tr><td>{html.escape(run)}</td>"
        + "".join(f"<td>{cell_text(table, run, c, ci, ('<strong>', '</strong>'), (' ', ''))}"
                  "</td>" for c in table.columns) + "</tr>" for run in table.runs)
    return (f'<div class="scroll"><table id="pivot"><thead><tr>{top}</tr><tr>{names}</tr>'
            f"</thead><tbody>{body}</tbody></table></div>")


def _image(path: Path, alt: str) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'


def _images(paths: Sequence[Path]) -> str:
    pngs = [p for p in paths if p.suffix == ".png"]
    return '<div class="images">' + "".join(_image(p, p.stem) for p in pngs) + "</div>"


def html_report(folders: Sequence[Path], summaries: Sequence[Summary], ci: bool = True,
                figures: str = DEFAULT_FIGURES) -> str:
    """The page of the runs in `folders` (run folders or summary.json files) whose
    summaries are `summaries`, as one HTML string.

    The pivot table is left out, with a note, when two runs share a name and a dataset.

    Raises:
        IsegBenchError: a bad `figures` spec (see :func:`~iseg_bench.reports.pivot.pivot`).
    """
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             "<title>iseg-bench report</title>", f"<style>{STYLE}</style></head><body>",
             "<h1>iseg-bench report</h1>", "<h2>Figures</h2>",
             frame_html(summary_frame(summaries, ci=ci), "summary")]
    if ci:
        parts.append('<p class="note">95% CI: percentile bootstrap over samples (1000 '
                     "resamples, seed 0; docs/figures.md).</p>")
    try:
        parts += ["<h2>Pivot</h2>", pivot_html(pivot(summaries, figures), ci)]
    except DuplicateRunError as err:
        parts += [f'<p class="note">No pivot table: {html.escape(str(err))}.</p>']
    with tempfile.TemporaryDirectory() as tmp:
        if len(summaries) > 1:
            parts += ["<h2>All runs</h2>",
                      _images([plot_runs(summaries, Path(tmp) / "runs.png")])]
        for i, (folder, s) in enumerate(zip(folders, summaries)):
            out = Path(tmp) / str(i)
            out.mkdir()
            run_dir = folder.parent if folder.is_file() else folder
            parts += [f"<h2>{html.escape(run_label(s))}</h2>",
                      f'<p class="note">{html.escape(str(folder))}; robot '
                      f"{html.escape(str(s.get('robot')))}, {s.get('n_samples', 0)} samples"
                      "</p>", _images(write_plots(s, out))]
            gallery = sorted((run_dir / GALLERY).glob("*.png"))
            if gallery:
                parts += ["<h3>Gallery</h3>", _images(gallery)]
    return "\n".join(parts + ["</body></html>"])

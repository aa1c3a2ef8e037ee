"""``iseg-bench report``, ``plot`` and ``compare``: what finished runs are shown as."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from iseg_bench.cli.hints import check_finished
from iseg_bench.errors import FAILED_EXIT
from iseg_bench.run_folder import expand_runs, load_run


def _check_output_folder(output: str | None) -> None:
    """Refuse an output file whose folder does not exist.

    Raises:
        click.UsageError: naming the folder.
    """
    if output is not None and not Path(output).parent.is_dir():
        raise click.UsageError(f"cannot write {output}: the folder {Path(output).parent} "
                               "does not exist")


def _run_paths(runs: tuple[str, ...]) -> list[Path]:
    """The finished runs of `runs` (run folders, summary.json files, or multi-dataset parent
    folders, each standing for its child runs).

    Raises:
        NotARunError: a path holds no run, or an unfinished one (saying how to continue it).
    """
    folders = expand_runs(runs)
    for run in folders:
        check_finished(run)
    return folders


def _summaries(runs: tuple[str, ...]) -> list[dict[str, Any]]:
    """The summaries of :func:`_run_paths`.

    Raises:
        NotARunError: see :func:`_run_paths`.
        RunFolderError: a summary.json is damaged.
    """
    return [load_run(r)[1] for r in _run_paths(runs)]


@click.command()
@click.argument("runs", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--format", "fmt", type=click.Choice(["table", "md", "csv", "latex", "html"]),
              default="table", show_default=True,
              help="latex: the --pivot table (booktabs); html: one static page with the "
                   "tables and plots.")
@click.option("--pivot", "pivoted", is_flag=True,
              help="The papers' layout: one row per model, a column group per dataset, the "
                   "best value per column in bold.")
@click.option("--ci", is_flag=True,
              help="Show the 95% bootstrap intervals of NoC, mIoU@k and AuC as [lo, hi].")
@click.option("--figures", default="noc,nof,auc", show_default=True,
              help="Figures of the --pivot table: noc, nof, auc, noc@t or nof@t (t in "
                   "percent, e.g. noc@90), miou@k (k: 1, 5, 10, 20 or the last).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write the report to this file instead of printing it.")
def report(runs: tuple[str, ...], fmt: str, pivoted: bool, ci: bool, figures: str,
           output: str | None) -> None:
    """One table of figures across RUNS (run folders, summary.json files, or the parent
    folder of a multi-dataset run)."""
    from iseg_bench.reports.formats import render_report

    _check_output_folder(output)
    text = render_report(_run_paths(runs), fmt, pivoted, ci, figures)
    if output:
        Path(output).write_text(text + "\n", encoding="utf-8")
        click.echo(output)
    else:
        click.echo(text)


@click.command()
@click.argument("runs", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Figure to write: .png (300 dpi), .pdf or .svg.")
def plot(runs: tuple[str, ...], output: str) -> None:
    """Per-interaction mIoU curves of several RUNS on one figure.

    Full-image runs are drawn on the axes of Agustsson et al. Fig. 5 (mean IoU against
    scribbles per region)."""
    from iseg_bench.reports import plot_runs

    _check_output_folder(output)
    click.echo(plot_runs(_summaries(runs), Path(output)))


@click.command()
@click.argument("baseline", type=click.Path(exists=True))
@click.argument("candidate", type=click.Path(exists=True))
@click.option("--tolerance", default="", metavar="FAMILY=DELTA,...",
              help="Allowed worsening per figure family (noc, nof, miou, auc, failed, "
                   "seconds) or figure (noc@90, miou@5), e.g. noc=0.05,miou=0.005. "
                   "Default 0; seconds are not checked unless given.")
@click.option("--significant-only", is_flag=True,
              help="Count a worsening beyond tolerance as a regression only when the paired "
                   "bootstrap test over samples finds it significant (p < --alpha); needs "
                   "run folders with records.csv.")
@click.option("--alpha", type=click.FloatRange(0, 1, min_open=True), default=0.05,
              show_default=True, help="Significance level of --significant-only.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Also write the Markdown table to this file.")
def compare(baseline: str, candidate: str, tolerance: str, significant_only: bool,
            alpha: float, output: str | None) -> None:
    """Compare CANDIDATE against BASELINE (run folders or summary.json files).

    Prints a Markdown table of every figure with its delta and, for run folders of
    single-object runs, the paired bootstrap p value of NoC, mIoU@k and AuC; exits 1 when
    any figure got worse beyond its tolerance (and, with --significant-only, significantly),
    2 when the runs' protocol settings differ.

    \b
    Example (CI):
      iseg-bench compare baselines/grabcut-summary.json runs/candidate --tolerance noc=0.05
    """
    from iseg_bench.reports.compare import compare_paths

    _check_output_folder(output)
    for path in (baseline, candidate):
        check_finished(Path(path))
    result = compare_paths(Path(baseline), Path(candidate), tolerance,
                           alpha if significant_only else None)
    text = result.markdown()
    click.echo(text)
    if output:
        Path(output).write_text(text + "\n", encoding="utf-8")
    if result.regressions:
        sys.exit(FAILED_EXIT)

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


def _summaries(runs: tuple[str, ...]) -> list[dict[str, Any]]:
    """The summaries of `runs` (run folders, summary.json files, or multi-dataset parent
    folders, each standing for its child runs).

    Raises:
        NotARunError: a path holds no run, or an unfinished one (saying how to continue it).
        RunFolderError: a summary.json is damaged.
    """
    folders = expand_runs(runs)
    for run in folders:
        check_finished(run)
    return [load_run(r)[1] for r in folders]


@click.command()
@click.argument("runs", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--format", "fmt", type=click.Choice(["table", "md", "csv"]), default="table",
              show_default=True)
def report(runs: tuple[str, ...], fmt: str) -> None:
    """One table of figures across RUNS (run folders, summary.json files, or the parent
    folder of a multi-dataset run, which stands for its child runs)."""
    from iseg_bench.reports import summary_frame, to_markdown

    frame = summary_frame(_summaries(runs))
    if fmt == "md":
        click.echo(to_markdown(frame))
    elif fmt == "csv":
        click.echo(frame.to_csv(index=False).rstrip("\n"))
    else:
        click.echo(frame.to_string(index=False))


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
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Also write the Markdown table to this file.")
def compare(baseline: str, candidate: str, tolerance: str, output: str | None) -> None:
    """Compare CANDIDATE against BASELINE (run folders or summary.json files).

    Prints a Markdown table of every figure with its delta; exits 1 when any figure got
    worse beyond its tolerance, 2 when the runs' protocol settings differ.

    \b
    Example (CI):
      iseg-bench compare baselines/grabcut-summary.json runs/candidate --tolerance noc=0.05
    """
    from iseg_bench.reports.compare import compare_paths

    _check_output_folder(output)
    for path in (baseline, candidate):
        check_finished(Path(path))
    result = compare_paths(Path(baseline), Path(candidate), tolerance)
    text = result.markdown()
    click.echo(text)
    if output:
        Path(output).write_text(text + "\n", encoding="utf-8")
    if result.regressions:
        sys.exit(FAILED_EXIT)

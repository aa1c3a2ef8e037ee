"""Presentation per protocol: the one table of how each protocol's summaries are shown
(its table row, the plots of one run, the plot of several runs; docs/reports.md).

Constants: ``PRESENTERS`` (protocol name -> presenter), ``SINGLE_OBJECT`` (the presenter of
summaries without a known protocol).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from iseg_bench.reports import full_image, sequential, single_object
from iseg_bench.reports.rows import RowFormatter, Summary


@dataclass(frozen=True)
class Presenter:
    """How one protocol's summaries are shown.

    Attributes:
        row: (summary, run label, "NoC" or "NoI") -> the summary's table row.
        plots: (summary, output folder) -> the files written for one run.
        runs_plot: (summaries, PNG path) -> `path`, several runs on one figure.
    """

    row: RowFormatter
    plots: Callable[[Summary, Path], list[Path]]
    runs_plot: Callable[[Sequence[Summary], Path], Path]


SINGLE_OBJECT = Presenter(row=single_object.single_object_row,
                          plots=single_object.single_object_plots,
                          runs_plot=single_object.runs_plot)

PRESENTERS: dict[str, Presenter] = {
    "single-object": SINGLE_OBJECT,
    "full-image": Presenter(row=full_image.full_image_row, plots=full_image.full_image_plots,
                            runs_plot=full_image.runs_plot),
    "sequential": Presenter(row=single_object.single_object_row,
                            plots=sequential.sequential_plots,
                            runs_plot=single_object.runs_plot),
}


def presenter(summary: Summary) -> Presenter:
    """The presenter of `summary`'s ``protocol`` (single-object when absent or unknown)."""
    return PRESENTERS.get(str(summary.get("protocol")), SINGLE_OBJECT)


def write_plots(summary: Summary, out_dir: Path) -> list[Path]:
    """Draw the standard plots of one run's `summary` into `out_dir`; returns the files
    written (PNG, and for full-image runs the curve as CSV and Markdown)."""
    return presenter(summary).plots(summary, Path(out_dir))


def plot_runs(summaries: Sequence[Summary], path: Path) -> Path:
    """Several runs on one figure (PNG at `path`): their protocol's plot when they share
    one (full-image: Fig. 5 axes), else per-interaction mIoU curves. Returns `path`."""
    protocols = {str(s.get("protocol")) for s in summaries}
    shown = presenter(summaries[0]) if len(protocols) == 1 else SINGLE_OBJECT
    return shown.runs_plot(summaries, Path(path))

"""Reports: tables, plots and run comparison, all from summaries (the dicts of summary.json).

What each protocol shows is chosen in :mod:`iseg_bench.reports.presenters`; the columns,
plots and comparison rules are described in docs/reports.md.
"""

from iseg_bench.reports.comparability import RunView, load_view
from iseg_bench.reports.compare import Comparison, compare, compare_paths
from iseg_bench.reports.full_image import curve_frame, fig5_plot
from iseg_bench.reports.markdown import to_markdown
from iseg_bench.reports.presenters import PRESENTERS, Presenter, plot_runs, write_plots
from iseg_bench.reports.single_object import miou_curves
from iseg_bench.reports.tables import summary_frame, summary_markdown
from iseg_bench.reports.tolerances import parse_tolerances

__all__ = [
    "PRESENTERS",
    "Comparison",
    "Presenter",
    "RunView",
    "compare",
    "compare_paths",
    "curve_frame",
    "fig5_plot",
    "load_view",
    "miou_curves",
    "parse_tolerances",
    "plot_runs",
    "summary_frame",
    "summary_markdown",
    "to_markdown",
    "write_plots",
]

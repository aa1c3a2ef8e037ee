"""Plot helpers shared by the report modules: matplotlib on its Agg backend; PNG (raster)
or PDF/SVG (vector) files chosen by the file's suffix.

Constants: ``DPI`` (300, every PNG written), ``GRID_ALPHA`` (0.3, the grid of every plot),
``FORMATS`` (the suffixes written), ``LEGEND_BELOW`` (where a legend goes: under the axes,
so it never covers a line).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from iseg_bench.errors import UsageError  # noqa: E402
from iseg_bench.thresholds import percent_label  # noqa: E402

DPI = 300
GRID_ALPHA = 0.3
FORMATS = (".png", ".pdf", ".svg")
#: legend anchor in axes fraction: centred, just below the x label
LEGEND_BELOW = (0.5, -0.16)


def new_axes(width: float = 6, height: float = 4) -> tuple[Figure, Axes]:
    """A new figure of `width` x `height` inches with one axes."""
    fig, ax = plt.subplots(figsize=(width, height))
    return fig, ax


def new_axes_grid(rows: int, cols: int, width: float, height: float
                  ) -> tuple[Figure, list[Axes]]:
    """A new figure of `rows` x `cols` axes, each `width` x `height` inches, as a flat list
    in row-major order."""
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    return fig, list(axes.ravel())


def new_axes_row(n: int, width: float, height: float) -> tuple[Figure, list[Axes]]:
    """A new figure of `n` axes side by side, each `width` x `height` inches."""
    return new_axes_grid(1, n, width, height)


def finish_axes(ax: Axes, xlabel: str, ylabel: str, legend_size: int | None = 8) -> None:
    """Label the axes, draw the grid and, unless `legend_size` is None, the legend below
    the axes (at most 4 entries a row)."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=GRID_ALPHA)
    if legend_size is not None:
        n = len(ax.get_legend_handles_labels()[1])
        ax.legend(fontsize=legend_size, loc="upper center", bbox_to_anchor=LEGEND_BELOW,
                  ncol=max(1, min(n, 4)), frameon=False)


def integer_ticks(ax: Axes) -> None:
    """Only whole numbers on the x axis (interaction counts)."""
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def threshold_lines(ax: Axes, thresholds: Sequence[float], name: str = "NoC") -> None:
    """Dashed grey horizontal lines at the IoU `thresholds` (fractions), each labelled
    "NoC@85" at its right end: where a curve crosses a line is the mean-curve's NoC."""
    for t in thresholds:
        ax.axhline(t, color="0.45", lw=0.8, ls="--", zorder=1)
        ax.annotate(f"{name}@{percent_label(t)}", (1.0, t), xycoords=("axes fraction", "data"),
                    xytext=(2, 0), textcoords="offset points", va="center", fontsize=7,
                    color="0.35")


def check_figure_path(path: Path) -> None:
    """Refuse a file suffix that is not one of ``FORMATS``.

    Raises:
        UsageError: naming the file and the suffixes written.
    """
    if Path(path).suffix.lower() not in FORMATS:
        raise UsageError(f"cannot write {path}: give a file ending in "
                         f"{', '.join(FORMATS)} (PNG at {DPI} dpi, PDF/SVG vector)")


def save_figure(fig: Figure, path: Path) -> Path:
    """Write `fig` by the suffix of `path` (PNG at ``DPI`` dots per inch, PDF or SVG as
    vectors), tight layout with the legends outside the axes included; close it; return
    `path`.

    Raises:
        UsageError: a suffix outside ``FORMATS`` (the figure is closed).
    """
    try:
        check_figure_path(path)
        fig.tight_layout()
        fig.savefig(path, dpi=DPI, bbox_inches="tight")
    finally:
        plt.close(fig)
    return path


def nan_array(values: Iterable[float | None]) -> np.ndarray:
    """`values` as a float64 array of shape (len(values),), None (no figure) as NaN."""
    return np.array([np.nan if v is None else v for v in values], np.float64)

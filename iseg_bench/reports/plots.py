"""Plot helpers shared by the report modules: matplotlib on its Agg backend, PNG files.

Constants: ``DPI`` (120, every PNG written), ``GRID_ALPHA`` (0.3, the grid of every plot).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

DPI = 120
GRID_ALPHA = 0.3


def new_axes(width: float = 6, height: float = 4) -> tuple[Figure, Axes]:
    """A new figure of `width` x `height` inches with one axes."""
    fig, ax = plt.subplots(figsize=(width, height))
    return fig, ax


def new_axes_row(n: int, width: float, height: float) -> tuple[Figure, list[Axes]]:
    """A new figure of `n` axes side by side, each `width` x `height` inches."""
    fig, axes = plt.subplots(1, n, figsize=(width * n, height), squeeze=False)
    return fig, list(axes[0])


def finish_axes(ax: Axes, xlabel: str, ylabel: str, legend_size: int | None = 8) -> None:
    """Label the axes, draw the grid and, unless `legend_size` is None, the legend."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=GRID_ALPHA)
    if legend_size is not None:
        ax.legend(fontsize=legend_size)


def save_figure(fig: Figure, path: Path) -> Path:
    """Write `fig` as a PNG (tight layout, ``DPI`` dots per inch), close it; return `path`."""
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def nan_array(values: Iterable[float | None]) -> np.ndarray:
    """`values` as a float64 array of shape (len(values),), None (no figure) as NaN."""
    return np.array([np.nan if v is None else v for v in values], np.float64)

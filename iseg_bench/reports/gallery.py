"""The worst samples of a single-object run: their pictures on one grid and their IoU
curves (``iseg-bench gallery``; docs/reports.md, "Pictures").

Worst means the lowest IoU after interaction k (``by="iou"``, k = `at`, default the run's
last interaction), or the highest NoC@t (``by="noc"``, t = 0.90 unless given); ties keep
the run's sample order. NoC is the field's definition (``metrics.noc``, with the run's
``compat`` mode). Constants: ``GRID_COLUMNS`` (4 panels a row), ``DEFAULT_NOC_THRESHOLD``
(0.90).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from matplotlib.figure import Figure

from iseg_bench import metrics
from iseg_bench.errors import UsageError
from iseg_bench.protocols.curves import click_curves
from iseg_bench.reports.pictures import PANEL_HEIGHT, draw_panel, interaction_word
from iseg_bench.reports.plots import (
    finish_axes,
    integer_ticks,
    new_axes,
    new_axes_grid,
    threshold_lines,
)
from iseg_bench.reports.replay import replay, run_config
from iseg_bench.run_folder import load_records
from iseg_bench.thresholds import percent_label

GRID_COLUMNS = 4
DEFAULT_NOC_THRESHOLD = 0.90

Worst = Literal["iou", "noc"]


@dataclass(frozen=True)
class Chosen:
    """The samples a gallery shows, worst first.

    Attributes:
        sample_ids: the chosen sample ids.
        values: (N,) float64 their IoU@k (``by="iou"``) or NoC@t (``by="noc"``).
        curves: (N, K) float64 their IoU after interactions 1..K.
        label: what `values` are, e.g. "IoU@5" or "NoC@90".
        at: the interaction each picture shows (k; K for ``by="noc"``).
        thresholds: the run's IoU thresholds.
    """

    sample_ids: tuple[str, ...]
    values: np.ndarray
    curves: np.ndarray
    label: str
    at: int
    thresholds: tuple[float, ...]


def worst_samples(run_dir: Path, n: int, at: int | None = None, by: Worst = "iou",
                  threshold: float = DEFAULT_NOC_THRESHOLD) -> Chosen:
    """The `n` worst samples of a single-object run (module docstring).

    Raises:
        RunFolderError, UsageError: not a finished single-object run; `at` outside
            1..K; `n` < 1.
    """
    config = run_config(Path(run_dir))
    k_max = config.max_interactions
    if n < 1:
        raise UsageError("--worst must be at least 1")
    if at is not None and not 1 <= at <= k_max:
        raise UsageError(f"--at {at} is not in 1..{k_max} (the run's interactions)")
    curves = click_curves(load_records(Path(run_dir)), k_max, config.stop_at_iou)
    if by == "noc":
        values = metrics.noc(curves.iou, threshold, config.compat).astype(np.float64)
        order = np.argsort(-values, kind="stable")
        label, shown = f"NoC@{percent_label(threshold)}", k_max
    else:
        shown = at or k_max
        values = curves.iou[:, shown - 1]
        order = np.argsort(values, kind="stable")
        label = f"IoU@{shown}"
    pick = order[:n]
    return Chosen(tuple(curves.keys[i] for i in pick), values[pick], curves.iou[pick], label,
                  shown, tuple(config.iou_thresholds))


def run_title(run_dir: Path) -> str:
    """"model / dataset (run folder name)" of a run folder."""
    config = run_config(Path(run_dir))
    return f"{config.model} / {config.dataset} ({Path(run_dir).resolve().name})"


def gallery_figure(run_dir: Path, worst: int, at: int | None = None, by: Worst = "iou",
                   threshold: float = DEFAULT_NOC_THRESHOLD,
                   data_root: str | None = None) -> Figure:
    """One grid of the `worst` worst samples' pictures (:func:`worst_samples`), each the
    prediction and interactions after interaction ``chosen.at``, titled with the sample id
    and its figure; the predictions are made again (``reports.replay``).

    Raises:
        as :func:`worst_samples` and :func:`~iseg_bench.reports.replay.replay`.
    """
    chosen = worst_samples(run_dir, worst, at, by, threshold)
    replays = [replay(Path(run_dir), sid, chosen.at, data_root) for sid in chosen.sample_ids]
    h, w = replays[0].sample.shape
    cols = min(GRID_COLUMNS, len(replays))
    rows = math.ceil(len(replays) / cols)
    fig, axes = new_axes_grid(rows, cols, PANEL_HEIGHT * w / h, PANEL_HEIGHT)
    for ax, sid, value, rep in zip(axes, chosen.sample_ids, chosen.values, replays):
        k = len(rep.interactions)
        figure = f"{value:.0f}" if by == "noc" else f"{value:.3f}"
        draw_panel(ax, rep.sample.image, rep.sample.target, rep.masks[k - 1],
                   rep.interactions, float(rep.recorded_iou[k - 1]),
                   f"{sid}: {chosen.label} = {figure}")
    for ax in axes[len(replays):]:
        ax.set_axis_off()
    word = interaction_word(replays[0])
    fig.suptitle(f"{run_title(run_dir)}: the {len(replays)} worst samples by "
                 f"{chosen.label}, after {word} {chosen.at}", fontsize=10)
    return fig


def curves_figure(run_dir: Path, chosen: Chosen) -> Figure:
    """IoU after interactions 1..K of the chosen samples, one line each (labelled with the
    sample id), integer ticks, y fixed to [0, 1], NoC reference lines at the run's
    thresholds, the legend below the axes."""
    fig, ax = new_axes()
    k = chosen.curves.shape[1]
    for sid, curve in zip(chosen.sample_ids, chosen.curves):
        ax.plot(range(1, k + 1), curve, marker="o", ms=2.5, lw=1, label=sid, zorder=3)
    threshold_lines(ax, chosen.thresholds)
    ax.set_ylim(0, 1)
    integer_ticks(ax)
    ax.set_title(f"{run_title(run_dir)}: IoU per interaction of the worst samples by "
                 f"{chosen.label}", fontsize=10)
    finish_axes(ax, "interaction", "IoU")
    return fig

"""Plots of sequential runs (their table row is the single-object one).

Source: Lin et al., SIIS, Fig. 4a (the learning curve, drawn here against the position in
the category stream) and Tab. 1 (NoC reported at 85 and 90 % IoU).

Constants: ``PLOT_THRESHOLDS`` (0.85, 0.90), the thresholds drawn when the run has them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from iseg_bench.reports.plots import (
    GRID_ALPHA,
    finish_axes,
    nan_array,
    new_axes,
    new_axes_row,
    save_figure,
)
from iseg_bench.reports.rows import Summary
from iseg_bench.thresholds import percent_label, threshold_label

PLOT_THRESHOLDS = (0.85, 0.90)


def plot_thresholds(summary: Summary) -> list[str]:
    """The summary's threshold keys to draw: those of ``PLOT_THRESHOLDS`` it has, else its
    first one (none when it has no NoC)."""
    have = list((summary.get("noc") or {}).keys())
    chosen = [threshold_label(t) for t in PLOT_THRESHOLDS if threshold_label(t) in have]
    return chosen or have[:1]


def learning_curve_plot(summary: Summary, path: Path) -> Path:
    """NoC@t against stream position, one panel per drawn threshold t, one line per arm
    (mean over orders, with a +- std band)."""
    ts = plot_thresholds(summary)
    fig, axes = new_axes_row(len(ts), 5.5, 4)
    for ax, t in zip(axes, ts):
        for arm, figs in (summary.get("arms") or {}).items():
            lc = figs.get("learning_curve") or {}
            pos = np.asarray(lc.get("position", []), np.float64)
            mean = nan_array(lc.get("noc", {}).get(t, []))
            std = nan_array(lc.get("noc_std", {}).get(t, []))
            if not len(pos):
                continue
            ax.plot(pos, mean, marker="o", ms=3, label=arm)
            ax.fill_between(pos, mean - std, mean + std, alpha=0.2)
        finish_axes(ax, "position in the category stream",
                    f"NoC@{percent_label(t)} (user clicks)")
    fig.suptitle(f"{summary.get('model')} / {summary.get('dataset')}: learning curve", fontsize=9)
    return save_figure(fig, path)


def per_category_plot(summary: Summary, path: Path) -> Path:
    """Horizontal bars of NoC@t (the first drawn threshold) per category, one bar per arm
    (mean over orders)."""
    t = plot_thresholds(summary)[0]
    arms = summary.get("arms") or {}
    cats = sorted({c for f in arms.values() for c in (f.get("per_category") or {})})
    fig, ax = new_axes(6, max(3.0, 0.22 * len(cats) * max(len(arms), 1)))
    height = 0.8 / max(len(arms), 1)
    for i, (arm, figs) in enumerate(arms.items()):
        per = figs.get("per_category") or {}
        values = [per.get(c, {}).get("noc", {}).get(t) for c in cats]
        ax.barh(np.arange(len(cats)) + i * height, nan_array(values), height=height, label=arm)
    ax.set_yticks(np.arange(len(cats)) + 0.4 - height / 2)
    ax.set_yticklabels(cats, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel(f"NoC@{percent_label(t)} (mean over orders)")
    ax.grid(alpha=GRID_ALPHA, axis="x")
    ax.legend(fontsize=8)
    return save_figure(fig, path)


def arm_miou_plot(summary: Summary, path: Path) -> Path:
    """mIoU after k = 0..K user clicks for every arm (k = 0: the accepted proposal only,
    0.0 without one)."""
    fig, ax = new_axes()
    for arm, figs in (summary.get("arms") or {}).items():
        miou = figs.get("miou") or []
        ax.plot(range(0, len(miou) + 1), [figs.get("miou_after_proposal") or 0.0] + list(miou),
                marker="o", ms=3, label=arm)
    finish_axes(ax, "user clicks (0 = accepted proposal only)", "mIoU")
    return save_figure(fig, path)


def acceptance_plot(summary: Summary, path: Path) -> Path:
    """Share of samples whose initial-click proposal was accepted against stream position,
    for the arms with proposals (mean over orders)."""
    fig, ax = new_axes()
    for arm, figs in (summary.get("arms") or {}).items():
        lc = figs.get("learning_curve") or {}
        if not figs.get("proposal_rate"):
            continue
        ax.plot(lc.get("position", []), nan_array(lc.get("accepted_share", [])), marker="o",
                ms=3, label=arm)
    ax.set_ylim(0, 1.02)
    has_lines = bool(ax.get_legend_handles_labels()[0])
    finish_axes(ax, "position in the category stream", "accepted proposals (share of samples)",
                legend_size=8 if has_lines else None)
    return save_figure(fig, path)


def sequential_plots(summary: Summary, out_dir: Path) -> list[Path]:
    """Write learning_curve.png, noc_per_category.png, miou.png and acceptance.png into
    `out_dir` (created when missing); return their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    return [learning_curve_plot(summary, out_dir / "learning_curve.png"),
            per_category_plot(summary, out_dir / "noc_per_category.png"),
            arm_miou_plot(summary, out_dir / "miou.png"),
            acceptance_plot(summary, out_dir / "acceptance.png")]

"""Plots of a sequential-protocol run (matplotlib, Agg backend, PNG files).

* ``learning_curve.png`` -- NoC@t against the position in the category stream, one line
  per arm (with / without initial-click proposals), mean +- std over orders: the learning
  curve of SIIS Fig. 4a (Lin et al.), drawn here against stream position;
* ``noc_per_category.png`` -- NoC@t per category for each arm, mean over orders;
* ``miou.png`` -- mIoU against user clicks for each arm;
* ``acceptance.png`` -- share of samples whose initial-click proposal was accepted, against
  the position in the stream (how fast the proposal learns a category), mean over orders.

Thresholds drawn: 0.85 and 0.90 when present (Tab. 1 reports @85 and @90), else the first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from iseg_bench.reports.plots import save_figure  # noqa: E402

PLOT_THRESHOLDS = ("0.85", "0.90")


def _thresholds(summary: dict[str, Any]) -> list[str]:
    have = list((summary.get("noc") or {}).keys())
    chosen = [t for t in PLOT_THRESHOLDS if t in have]
    return chosen or have[:1]


def _nan(values):
    return np.array([np.nan if v is None else v for v in values], np.float64)


def learning_curve_plot(summary: dict[str, Any], path: Path) -> Path:
    """NoC@t vs stream position for every arm (mean line, +- std band over orders)."""
    ts = _thresholds(summary)
    fig, axes = plt.subplots(1, len(ts), figsize=(5.5 * len(ts), 4), squeeze=False)
    for ax, t in zip(axes[0], ts):
        for arm, figs in (summary.get("arms") or {}).items():
            lc = figs.get("learning_curve") or {}
            pos = np.asarray(lc.get("position", []), np.float64)
            mean = _nan(lc.get("noc", {}).get(t, []))
            std = _nan(lc.get("noc_std", {}).get(t, []))
            if not len(pos):
                continue
            ax.plot(pos, mean, marker="o", ms=3, label=arm)
            ax.fill_between(pos, mean - std, mean + std, alpha=0.2)
        ax.set_xlabel("position in the category stream")
        ax.set_ylabel(f"NoC@{round(float(t) * 100)} (user clicks)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(f"{summary.get('model')} / {summary.get('dataset')}: learning curve", fontsize=9)
    return save_figure(fig, path)


def per_category_plot(summary: dict[str, Any], path: Path) -> Path:
    """Horizontal bars of NoC@t per category, one bar per arm."""
    t = _thresholds(summary)[0]
    arms = summary.get("arms") or {}
    cats = sorted({c for f in arms.values() for c in (f.get("per_category") or {})})
    fig, ax = plt.subplots(figsize=(6, max(3.0, 0.22 * len(cats) * max(len(arms), 1))))
    height = 0.8 / max(len(arms), 1)
    for i, (arm, figs) in enumerate(arms.items()):
        per = figs.get("per_category") or {}
        vals = [per.get(c, {}).get("noc", {}).get(t) for c in cats]
        ax.barh(np.arange(len(cats)) + i * height, _nan(vals), height=height, label=arm)
    ax.set_yticks(np.arange(len(cats)) + 0.4 - height / 2)
    ax.set_yticklabels(cats, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel(f"NoC@{round(float(t) * 100)} (mean over orders)")
    ax.grid(alpha=0.3, axis="x")
    ax.legend(fontsize=8)
    return save_figure(fig, path)


def arm_miou_plot(summary: dict[str, Any], path: Path) -> Path:
    """mIoU after k user clicks for every arm."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for arm, figs in (summary.get("arms") or {}).items():
        miou = figs.get("miou") or []
        ks = range(0, len(miou) + 1)
        ax.plot(ks, [figs.get("miou_after_proposal") or 0.0] + list(miou), marker="o", ms=3,
                label=arm)
    ax.set_xlabel("user clicks (0 = accepted proposal only)")
    ax.set_ylabel("mIoU")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return save_figure(fig, path)


def acceptance_plot(summary: dict[str, Any], path: Path) -> Path:
    """Accepted-proposal share against stream position for the arms with proposals."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for arm, figs in (summary.get("arms") or {}).items():
        lc = figs.get("learning_curve") or {}
        if not figs.get("proposal_rate"):
            continue
        ax.plot(lc.get("position", []), _nan(lc.get("accepted_share", [])), marker="o", ms=3,
                label=arm)
    ax.set_xlabel("position in the category stream")
    ax.set_ylabel("accepted proposals (share of samples)")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    return save_figure(fig, path)


def sequential_plots(summary: dict[str, Any], out_dir: Path) -> list[Path]:
    """Write the four plots of a sequential run into out_dir; return their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    return [learning_curve_plot(summary, out_dir / "learning_curve.png"),
            per_category_plot(summary, out_dir / "noc_per_category.png"),
            arm_miou_plot(summary, out_dir / "miou.png"),
            acceptance_plot(summary, out_dir / "acceptance.png")]

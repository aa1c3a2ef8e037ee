"""Plots of a run and of several runs (matplotlib, Agg backend, PNG files).

* mIoU vs interactions (the field's standard per-click IoU curve);
* proportion of samples above 90..99% IoU at k interactions (Forte et al., Figs. 10-12);
* corrective accuracy vs interactions (Forte et al., Fig. 6).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def save_figure(fig, path: Path) -> Path:
    """Write `fig` as a PNG (tight layout, 120 dpi), close it, and return `path`."""
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _label(s: dict[str, Any]) -> str:
    return "NoI" if s.get("interaction") == "scribble" else "clicks"


def miou_curves(summaries: list[dict[str, Any]], labels: list[str], path: Path) -> Path:
    """mIoU@k against k for several runs on one figure."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for s, label in zip(summaries, labels):
        miou = s.get("miou", [])
        ax.plot(range(1, len(miou) + 1), miou, marker="o", ms=3, label=label)
    ax.set_xlabel(f"number of {_label(summaries[0]) if summaries else 'clicks'}")
    ax.set_ylabel("mIoU")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return save_figure(fig, path)


def proportion_plot(summary: dict[str, Any], path: Path) -> Path:
    """Share of samples above t in 0.90..0.99 at k interactions, one line per k."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for k, row in summary.get("proportion_above", {}).items():
        ts = [float(t) for t in row]
        ax.plot([t * 100 for t in ts], list(row.values()), marker="o", ms=3, label=f"k = {k}")
    ax.set_xlabel("IoU threshold (%)")
    ax.set_ylabel("proportion of samples above")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return save_figure(fig, path)


def corrective_plot(summary: dict[str, Any], path: Path) -> Path:
    """Mean corrective accuracy per interaction index."""
    acc = summary.get("corrective_accuracy", [])
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(range(1, len(acc) + 1), [float("nan") if a is None else a for a in acc],
            marker="o", ms=3)
    ax.set_xlabel("interaction")
    ax.set_ylabel("corrective accuracy")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    return save_figure(fig, path)


def single_object_plots(summary: dict[str, Any], out_dir: Path) -> list[Path]:
    """The three standard plots of a single-object run, written into out_dir."""
    out_dir = Path(out_dir)
    label = f"{summary.get('model')} / {summary.get('dataset')}"
    return [miou_curves([summary], [label], out_dir / "miou.png"),
            proportion_plot(summary, out_dir / "proportion_above.png"),
            corrective_plot(summary, out_dir / "corrective_accuracy.png")]

"""Table row and plots of single-object runs (the row also serves sequential runs).

Sources of the plots: the per-interaction mIoU curve of the interactive segmentation
literature; the proportion of samples above 90..99 % IoU at k interactions (Forte et al.,
Figs. 10-12); corrective accuracy against interactions (Forte et al., Fig. 6).

Constants: ``MIOU_AT`` (1, 5, 20), the interaction counts k of the table's mIoU@k columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from iseg_bench.reports.plots import (
    finish_axes,
    integer_ticks,
    nan_array,
    new_axes,
    save_figure,
    threshold_lines,
)
from iseg_bench.reports.rows import Row, Summary, count_heading, run_label, run_marks
from iseg_bench.thresholds import parse_thresholds, percent_label

MIOU_AT = (1, 5, 20)


def single_object_row(summary: Summary, label: str, noc_name: str) -> Row:
    """The table row of a single-object (or sequential) summary.

    Args:
        summary: a summary as in summary.json (or one of its splits laid over it).
        label: the ``run`` cell.
        noc_name: heading of the interaction count: "NoC" or "NoI" (also turns the
            seconds columns into "s/interaction").

    Returns:
        run, robot, samples, failed; ``{noc_name}@{t}`` (2 decimals) and ``NoF@{t}`` per
        threshold t in percent; ``mIoU@k`` (4 decimals) for k in ``MIOU_AT`` up to the
        interaction cap; ``AuC`` (4 decimals); seconds per click, first and later (4
        decimals), when the summary has them.
    """
    row: Row = {"run": label, "robot": summary.get("robot"),
                "samples": summary.get("n_samples", 0), "failed": summary.get("n_failed", 0)}
    for t, v in summary.get("noc", {}).items():
        row[f"{noc_name}@{percent_label(t)}"] = round(v, 2)
    for t, v in summary.get("nof", {}).items():
        row[f"NoF@{percent_label(t)}"] = v
    miou = summary.get("miou", [])
    for k in MIOU_AT:
        if k <= len(miou):
            row[f"mIoU@{k}"] = round(miou[k - 1], 4)
    if "auc" in summary:
        row["AuC"] = round(summary["auc"], 4)
    per = "s/interaction" if noc_name == "NoI" else "s/click"
    spc = summary.get("seconds_per_click") or {}
    for key, heading in (("first", "1st"), ("later", "later")):
        if spc.get(key) is not None:
            row[f"{per} ({heading})"] = round(spc[key], 4)
    return row


def interaction_unit(summary: Summary) -> str:
    """"clicks", or "interactions" for a scribble run (the x axis and k of its plots)."""
    return "interactions" if summary.get("interaction") == "scribble" else "clicks"


def miou_curves(summaries: Sequence[Summary], labels: Sequence[str], path: Path,
                title: str | None = None) -> Path:
    """mIoU@k against k = 1..K of several runs on one figure (`path`: .png, .pdf or .svg).

    Integer k ticks, y fixed to [0, 1], dashed NoC reference lines at the first run's IoU
    thresholds, the legend below the axes. The x axis counts clicks, or interactions
    ("NoI") when the first run is a scribble run. Title: `title`, else "mIoU per click on
    <datasets>". Returns `path`.
    """
    fig, ax = new_axes()
    for s, label in zip(summaries, labels):
        miou = s.get("miou", [])
        ax.plot(range(1, len(miou) + 1), miou, marker="o", ms=3, label=label, zorder=3)
    first = summaries[0] if summaries else {}
    threshold_lines(ax, parse_thresholds(list(first.get("noc", {}))), count_heading(first))
    ax.set_ylim(0, 1)
    integer_ticks(ax)
    unit = interaction_unit(first)
    datasets = ", ".join(dict.fromkeys(str(s.get("dataset")) for s in summaries))
    ax.set_title(title or f"mIoU per {unit[:-1]} on {datasets}", fontsize=10)
    finish_axes(ax, f"number of {unit}" + (" (NoI)" if unit == "interactions" else ""),
                "mIoU")
    return save_figure(fig, path)


def runs_plot(summaries: Sequence[Summary], path: Path) -> Path:
    """:func:`miou_curves` of several runs labelled "model / dataset / robot", followed by
    the run's marks (:func:`~iseg_bench.reports.rows.run_marks`: incomplete, failed)."""
    labels = [f"{run_label(s)} / {s.get('robot')}{run_marks(s)}" for s in summaries]
    return miou_curves(summaries, labels, path)


def proportion_plot(summary: Summary, path: Path) -> Path:
    """Share of samples above IoU threshold t (x, in %) after k interactions, one line per
    k ("k = 5 clicks"); y fixed to [0, 1]; title names the run and what k is."""
    fig, ax = new_axes()
    unit = interaction_unit(summary)
    for k, shares in summary.get("proportion_above", {}).items():
        percent = [t * 100 for t in parse_thresholds(list(shares))]
        ax.plot(percent, list(shares.values()), marker="o", ms=3,
                label=f"k = {k} {unit if int(k) > 1 else unit[:-1]}")
    ax.set_ylim(0, 1)
    ax.set_title(f"{run_label(summary)}: share of samples with IoU > t\n"
                 f"after k {unit} (k = {unit} given so far)", fontsize=10)
    finish_axes(ax, "IoU threshold t (%)", "proportion of samples above t")
    return save_figure(fig, path)


def corrective_plot(summary: Summary, path: Path) -> Path:
    """Mean corrective accuracy per interaction index (no figure: a gap), y fixed to
    [0, 1.08]; each point is labelled with its number of samples n (the rows defining
    it, ``corrective_accuracy_n``)."""
    accuracy = nan_array(summary.get("corrective_accuracy", []))
    counts = summary.get("corrective_accuracy_n", [])
    fig, ax = new_axes()
    ks = np.arange(1, len(accuracy) + 1)
    ax.plot(ks, accuracy, marker="o", ms=3)
    for k, value, n in zip(ks, accuracy, counts):
        if not np.isnan(value):
            ax.annotate(str(n), (k, value), xytext=(0, 4), textcoords="offset points",
                        ha="center", fontsize=6, color="0.3")
    ax.set_ylim(0, 1.08)
    integer_ticks(ax)
    ax.set_title(f"{run_label(summary)}: corrective accuracy "
                 "(numbers: samples per point)", fontsize=10)
    finish_axes(ax, "interaction", "corrective accuracy", legend_size=None)
    return save_figure(fig, path)


def single_object_plots(summary: Summary, out_dir: Path) -> list[Path]:
    """Write miou.png, proportion_above.png and corrective_accuracy.png into `out_dir`."""
    out_dir = Path(out_dir)
    return [miou_curves([summary], [run_label(summary)], out_dir / "miou.png"),
            proportion_plot(summary, out_dir / "proportion_above.png"),
            corrective_plot(summary, out_dir / "corrective_accuracy.png")]

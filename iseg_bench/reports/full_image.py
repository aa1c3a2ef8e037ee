"""Table row, curve table and plots of full-image runs.

Source of the plot: Agustsson, Uijlings and Ferrari, "Interactive Full Image Segmentation
by Considering All Regions Jointly", CVPR 2019, Fig. 5 (mean IoU over all regions against
corrective scribbles per region, one point per round from 0: extreme points only).

Constants: ``ROUNDS_AT`` (1, 2, 4, 10), the rounds of the table's "mIoU r{k}" and
"S/reg r{k}" columns; ``SPLIT_STYLES``, the splits drawn and their line styles (thing
dashed, stuff dotted).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from iseg_bench.reports.markdown import to_markdown
from iseg_bench.reports.plots import finish_axes, new_axes, save_figure
from iseg_bench.reports.rows import (
    Row,
    Summary,
    count_heading,
    run_label,
    run_marks,
    summary_rows,
)
from iseg_bench.thresholds import percent_label

ROUNDS_AT = (1, 2, 4, 10)
SPLIT_STYLES = (("thing", "--"), ("stuff", ":"))


def full_image_row(summary: Summary, label: str, noc_name: str) -> Row:
    """The table row of a full-image summary (or of one of its splits laid over it).

    Args:
        summary: a full-image summary as in summary.json.
        label: the ``run`` cell.
        noc_name: unused (full-image rows have no interaction count column); there for the
            common row signature.

    Returns:
        run, allocation, images, regions, failed; "mIoU X-pts" (after the extreme points,
        4 decimals); "mIoU r{k}" (4 decimals) and "S/reg r{k}" (scribbles per region, 2
        decimals) for each k in ``ROUNDS_AT`` the run has; "S@{t}" scribbles per region to
        reach mean IoU t (in percent; 2 decimals, "-" when never reached); "s/round"
        (seconds per scribble round, 3 decimals) when timed.
    """
    row: Row = {"run": label, "allocation": summary.get("allocation"),
                "images": summary.get("n_samples", 0), "regions": summary.get("n_regions"),
                "failed": summary.get("n_failed", 0)}
    curve = summary.get("curve") or {}
    miou = curve.get("miou", [])
    spr = curve.get("scribbles_per_region", [])
    rounds = curve.get("round", [])
    if miou:
        row["mIoU X-pts"] = round(miou[0], 4)
    for k in ROUNDS_AT:
        if k in rounds:
            i = rounds.index(k)
            row[f"mIoU r{k}"] = round(miou[i], 4)
            row[f"S/reg r{k}"] = round(spr[i], 2)
    for t, v in (summary.get("scribbles_to_reach") or {}).items():
        row[f"S@{percent_label(t)}"] = "-" if v is None else round(v, 2)
    seconds = (summary.get("seconds_per_round") or {}).get("scribbles")
    if seconds is not None:
        row["s/round"] = round(seconds, 3)
    return row


def curve_frame(summary: Summary) -> pd.DataFrame:
    """The Fig. 5 curve of one run: one row per round (round, scribbles_per_region, miou,
    and miou_thing / miou_stuff when the run has the split); mIoU as a fraction."""
    curve = summary.get("curve") or {}
    frame = pd.DataFrame({"round": curve.get("round", []),
                          "scribbles_per_region": curve.get("scribbles_per_region", []),
                          "miou": curve.get("miou", [])})
    for name, _ in SPLIT_STYLES:
        if f"miou_{name}" in curve:
            frame[f"miou_{name}"] = curve[f"miou_{name}"]
    return frame


def fig5_plot(summaries: Sequence[Summary], labels: Sequence[str], path: Path,
              splits: bool = False) -> Path:
    """Mean IoU (%) against scribbles per region, one line per run (Fig. 5 axes).

    Args:
        summaries: full-image summaries (``curve`` key).
        labels: one legend label per summary.
        path: PNG file to write.
        splits: also draw the thing (dashed) and stuff (dotted) curves in the run's colour.

    Returns:
        `path`.
    """
    fig, ax = new_axes(6, 4.2)
    for s, label in zip(summaries, labels):
        c = s.get("curve") or {}
        line, = ax.plot(c.get("scribbles_per_region", []), [100 * v for v in c.get("miou", [])],
                        marker="o", ms=3, label=label)
        for name, style in SPLIT_STYLES if splits else ():
            if f"miou_{name}" in c:
                ax.plot(c[f"scribbles_per_region_{name}"], [100 * v for v in c[f"miou_{name}"]],
                        style, color=line.get_color(), lw=1, label=f"{label} [{name}]")
    finish_axes(ax, "corrective scribbles per region", "mean IoU over all regions (%)",
                legend_size=7)
    return save_figure(fig, Path(path))


def runs_plot(summaries: Sequence[Summary], path: Path) -> Path:
    """:func:`fig5_plot` of several runs labelled "model / dataset / allocation" and their
    marks (:func:`~iseg_bench.reports.rows.run_marks`)."""
    labels = [f"{run_label(s)} / {s.get('allocation')}{run_marks(s)}" for s in summaries]
    return fig5_plot(summaries, labels, path)


def full_image_plots(summary: Summary, out_dir: Path) -> list[Path]:
    """Write fig5_curve.png (with splits), fig5_curve.csv (:func:`curve_frame`) and
    fig5_curve.md (the curve to 4 decimals, then the run's table rows) into `out_dir`."""
    out_dir = Path(out_dir)
    label = f"{run_label(summary)} ({summary.get('allocation')})"
    png = fig5_plot([summary], [label], out_dir / "fig5_curve.png", splits=True)
    frame = curve_frame(summary)
    csv = out_dir / "fig5_curve.csv"
    frame.to_csv(csv, index=False)
    rows = pd.DataFrame(summary_rows(summary, full_image_row, label, count_heading(summary)))
    md = out_dir / "fig5_curve.md"
    md.write_text(to_markdown(frame.round(4)) + "\n\n" + to_markdown(rows) + "\n",
                  encoding="utf-8")
    return [png, csv, md]

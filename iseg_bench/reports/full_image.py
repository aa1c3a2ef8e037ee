"""Tables and plots of full-image runs (protocols.full_image).

Source of the figure: Agustsson, Uijlings and Ferrari, CVPR 2019, Fig. 5: mean IoU (%, over
all regions) against the number of corrective scribbles per region, one point per round,
starting at 0 scribbles (extreme points only).

* :func:`full_image_row` -- one table row per run (for ``iseg-bench report``): mIoU after the
  extreme points (X-pts), after rounds 1, 2, 4, 10 (``ROUNDS_AT``), and scribbles per
  region to reach 85/88/90 % mean IoU ("S@85" ...; "-" when never reached);
* :func:`curve_frame` -- the curve of one run as a table (round, scribbles per region,
  mIoU, mIoU things, mIoU stuff);
* :func:`fig5_plot` -- the Fig. 5-style plot of several runs (things/stuff dashed/dotted
  when asked);
* :func:`write_full_image_outputs` -- what a run writes into its plots folder:
  ``fig5_curve.png``, ``fig5_curve.csv``, ``fig5_curve.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from iseg_bench.reports.plots import save_figure  # noqa: E402

ROUNDS_AT = (1, 2, 4, 10)


def _pct(t: str) -> str:
    return str(round(float(t) * 100))


def full_image_row(summary: dict[str, Any], label: str | None = None) -> dict[str, Any]:
    """The table row of one full-image summary (or of one of its splits merged into it)."""
    row: dict[str, Any] = {"run": label or f"{summary.get('model')} / {summary.get('dataset')}",
                           "allocation": summary.get("allocation"),
                           "images": summary.get("n_samples", 0),
                           "regions": summary.get("n_regions"),
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
        row[f"S@{_pct(t)}"] = "-" if v is None else round(v, 2)
    spr_s = (summary.get("seconds_per_round") or {}).get("scribbles")
    if spr_s is not None:
        row["s/round"] = round(spr_s, 3)
    return row


def curve_frame(summary: dict[str, Any]) -> pd.DataFrame:
    """The Fig. 5 curve of one run: one row per round."""
    curve = summary.get("curve") or {}
    frame = pd.DataFrame({"round": curve.get("round", []),
                          "scribbles_per_region": curve.get("scribbles_per_region", []),
                          "miou": curve.get("miou", [])})
    for name in ("thing", "stuff"):
        if f"miou_{name}" in curve:
            frame[f"miou_{name}"] = curve[f"miou_{name}"]
    return frame


def fig5_plot(summaries: Sequence[dict[str, Any]], labels: Sequence[str], path: Path,
              splits: bool = False) -> Path:
    """Mean IoU (%) against scribbles per region, one line per run (Fig. 5 axes).

    Args:
        summaries: full-image summaries (``curve`` key).
        labels: one legend label per summary.
        path: PNG file to write.
        splits: also draw the thing (dashed) and stuff (dotted) curves.

    Returns:
        `path`.
    """
    fig, ax = plt.subplots(figsize=(6, 4.2))
    for s, label in zip(summaries, labels):
        c = s.get("curve") or {}
        line, = ax.plot(c.get("scribbles_per_region", []), [100 * v for v in c.get("miou", [])],
                        marker="o", ms=3, label=label)
        if splits:
            for name, style in (("thing", "--"), ("stuff", ":")):
                if f"miou_{name}" in c:
                    ax.plot(c[f"scribbles_per_region_{name}"],
                            [100 * v for v in c[f"miou_{name}"]], style,
                            color=line.get_color(), lw=1, label=f"{label} [{name}]")
    ax.set_xlabel("corrective scribbles per region")
    ax.set_ylabel("mean IoU over all regions (%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return save_figure(fig, Path(path))


def write_full_image_outputs(summary: dict[str, Any], out_dir: Path) -> list[Path]:
    """Write fig5_curve.png/.csv/.md of one run into out_dir; return the paths."""
    from iseg_bench.reports.tables import summary_frame, to_markdown

    out_dir = Path(out_dir)
    label = f"{summary.get('model')} / {summary.get('dataset')} ({summary.get('allocation')})"
    png = fig5_plot([summary], [label], out_dir / "fig5_curve.png", splits=True)
    frame = curve_frame(summary)
    csv = out_dir / "fig5_curve.csv"
    frame.to_csv(csv, index=False)
    md = out_dir / "fig5_curve.md"
    md.write_text(to_markdown(frame.round(4)) + "\n\n" +
                  to_markdown(summary_frame([summary], [label])) + "\n", encoding="utf-8")
    return [png, csv, md]

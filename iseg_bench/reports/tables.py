"""Tables of figures across runs: terminal, CSV and Markdown.

One row per run (and per thing/stuff split when a run has one). NoC is labelled NoI for
scribble runs (ScribbleSeg, Sec. 3.4), and for every row of a table that mixes click and
scribble runs (NoI generalises NoC; the paper's Tab. 10 compares them that way), with an
``interaction`` column saying which each row is. NoF counts failures within
max_interactions.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from iseg_bench.registry import load_object

MIOU_AT = (1, 5, 20)

#: protocols whose summaries have their own table row: protocol -> "module:function"
ROW_FORMATTERS = {"full-image": "iseg_bench.reports.full_image:full_image_row"}


def _row_formatter(summary: dict[str, Any]):
    spec = ROW_FORMATTERS.get(summary.get("protocol"))
    if spec is None:
        return None
    return load_object(spec)


def _pct(t: str) -> str:
    return str(round(float(t) * 100))


def summary_row(summary: dict[str, Any], label: str | None = None,
                noc_name: str | None = None) -> dict[str, Any]:
    """The table row of one summary: NoC@t, NoF@t, mIoU@k, AuC, seconds per click.

    noc_name: column prefix of NoC; default "NoI" for scribble runs, else "NoC"."""
    noc_name = noc_name or ("NoI" if summary.get("interaction") == "scribble" else "NoC")
    row: dict[str, Any] = {"run": label or f"{summary.get('model')} / {summary.get('dataset')}",
                           "robot": summary.get("robot"),
                           "samples": summary.get("n_samples", 0),
                           "failed": summary.get("n_failed", 0)}
    for t, v in summary.get("noc", {}).items():
        row[f"{noc_name}@{_pct(t)}"] = round(v, 2)
    for t, v in summary.get("nof", {}).items():
        row[f"NoF@{_pct(t)}"] = v
    miou = summary.get("miou", [])
    for k in MIOU_AT:
        if k <= len(miou):
            row[f"mIoU@{k}"] = round(miou[k - 1], 4)
    if "auc" in summary:
        row["AuC"] = round(summary["auc"], 4)
    spc = summary.get("seconds_per_click") or {}
    per = "s/interaction" if noc_name == "NoI" else "s/click"
    if spc.get("first") is not None:
        row[f"{per} (1st)"] = round(spc["first"], 4)
    if spc.get("later") is not None:
        row[f"{per} (later)"] = round(spc["later"], 4)
    return row


def summary_frame(summaries: list[dict[str, Any]], labels: list[str] | None = None) -> pd.DataFrame:
    """DataFrame with one row per summary and one per thing/stuff split of each.

    Protocols listed in ROW_FORMATTERS get their own columns (e.g. full-image rounds)."""
    kinds = {s.get("interaction") for s in summaries if s.get("interaction")}
    noc_name = "NoI" if "scribble" in kinds else "NoC"
    rows = []
    for i, s in enumerate(summaries):
        own = _row_formatter(s)
        row = own or (lambda summary, label: summary_row(summary, label, noc_name))
        base = row(s, labels[i] if labels else None)
        rows.append(base)
        for split, figs in (s.get("splits") or {}).items():
            rows.append(row({**s, **figs, "n_failed": None}, f"{base['run']} [{split}]"))
    frame = pd.DataFrame(rows)
    if len(kinds) > 1:
        frame.insert(2, "interaction", [s.get("interaction") for s in summaries
                                        for _ in range(1 + len(s.get("splits") or {}))])
    return frame


def summary_markdown(summaries: list[dict[str, Any]], labels: list[str] | None = None) -> str:
    """A Markdown table of the summaries."""
    return to_markdown(summary_frame(summaries, labels))


def to_markdown(frame: pd.DataFrame) -> str:
    """Render a DataFrame as a GitHub Markdown table (no extra dependency)."""
    cols = list(frame.columns)
    cell = lambda v: "" if v is None or (isinstance(v, float) and pd.isna(v)) else str(v)
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.itertuples(index=False)]
    return "\n".join(lines)

"""The paired test of ``compare``: per figure, the paired bootstrap p value of the
difference between two single-object runs, sample by sample (records.csv of both runs,
paired by sample id; method and constants in :mod:`iseg_bench.protocols.intervals`).

Tested figures: NoC@t (NoI@t), mIoU@k for every k and AuC, of the whole run and of each
thing/stuff split; NoF, failed samples and seconds are counts or timings and get no test.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from iseg_bench.protocols.curves import click_curves
from iseg_bench.protocols.figures import split_by_thing
from iseg_bench.protocols.intervals import paired_p_value, session_values
from iseg_bench.reports.comparability import RunView
from iseg_bench.reports.rows import count_heading
from iseg_bench.run_folder import RECORDS_CSV, load_records
from iseg_bench.thresholds import percent_label


def _records(view: RunView) -> pd.DataFrame | None:
    """The run's records, None without records.csv; a run without timings.csv gets NaN
    ``model_seconds`` (the curve arrays want the column; the test does not use it)."""
    path = Path(view.label)
    folder = path.parent if path.is_file() else path
    if not (folder / RECORDS_CSV).exists():
        return None
    records = load_records(folder)
    if "model_seconds" not in records:
        records["model_seconds"] = np.nan
    return records


def _part_p_values(a: pd.DataFrame, b: pd.DataFrame, view: RunView, suffix: str
                   ) -> dict[str, float]:
    """{figure + suffix: p} of one part (the run or a split) of both runs' records."""
    summary, config = view.summary, view.identity
    k, stop = int(summary["max_interactions"]), config.get("stop_at_iou")
    ca, cb = click_curves(a, k, stop), click_curves(b, k, stop)
    row_b = {key: i for i, key in enumerate(cb.keys)}
    rows_a = [i for i, key in enumerate(ca.keys) if key in row_b]
    rows_b = [row_b[ca.keys[i]] for i in rows_a]
    if not rows_a:
        return {}
    thresholds = [float(t) for t in config.get("iou_thresholds") or summary.get("noc", {})]
    noc_name = count_heading(summary)
    names, columns = [], []
    va = session_values(ca.iou[rows_a], thresholds, config.get("compat"))
    vb = session_values(cb.iou[rows_b], thresholds, config.get("compat"))
    for t in thresholds:
        names.append(f"{noc_name}@{percent_label(t)}")
        columns.append(vb[0][t] - va[0][t])
    for j in range(k):
        names.append(f"mIoU@{j + 1}")
        columns.append(vb[1][:, j] - va[1][:, j])
    names.append("AuC")
    columns.append(vb[2] - va[2])
    p = paired_p_value(np.stack(columns, axis=1))
    return {name + suffix: float(v) for name, v in zip(names, p)}


def paired_p_values(baseline: RunView, candidate: RunView) -> dict[str, float]:
    """{figure name as ``compare`` names it (e.g. "NoC@90", "mIoU@5 [thing]"): p value};
    {} when a run has no records.csv or is not a single-object run.

    Pairs are the sample ids both runs completed.
    """
    if str(baseline.summary.get("protocol", "single-object")) != "single-object":
        return {}
    a, b = _records(baseline), _records(candidate)
    if a is None or b is None:
        return {}
    out = _part_p_values(a, b, baseline, "")
    parts_a, parts_b = split_by_thing(a), split_by_thing(b)
    if len(parts_a) > 1:
        for name in sorted(set(parts_a) & set(parts_b)):
            out.update(_part_p_values(parts_a[name], parts_b[name], baseline, f" [{name}]"))
    return out


def p_text(p: float | None) -> str:
    """A p value as shown: 3 decimals, "< 0.001" below that, "" when untested."""
    if p is None:
        return ""
    return "< 0.001" if p < 0.001 else f"{p:.3f}"

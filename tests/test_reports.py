"""Reports on hand-made and golden summaries: each presenter's table row, threshold
headings through thresholds.percent_label, the plots each protocol writes, Markdown cells."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from iseg_bench.reports import (
    PRESENTERS,
    plot_runs,
    summary_frame,
    summary_markdown,
    to_markdown,
    write_plots,
)
from iseg_bench.reports import full_image as full_image_reports
from iseg_bench.reports.compare import figures
from iseg_bench.reports.full_image import full_image_row
from iseg_bench.reports.single_object import single_object_row

GOLDEN = Path(__file__).resolve().parent / "golden"

CLICK = {"protocol": "single-object", "model": "m", "dataset": "d", "robot": "clicker",
         "interaction": "click", "n_samples": 4, "n_failed": 1,
         "noc": {"0.85": 2.345, "0.90": 3.0}, "nof": {"0.85": 1, "0.90": 2},
         "miou": [0.51234, 0.6, 0.7, 0.8, 0.81236] + [0.9] * 15, "auc": 0.876543,
         "seconds_per_click": {"first": 0.123456, "later": None}}
FULL = {"protocol": "full-image", "model": "m", "dataset": "p", "interaction": "scribble",
        "allocation": "free", "n_samples": 2, "n_regions": 16, "n_failed": 0,
        "curve": {"round": [0, 1, 2], "scribbles_per_region": [0.0, 1.0, 2.345],
                  "miou": [0.25574, 0.5, 0.71226]},
        "scribbles_to_reach": {"0.85": None, "0.90": 2.345},
        "seconds_per_round": {"scribbles": 0.04567}}


def golden(name: str) -> dict:
    return json.loads((GOLDEN / name / "summary.json").read_text(encoding="utf-8"))


def test_single_object_row():
    row = single_object_row(CLICK, "run A", "NoC")
    assert row == {"run": "run A", "robot": "clicker", "samples": 4, "failed": 1,
                   "NoC@85": 2.35, "NoC@90": 3.0, "NoF@85": 1, "NoF@90": 2,
                   "mIoU@1": 0.5123, "mIoU@5": 0.8124, "mIoU@20": 0.9, "AuC": 0.8765,
                   "s/click (1st)": 0.1235}
    noi = single_object_row(CLICK, "run A", "NoI")
    assert "NoI@85" in noi and "s/interaction (1st)" in noi and "NoC@85" not in noi


def test_full_image_row():
    row = full_image_row(FULL, "run B", "NoI")
    assert row == {"run": "run B", "allocation": "free", "images": 2, "regions": 16,
                   "failed": 0, "mIoU X-pts": 0.2557, "mIoU r1": 0.5, "S/reg r1": 1.0,
                   "mIoU r2": 0.7123, "S/reg r2": 2.35, "S@85": "-", "S@90": 2.35,
                   "s/round": 0.046}


def test_each_protocol_has_its_row_and_plots():
    assert PRESENTERS["single-object"].row is single_object_row
    assert PRESENTERS["sequential"].row is single_object_row
    assert PRESENTERS["full-image"].row is full_image_row
    frame = summary_frame([golden("sequential-synthetic")])
    # the main arm (proposals, learning), then every other arm of Tab. 1 under its label
    run = "color-prior / synthetic-categories"
    assert list(frame["run"]) == [run, f"{run} [with proposals, without learning]",
                                  f"{run} [without proposals]",
                                  f"{run} [without proposals, without learning]"]
    assert "NoC@85" in frame.columns and "allocation" not in frame.columns


def test_nearby_thresholds_get_distinct_headings():
    s = {**CLICK, "noc": {"0.99": 5.0, "0.995": 6.0}, "nof": {"0.99": 1, "0.995": 2}}
    columns = list(summary_frame([s]).columns)
    assert {"NoC@99", "NoC@99.5", "NoF@99", "NoF@99.5"} <= set(columns)
    assert len(columns) == len(set(columns))
    assert {"NoC@99", "NoC@99.5", "NoF@99", "NoF@99.5"} <= set(figures(s, top=True))
    reach = full_image_row({**FULL, "scribbles_to_reach": {"0.99": 1.0, "0.995": 2.0}}, "r", "")
    assert reach["S@99"] == 1.0 and reach["S@99.5"] == 2.0


def test_mixed_table_says_noi_and_interaction_per_row():
    scribble = {**CLICK, "interaction": "scribble", "robot": "scribbler",
                "splits": {"thing": {"noc": {"0.85": 1.0}}}}
    frame = summary_frame([CLICK, scribble, FULL], labels=["a", "b", "c"])
    assert list(frame.columns[:3]) == ["run", "robot", "interaction"]
    assert list(frame["interaction"]) == ["click", "scribble", "scribble", "scribble"]
    assert list(frame["run"]) == ["a (1 failed)", "b (1 failed)", "b (1 failed) [thing]", "c"]
    assert "NoI@85" in frame.columns and "NoC@85" not in frame.columns
    assert math.isnan(frame.loc[2, "failed"]) and frame.loc[3, "S@90"] == 2.35
    assert "interaction" not in summary_frame([CLICK]).columns


def test_markdown_cells():
    frame = pd.DataFrame([{"a": 1, "b": None}, {"a": float("nan"), "b": "x"}])
    assert to_markdown(frame) == "| a | b |\n|---|---|\n| 1.0 |  |\n|  | x |"
    assert summary_markdown([CLICK]).splitlines()[0].startswith("| run | robot | samples |")


@pytest.mark.parametrize("name,files", [
    ("clicker-grabcut", ["miou.png", "proportion_above.png", "corrective_accuracy.png"]),
    ("full-image-synthetic", ["fig5_curve.png", "fig5_curve.csv", "fig5_curve.md"]),
    ("sequential-synthetic", ["learning_curve.png", "noc_per_category.png", "miou.png",
                              "acceptance.png"]),
])
def test_write_plots_by_protocol(tmp_path, name, files):
    written = write_plots(golden(name), tmp_path)
    assert [p.name for p in written] == files
    assert all(p.stat().st_size > 0 for p in written)


def test_full_image_curve_files(tmp_path):
    write_plots(golden("full-image-synthetic"), tmp_path)
    curve = pd.read_csv(tmp_path / "fig5_curve.csv")
    assert list(curve.columns) == ["round", "scribbles_per_region", "miou", "miou_thing",
                                   "miou_stuff"]
    tables = (tmp_path / "fig5_curve.md").read_text(encoding="utf-8").split("\n\n")
    assert tables[1].splitlines()[2].startswith(
        "| random-walker-multi / synthetic-panoptic (free) | free | 2 | 16 |")


def test_plot_runs_uses_fig5_axes_only_for_full_image_runs(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(full_image_reports, "fig5_plot",
                        lambda summaries, labels, path: calls.append(labels) or path)
    plot_runs([FULL, FULL], tmp_path / "f.png")
    assert calls == [["m / p / free", "m / p / free"]]
    out = plot_runs([CLICK, FULL], tmp_path / "mixed.png")
    assert calls == [["m / p / free", "m / p / free"]] and out.stat().st_size > 0

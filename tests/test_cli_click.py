"""End to end: `iseg-bench run/report/plot` on the real GrabCut data."""

import json

import pandas as pd
from click.testing import CliRunner

from iseg_bench.cli import main


def invoke(*args):
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return result


def test_run_report_and_plot_on_real_grabcut(data_root, tmp_path):
    out = tmp_path / "run"
    res = invoke("run", "--model", "random-walker", "--dataset", "grabcut", "--data-root",
                 data_root, "--limit", 2, "--max-clicks", 3, "--out", out, "--no-progress")
    assert res.exit_code == 0, res.output
    assert "NoC@85" in res.output
    for name in ("config.json", "records.jsonl", "records.csv", "timings.csv", "summary.json",
                 "summary.md",
                 "failures.csv", "plots/miou.png", "plots/proportion_above.png",
                 "plots/corrective_accuracy.png"):
        assert (out / name).exists(), name
    records = pd.read_csv(out / "records.csv")
    assert len(records) == 6
    assert set(records.columns) >= {"sample_id", "interaction", "y", "x", "is_positive", "iou",
                                    "corrective_accuracy"}
    timings = pd.read_csv(out / "timings.csv")   # wall-clock times kept apart: not reproducible
    assert len(timings) == 6 and (timings["model_seconds"] > 0).all()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_samples"] == 2 and summary["n_failed"] == 0
    assert len(summary["miou"]) == 3
    # the first click of the reference robot is always positive
    assert records.loc[records.interaction == 1, "is_positive"].all()

    md = invoke("report", out, "--format", "md")
    assert md.exit_code == 0 and md.output.startswith("| run |")
    csv = invoke("report", out, out / "summary.json", "--format", "csv")
    assert len(csv.output.strip().splitlines()) == 3
    png = tmp_path / "curves.png"
    assert invoke("plot", out, out, "-o", png).exit_code == 0 and png.stat().st_size > 0


def test_unknown_model_and_missing_dataset_are_clear_errors(tmp_path):
    res = CliRunner().invoke(main, ["run", "--model", "nope", "--dataset", "synthetic",
                                    "--out", str(tmp_path / "a")])
    assert res.exit_code == 2 and "unknown model 'nope'" in res.output
    res = CliRunner().invoke(main, ["run", "--model", "grabcut", "--dataset", "davis",
                                    "--data-root", str(tmp_path), "--out", str(tmp_path / "b")])
    assert res.exit_code == 2 and "DAVIS" in res.output


def test_existing_run_folder_is_not_overwritten(data_root, tmp_path):
    args = ["run", "--model", "grabcut", "--dataset", "grabcut", "--data-root", data_root,
            "--limit", 1, "--max-clicks", 1, "--out", tmp_path / "r", "--no-progress"]
    assert invoke(*args).exit_code == 0
    again = CliRunner().invoke(main, [str(a) for a in args])
    assert again.exit_code != 0 and "already holds a run" in again.output


def test_report_puts_click_and_scribble_runs_of_one_model_in_one_table(tmp_path):
    runs = []
    for robot in ("clicker", "scribbler"):
        out = tmp_path / robot
        res = invoke("run", "--model", "random-walker", "--dataset", "synthetic", "--robot",
                     robot, "--limit", 2, "--max-clicks", 2, "--out", out, "--no-progress")
        assert res.exit_code == 0, res.output
        runs.append(out)
    text = invoke("report", *runs, "--format", "csv").output.strip().splitlines()
    header = text[0].split(",")
    assert "NoI@85" in header and "NoC@85" not in header and "interaction" in header
    kinds = [line.split(",")[header.index("interaction")] for line in text[1:]]
    assert kinds == ["click", "scribble"]
    stroke = pd.read_csv(runs[1] / "records.csv")
    assert stroke["kind"].eq("scribble").all() and (stroke["pixels"] > 0).all()
    assert stroke["points"].str.startswith("[[").all()

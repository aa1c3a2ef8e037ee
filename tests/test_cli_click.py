"""End to end: `iseg-bench run/report/plot` on the real GrabCut data."""

import json
from dataclasses import dataclass

import pandas as pd
import pytest
from click.testing import CliRunner

from iseg_bench.cli import main
from iseg_bench.options import option
from iseg_bench.protocols.registry import protocol_class
from iseg_bench.robots.registry import ROBOTS


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
    assert res.exit_code == 3 and "DAVIS" in res.output


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


def _usage_error(*args):
    """`run` on a synthetic sample with `args`: the one-line error output (exit status 2)."""
    res = CliRunner().invoke(main, ["run", "--model", "random-walker", "--dataset", "synthetic",
                                    "--limit", "1", "--max-clicks", "1", "--no-progress",
                                    *map(str, args)])
    lines = res.output.strip().splitlines()
    assert res.exit_code == 2 and len(lines) == 1, res.output + repr(res.exception)
    assert lines[0].startswith("error: ")
    return lines[0]


def test_usage_errors_are_one_line_with_exit_status_2(tmp_path):
    assert "unknown protocol 'nope'" in _usage_error("--protocol", "nope", "--out", tmp_path / "p")
    robot = _usage_error("--robot", "nope", "--out", tmp_path / "r")
    assert "unknown robot 'nope'" in robot and "model" not in robot
    assert "'abc'" in _usage_error("--iou-thresholds", "abc", "--out", tmp_path / "t")
    assert "(0, 1]" in _usage_error("--iou-thresholds", "0.5,1.5", "--out", tmp_path / "t")
    assert "bogus" in _usage_error("--model-opt", "bogus=1", "--out", tmp_path / "m")
    assert "not key=value" in _usage_error("--robot-opt", "thickness", "--out", tmp_path / "k")
    assert "--limit" in _usage_error("--limit", "0", "--out", tmp_path / "l")
    for name in "prtmkl":
        assert not (tmp_path / name).exists()   # nothing was started


@pytest.mark.skipif(getattr(protocol_class("sequential"), "options_class", None) is None,
                    reason="the sequential protocol checks its options with typed options")
def test_learn_delay_zero_is_a_usage_error(tmp_path):
    line = _usage_error("--protocol", "sequential", "--dataset", "synthetic-categories",
                        "--learn-delay", 0, "--out", tmp_path / "s")
    assert "learn_delay" in line


def test_protocol_and_model_flags_are_aliases_of_their_option_pairs(tmp_path):
    args = ["--protocol", "full-image", "--model", "random-walker-multi", "--model-opt",
            "max_side=48", "--dataset", "synthetic-panoptic", "--dataset-opt", "n_samples=1",
            "--no-progress"]
    flags = ["--rounds", 1, "--allocation", "per-region"]
    pairs = ["--protocol-opt", "rounds=1", "--protocol-opt", "allocation=per-region"]
    configs = []
    for name, extra in (("flags", flags), ("pairs", pairs)):
        assert invoke("run", *args, *extra, "--out", tmp_path / name).exit_code == 0
        configs.append(json.loads((tmp_path / name / "summary.json").read_text())["config"])
    assert configs[0] == configs[1]
    assert configs[0]["protocol_options"] == {"rounds": 1, "allocation": "per-region"}
    # the model flags: the model takes neither option, and says so the same way
    errors = [_usage_error("--model-opt", "device=cpu", "--model-opt", "random_init=true",
                           "--out", tmp_path / "m1"),
              _usage_error("--device", "cpu", "--random-init", "--out", tmp_path / "m2")]
    assert errors[0] == errors[1] and "device" in errors[0]


def test_run_help_lists_the_options_of_protocols_and_robots(monkeypatch):
    @dataclass(frozen=True)
    class ThicknessOptions:
        thickness: int = option(3, "stroke width in pixels")

    monkeypatch.setattr(ROBOTS.resolve("scribbler"), "options_class", ThicknessOptions,
                        raising=False)
    res = CliRunner().invoke(main, ["run", "--help"])
    assert res.exit_code == 0
    text = res.output[res.output.index("Robot options"):]
    assert "robot scribbler:" in text and "thickness (default 3): stroke width in pixels" in text

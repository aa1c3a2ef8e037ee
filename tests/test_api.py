"""The public API: `iseg_bench.evaluate` runs in-process and writes what `iseg-bench run` writes."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

import iseg_bench
from iseg_bench.cli import main


def test_evaluate_writes_the_records_of_the_command_line(tmp_path):
    run = iseg_bench.evaluate("random-walker", "synthetic", robot="scribbler", limit=2,
                              max_interactions=2, iou_thresholds="0.8,0.9",
                              model_options={"max_side": 48}, out_dir=tmp_path / "api")
    assert isinstance(run, iseg_bench.Run) and run.folder == tmp_path / "api"
    outcome = run.outcome
    assert (outcome.n_ok, outcome.n_failed, outcome.complete) == (2, 0, True)
    assert run.summary_json["config"]["iou_thresholds"] == [0.8, 0.9]
    res = CliRunner().invoke(main, ["run", "--model", "random-walker", "--model-opt",
                                    "max_side=48", "--dataset", "synthetic", "--robot",
                                    "scribbler", "--limit", "2", "--max-clicks", "2",
                                    "--iou-thresholds", "0.8,0.9", "--no-progress",
                                    "--out", str(tmp_path / "cli")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "api" / "records.csv").read_text() == \
        (tmp_path / "cli" / "records.csv").read_text()


def test_evaluate_rejects_unknown_settings_and_names(tmp_path):
    with pytest.raises(iseg_bench.errors.UsageError, match="bogus"):
        iseg_bench.evaluate("random-walker", "synthetic", bogus=1, out_dir=tmp_path / "a")
    with pytest.raises(iseg_bench.errors.UnknownNameError, match="robot 'nope'"):
        iseg_bench.evaluate("random-walker", "synthetic", robot="nope", out_dir=tmp_path / "b")
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


@pytest.mark.parametrize("model,robot,protocol,chosen", [
    ("random-walker", None, "single-object", "clicker"),       # accepts clicks and scribbles
    ("scribbleseg", None, "single-object", "scribbler"),       # scribbles only
    ("random-walker", "scribbler", "single-object", "scribbler"),
    ("scribbleseg", None, "full-image", "clicker"),            # the protocol's own robots
])
def test_choose_robot_follows_what_the_model_accepts(model, robot, protocol, chosen):
    assert iseg_bench.api.choose_robot(model, robot, protocol) == chosen


def test_a_click_robot_with_a_scribble_only_model_is_a_usage_error():
    with pytest.raises(iseg_bench.errors.UsageError, match="scribbleseg accepts scribble only"):
        iseg_bench.api.choose_robot("scribbleseg", "clicker")
    res = CliRunner().invoke(main, ["run", "--model", "scribbleseg", "--random-init",
                                    "--dataset", "synthetic", "--robot", "clicker"])
    assert res.exit_code == 2 and "robot clicker gives clicks" in res.output

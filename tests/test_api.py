"""The public API: `iseg_bench.evaluate` runs in-process and writes what `iseg-bench run` writes."""

from __future__ import annotations

import hashlib
import json
import threading

import numpy as np
import pytest
from click.testing import CliRunner

import iseg_bench
from iseg_bench.adapters.classical import RandomWalkerAdapter
from iseg_bench.cli import main
from iseg_bench.datasets.registry import get_dataset


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


SETTINGS = {"limit": 2, "max_interactions": 3}
CLI = ["--dataset", "synthetic", "--limit", "2", "--max-clicks", "3", "--no-progress"]


class WeightedWalker(RandomWalkerAdapter):
    """The random walker with a weights file named in its describe(), as a torch model's."""

    def __init__(self, checkpoint, **options):
        super().__init__(**options)
        self.checkpoint = str(checkpoint)

    def describe(self):
        return {**super().describe(), "checkpoint": self.checkpoint}


def test_evaluate_with_an_adapter_instance_and_a_dataset_gives_the_cli_records(tmp_path):
    weights = tmp_path / "w.bin"
    weights.write_bytes(b"not really weights")
    dataset = get_dataset("synthetic", None)
    run = iseg_bench.evaluate(WeightedWalker(weights, max_side=48), dataset, name="mine",
                              out_dir=tmp_path / "api", **SETTINGS)
    res = CliRunner().invoke(main, ["run", "--model", "random-walker", "--model-opt",
                                    "max_side=48", *CLI, "--out", str(tmp_path / "cli")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "api" / "records.csv").read_bytes() == \
        (tmp_path / "cli" / "records.csv").read_bytes()
    cli = iseg_bench.Run.load(tmp_path / "cli")
    # the typed summary, recomputed from the journal, is summary.json's figures
    assert json.loads(json.dumps(cli.summary.to_json())).items() <= cli.summary_json.items()
    assert run.summary.figures.noc == cli.summary.figures.noc
    assert list(run.records.sample_id.unique()) == dataset.sample_ids()[:2]
    assert run.records.model_seconds.gt(0).all() and len(run.records) == 6
    config = json.loads((tmp_path / "api" / "config.json").read_text())
    own = f"{WeightedWalker.__module__}:WeightedWalker"
    assert config["model"] == own and config["name"] == "mine"
    model = config["describe"]["model"]
    assert model["class"] == own and model["max_side"] == 48
    assert model["weight_files"] == [{"path": str(weights), "bytes": 18, "sha256":
                                      hashlib.sha256(b"not really weights").hexdigest()}]
    assert config["describe"]["dataset"]["name"] == "synthetic"
    assert run.summary_json["name"] == "mine" and "name" not in cli.summary_json
    assert "name" not in run.summary_json["config"]   # a label, not a setting


def test_a_named_run_is_labelled_by_its_name_in_reports(tmp_path):
    res = CliRunner().invoke(main, ["run", "--model", "random-walker", "--model-opt",
                                    "max_side=48", *CLI, "--name", "baseline A",
                                    "--out", str(tmp_path / "a")])
    assert res.exit_code == 0, res.output
    table = CliRunner().invoke(main, ["report", str(tmp_path / "a"), "--format", "csv"])
    assert table.output.splitlines()[1].startswith("baseline A,")


def test_instances_are_refused_with_workers_and_with_model_options(tmp_path):
    with pytest.raises(iseg_bench.errors.UsageError, match="in this process only"):
        iseg_bench.evaluate(RandomWalkerAdapter(), "synthetic", workers=2,
                            out_dir=tmp_path / "a", **SETTINGS)
    with pytest.raises(iseg_bench.errors.UsageError, match="build the adapter instance"):
        iseg_bench.evaluate(RandomWalkerAdapter(), "synthetic", model_options={"beta": 1},
                            out_dir=tmp_path / "b")


def _answer_with(adapter, session):
    for sample, interaction in session:
        assert interaction is session.history[-1]
        if len(session.history) == 1:
            assert not session.prev_prob.any()
            adapter.set_image(sample.image)
        session.submit(adapter.predict(session.history, session.prev_prob))


def test_an_interactive_session_gives_the_records_and_figures_of_evaluate(tmp_path):
    run = iseg_bench.evaluate(RandomWalkerAdapter(max_side=48), "synthetic", robot="scribbler",
                              out_dir=tmp_path / "api", **SETTINGS)
    session = iseg_bench.interactive_session("synthetic", robot="scribbler",
                                             out_dir=tmp_path / "s", **SETTINGS)
    _answer_with(RandomWalkerAdapter(max_side=48), session)
    assert (tmp_path / "s" / "records.csv").read_bytes() == \
        (tmp_path / "api" / "records.csv").read_bytes()
    assert session.run.outcome.complete
    assert session.run.summary.figures.noc == run.summary.figures.noc

    def untimed(summary):
        return {k: v for k, v in summary.items()
                if k not in ("model", "config") and "seconds" not in k}

    assert untimed(session.run.summary_json) == untimed(run.summary_json)
    assert (tmp_path / "s" / "plots" / "miou.png").exists()


def test_an_interactive_session_checks_maps_and_ends_cleanly_on_break(tmp_path):
    session = iseg_bench.interactive_session("synthetic", out_dir=tmp_path / "s", **SETTINGS)
    with pytest.raises(iseg_bench.errors.UsageError, match="no interaction is waiting"):
        session.submit(np.zeros((2, 2), np.float32))
    for sample, _ in session:
        with pytest.raises(iseg_bench.errors.SampleError, match="shape"):
            session.submit(np.zeros((2, 2), np.float32))
        session.submit(np.zeros(sample.shape, np.float32))
        if len(session.history) == 2:
            break
    assert session.run.outcome.interrupted and session.run.outcome.n_ok == 0
    assert not [t for t in threading.enumerate() if t.name == "iseg-bench session"]

"""The replay robot: recorded interactions are scored exactly like a robot's, the run names
the file and its SHA-256, and a sample missing from the file, a list that runs out and a
file naming samples the dataset lacks are clear errors."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from iseg_bench.cli import main
from iseg_bench.datasets.registry import get_dataset
from iseg_bench.errors import SampleError, UsageError
from iseg_bench.masks import iou
from iseg_bench.robots.replay import ReplayRobot, read_replay
from iseg_bench.types import Box, Click, Scribble

RW = ["--model", "random-walker", "--model-opt", "max_side=120", "--no-progress"]


def _run(*args: str) -> None:
    result = CliRunner().invoke(main, ["run", *RW, *args])
    assert result.exit_code == 0, result.output + repr(result.exception)


@pytest.mark.parametrize("robot,clicks", [("clicker", "5"), ("scribbler", "3")])
def test_replaying_a_runs_own_records_reproduces_them_byte_for_byte(robot, clicks, data_root,
                                                                    tmp_path):
    common = ["--dataset", "grabcut", "--data-root", str(data_root), "--limit", "2",
              "--max-clicks", clicks]
    _run(*common, "--robot", robot, "--out", str(tmp_path / "orig"))
    _run(*common, "--robot", "replay", "--robot-opt", f"file={tmp_path / 'orig'}",
         "--out", str(tmp_path / "replay"))
    original = (tmp_path / "orig" / "records.csv").read_bytes()
    assert (tmp_path / "replay" / "records.csv").read_bytes() == original
    config = json.loads((tmp_path / "replay" / "config.json").read_text())
    sha = hashlib.sha256(original).hexdigest()
    assert config["robot"] == "replay"
    assert config["robot_options"] == {"file": str(tmp_path / "orig"), "sha256": sha}
    assert config["describe"]["robot"]["sha256"] == sha
    summary = json.loads((tmp_path / "replay" / "summary.json").read_text())
    assert summary["robot"] == "replay" and summary["config"]["robot_options"]["sha256"] == sha


def _synthetic_run(tmp_path, replay: dict, *args: str):
    file = tmp_path / "clicks.json"
    file.write_text(json.dumps(replay))
    return CliRunner().invoke(main, ["run", *RW, "--dataset", "synthetic", "--limit", "2",
                                     "--robot", "replay", "--robot-opt", f"file={file}",
                                     "--out", str(tmp_path / "run"), *args])


def test_a_json_of_human_clicks_is_scored_like_robot_clicks(tmp_path):
    ds = get_dataset("synthetic", None)
    ids = ds.sample_ids()[:2]
    clicks = {ids[0]: [{"y": 10, "x": 20, "is_positive": True},
                       {"y": 11, "x": 21, "is_positive": "false"}],
              ids[1]: [{"kind": "scribble", "points": [[5, 5], [5, 9]], "is_positive": True,
                        "thickness": 1},
                       {"y": 0, "x": 0, "is_positive": False}]}
    res = _synthetic_run(tmp_path, clicks, "--max-clicks", "2")
    assert res.exit_code == 0, res.output
    rec = pd.read_csv(tmp_path / "run" / "records.csv", dtype={"sample_id": str})
    first = rec[rec.sample_id == ids[0]]
    assert first[["y", "x"]].to_numpy().tolist() == [[10, 20], [11, 21]]
    assert first.is_positive.tolist() == [True, False]
    second = rec[rec.sample_id == ids[1]]
    assert second.kind.tolist() == ["scribble", "click"]
    assert second.pixels.tolist() == [5, 1]           # a 1-px line over 5 columns, a click
    assert rec.groupby("sample_id").size().tolist() == [2, 2]


def test_a_list_that_runs_out_fails_its_sample_with_a_clear_reason(tmp_path):
    ids = get_dataset("synthetic", None).sample_ids()[:2]
    clicks = {ids[0]: [{"y": 10, "x": 20, "is_positive": True}],
              ids[1]: [{"y": 10, "x": 20, "is_positive": True}] * 3}
    res = _synthetic_run(tmp_path, clicks, "--max-clicks", "2")
    assert res.exit_code == 1
    failures = pd.read_csv(tmp_path / "run" / "failures.csv")
    assert failures.unit_id.tolist() == [ids[0]]
    assert "has 1 interactions, interaction 2 was asked for" in failures.error[0]


def test_a_file_naming_an_unknown_sample_is_refused_before_any_work(tmp_path):
    res = _synthetic_run(tmp_path, {"no-such-sample": [{"y": 1, "x": 1, "is_positive": True}]})
    assert res.exit_code == 2
    assert "names 1 sample(s) the dataset does not have: no-such-sample" in res.output
    assert not (tmp_path / "run" / "config.json").exists()


def test_a_sample_missing_from_the_file_and_a_click_outside_the_image_fail_it(tmp_path):
    file = tmp_path / "c.json"
    file.write_text(json.dumps({"a": [{"y": 7, "x": 99, "is_positive": True}]}))
    robot = ReplayRobot(file=str(file))
    sample = get_dataset("synthetic", None).load(0)
    with pytest.raises(SampleError, match="has no interactions for sample synthetic_0_0000"):
        robot.start_sample(sample)
    robot.sample_id = "a"
    target = np.zeros((10, 50), bool)
    with pytest.raises(SampleError, match="outside the 10x50 image"):
        robot.next_interaction(target, target, target, [])


def test_a_csv_is_ordered_by_its_interaction_column(tmp_path):
    file = tmp_path / "c.csv"
    file.write_text("sample_id,interaction,y,x,is_positive,points,thickness\n"
                    "s,2,3,4,0,,\n"
                    "s,1,,,1,\"[[1.5, 2.0], [1.5, 6.0]]\",2\n"
                    "007,1,5,6,True,,\n")
    table, sha = read_replay(file)
    assert sha == hashlib.sha256(file.read_bytes()).hexdigest()
    assert table["s"] == [Scribble(np.array([[1.5, 2.0], [1.5, 6.0]]), True, 2),
                          Click(3, 4, False)]
    assert table["007"] == [Click(5, 6, True)]          # ids stay text


@pytest.mark.parametrize("content,message", [
    ('{"s": [{"y": 1.5, "x": 2, "is_positive": true}]}', "must be integer pixels"),
    ('{"s": [{"y": 1, "x": 2}]}', "is_positive is missing"),
    ('{"s": [{"y": 1, "x": 2, "is_positive": "maybe"}]}', "must be true or false"),
    ('{"s": [{"kind": "extreme_points", "is_positive": true}]}', "cannot be replayed"),
    ('["s"]', "expected an object"),
])
def test_malformed_files_name_the_entry(tmp_path, content, message):
    file = tmp_path / "c.json"
    file.write_text(content)
    with pytest.raises(UsageError, match=message):
        read_replay(file)


def test_a_changed_file_and_other_protocols_are_refused(tmp_path):
    file = tmp_path / "c.json"
    file.write_text('{"s": []}')
    with pytest.raises(UsageError, match="the file changed"):
        ReplayRobot(file=str(file), sha256="0" * 64)
    res = CliRunner().invoke(main, ["run", "--protocol", "sequential", "--model", "color-prior",
                                    "--dataset", "synthetic-categories", "--robot", "replay",
                                    "--robot-opt", f"file={file}"])
    assert res.exit_code == 2 and "replays single-object sessions only" in res.output
    res = CliRunner().invoke(main, ["run", *RW, "--dataset", "synthetic", "--robot", "replay"])
    assert res.exit_code == 2 and "--robot-opt file=PATH" in res.output


def test_iou_of_a_replayed_click_equals_the_definition(tmp_path):
    """One click replayed: the record's IoU is masks.iou of the model's own prediction."""
    from iseg_bench.adapters.registry import build_adapter

    ds = get_dataset("synthetic", None)
    sid = ds.sample_ids()[0]
    sample = ds.load(0)
    ys, xs = np.nonzero(sample.target)
    y, x = int(ys[len(ys) // 2]), int(xs[len(xs) // 2])
    res = _synthetic_run(tmp_path, {sid: [{"y": y, "x": x, "is_positive": True}]},
                         "--limit", "1", "--max-clicks", "1")
    assert res.exit_code == 0, res.output
    model = build_adapter("random-walker", max_side=120)
    model.set_image(sample.image)
    prob = model.predict([Click(y, x, True)], np.zeros(sample.shape, np.float32))
    expected = iou(sample.target.astype(bool), prob > 0.49, sample.ignore)
    rec = pd.read_csv(tmp_path / "run" / "records.csv")
    assert rec.iou.tolist() == [expected]


def test_a_box_entry_becomes_a_box_and_is_checked_against_the_image(tmp_path):
    file = tmp_path / "b.csv"    # the columns a box+clicks run records
    file.write_text("sample_id,interaction,kind,is_positive,y,x,points,thickness\n"
                    "s,1,box,True,,,\"[[2, 3], [6, 9]]\",\n"
                    "s,2,click,False,4,5,,\n")
    robot = ReplayRobot(file=str(file))
    assert robot.table["s"] == [Box(2, 3, 6, 9), Click(4, 5, False)]
    robot.sample_id = "s"
    target = np.zeros((7, 10), bool)   # the box's corner (6, 9) is the last pixel: inside
    assert robot.next_interaction(target, target, target, []) == Box(2, 3, 6, 9)
    small = np.zeros((6, 10), bool)    # row 6 lies outside a 6-row image
    with pytest.raises(SampleError, match="outside the 6x10 image"):
        robot.next_interaction(small, small, small, [])


@pytest.mark.parametrize("name,content,message", [
    ("c.json", '{"s": [{"y": "a", "x": 2, "is_positive": true}]}', "must be pixel numbers"),
    ("c.json", '{"s": [{"y": 1, "is_positive": true}]}', "a click needs y and x"),
    ("c.json", '{"s": [{"points": "[[1, 2], [3]]", "is_positive": true}]}',
     "list of \\[y, x\\] pairs"),
    ("c.json", '{"s": [{"kind": "scribble", "points": [], "is_positive": true}]}',
     "at least one point"),
    ("c.json", '{"s": [{"kind": "box", "points": [[1, 2]], "is_positive": true}]}',
     "its two corners"),
    ("c.json", '{"s": [{"kind": "box", "points": [[5, 2], [1, 4]], "is_positive": true}]}',
     "y0 <= y1"),
    ("c.json", '{"s": [', "is not valid JSON"),
    ("c.csv", "id,y,x,is_positive\ns,1,2,True\n", "needs a sample_id column"),
    ("c.csv", "sample_id,interaction,y,x,is_positive\ns,1,1,2,True\ns,1,3,4,False\n",
     "sample s repeats an interaction number"),
    ("c.txt", "s,1,2", "reads .json and .csv files, not c.txt"),
])
def test_each_malformed_replay_file_is_one_usage_error(tmp_path, name, content, message):
    file = tmp_path / name
    file.write_text(content)
    with pytest.raises(UsageError, match=message):
        read_replay(file)


def test_missing_or_binary_files_and_an_unstarted_robot_are_refused(tmp_path):
    with pytest.raises(UsageError, match="does not exist"):
        read_replay(tmp_path / "nope.json")
    with pytest.raises(UsageError, match="does not exist"):   # a folder that holds no run
        read_replay(tmp_path)
    (tmp_path / "b.json").write_bytes(b"\xff\xfe\x00{")
    with pytest.raises(UsageError, match="is not UTF-8 text"):
        read_replay(tmp_path / "b.json")
    (tmp_path / "c.json").write_text('{"s": [{"y": 1, "x": 1, "is_positive": true}]}')
    target = np.zeros((4, 4), bool)
    with pytest.raises(SampleError, match="not started on a sample"):
        ReplayRobot(file=str(tmp_path / "c.json")).next_interaction(target, target, target, [])
    sha = hashlib.sha256((tmp_path / "c.json").read_bytes()).hexdigest()
    file = str(tmp_path / "c.json")
    assert ReplayRobot.complete_options({"file": file})["sha256"] == sha
    given = {"file": file, "sha256": "f" * 64}         # a given hash is kept, then checked
    assert ReplayRobot.complete_options(given) == given


def test_replay_in_the_lockstep_loop_follows_each_sample(tmp_path):
    """With --batch-size 3 the samples in flight share one replay robot: each must still get
    its own recorded clicks, so the records equal those of the run replayed."""
    common = ["run", "--model", "instant", "--dataset", "synthetic", "--limit", "5",
              "--max-clicks", "4", "--no-progress"]
    first = CliRunner().invoke(main, [*common, "--out", str(tmp_path / "orig")])
    assert first.exit_code == 0, first.output
    again = CliRunner().invoke(main, [*common, "--robot", "replay", "--batch-size", "3",
                                      "--robot-opt", f"file={tmp_path / 'orig'}",
                                      "--out", str(tmp_path / "replay")])
    assert again.exit_code == 0, again.output
    assert (tmp_path / "replay" / "records.csv").read_bytes() == \
        (tmp_path / "orig" / "records.csv").read_bytes()

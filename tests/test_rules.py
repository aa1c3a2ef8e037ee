"""Boundary, tie and bookkeeping rules pinned on hand-computed cases (issue 19).

Every expected value below is worked out by hand from the rule's definition (the docs page
named in each test), never by calling the code under test.
"""

import json

import numpy as np
import pandas as pd
import pytest

from iseg_bench.execution import execute
from iseg_bench.execution.journal import latest_results, read_results, repair_journal
from iseg_bench.geometry import interaction_error_region
from iseg_bench.masks import iou
from iseg_bench.protocols import session as session_module
from iseg_bench.protocols.curves import click_curves
from iseg_bench.protocols.single_object import run_session
from iseg_bench.protocols.single_object_figures import single_object_summary
from iseg_bench.robots.clicker import LargestRegionCenterClicker
from iseg_bench.robots.corrective import corrective_accuracy
from iseg_bench.run_folder import RECORDS
from iseg_bench.types import Click, ExtremePoints, Scribble, interaction_from_json
from tests.test_runner import cfg as runner_cfg
from tests.test_session import Scripted, ctx, make_sample

# ---------------------------------------------------------------- boundary and tie rules


def test_stop_at_iou_stops_at_exactly_the_threshold():
    # docs/protocols/single-object.md: the session stops after the first step whose IoU is
    # >= stop_at_iou. The target is 10 x 14 = 140 px; the first map covers its left 70 px,
    # so IoU = 70 / 140 = 0.5 exactly (both counts are exact in float).
    s = make_sample()
    half = np.zeros(s.shape, np.float32)
    half[5:15, 8:15] = 1.0
    full = s.target.astype(np.float32)
    rows = run_session(s, ctx(Scripted([half, full]), max_interactions=5, stop_at_iou=0.5))
    assert [r["iou"] for r in rows] == [0.5]
    # just above the reached IoU the session goes on to the second (perfect) map and stops
    rows = run_session(s, ctx(Scripted([half, full]), max_interactions=5, stop_at_iou=0.51))
    assert [r["iou"] for r in rows] == [0.5, 1.0]
    # without stop_at_iou every one of the max_interactions steps runs
    assert len(run_session(s, ctx(Scripted([half, full]), max_interactions=3))) == 3


def test_dios_clicker_breaks_an_equal_size_fn_fp_tie_towards_fn():
    # docs/robots/dios-clicker.md: largest region first, FN before FP on equal sizes.
    # FP region: (0, 0)-(0, 2), 3 px, earlier in raster order and lower label; FN region:
    # (4, 3)-(4, 5), 3 px. The FN region wins; its interior-most pixel is its middle one
    # (distances 1, 1, 1 with the padded border: all tie, first in row-major order is (4, 3)).
    target = np.zeros((6, 8), bool)
    target[4, 3:6] = True
    pred = np.zeros_like(target)
    pred[0, 0:3] = True
    none = np.zeros_like(target)
    assert LargestRegionCenterClicker().next_interaction(target, none, pred, []) == Click(
        4, 3, True)
    # one more FP pixel makes FP strictly larger: a negative click on it
    pred[0, 3] = True
    got = LargestRegionCenterClicker().next_interaction(target, none, pred, [])
    assert not got.is_positive and got.y == 0


def test_corrective_accuracy_region_is_8_connected_across_a_diagonal():
    # docs/robots/corrective-accuracy.md: the clicked 8-connected error component. The FN
    # pixels (0, 0), (1, 1), (2, 2) touch only diagonally: one component of 3 px.
    target = np.eye(4, dtype=bool)
    target[3, 3] = False
    prev = np.zeros_like(target)
    ign = np.zeros_like(target)
    new = np.zeros_like(target)
    new[1, 1] = True                 # fixes one of the three, not the clicked pixel
    click = Click(0, 0, True)
    assert np.argwhere(interaction_error_region(target, ign, prev, click)).tolist() == [
        [0, 0], [1, 1], [2, 2]]
    assert corrective_accuracy(target, ign, prev, new, click) == pytest.approx(1 / 3)
    # a negative click on the same (FN) pixel touches no FP pixel: undefined
    assert np.isnan(corrective_accuracy(target, ign, prev, new, Click(0, 0, False)))
    # a scribble through (2, 2) only gets the same diagonal component
    stroke = Scribble(np.array([[2.0, 2.0]]), True, thickness=1)
    assert interaction_error_region(target, ign, prev, stroke).sum() == 3


def test_iou_drops_an_ignored_pixel_that_is_both_predicted_and_on_the_target():
    # masks.iou (RITM get_iou): intersection and union both over non-ignored pixels.
    target = np.array([[1, 1, 1, 0, 0]], bool)
    pred = np.array([[1, 1, 0, 1, 0]], bool)
    ignore = np.array([[0, 1, 0, 0, 0]], bool)
    # valid pixels 0, 2, 3, 4: intersection {0}, union {0, 2, 3} -> 1 / 3
    assert iou(target, pred, ignore) == pytest.approx(1 / 3)
    # an ignored pixel outside both masks changes nothing; one in the union only shrinks it
    assert iou(target, pred, np.array([[0, 1, 0, 0, 1]], bool)) == pytest.approx(1 / 3)
    assert iou(target, pred, np.array([[0, 1, 0, 1, 0]], bool)) == pytest.approx(1 / 2)


# ---------------------------------------------------------------- bookkeeping


def _line(unit, status="ok"):
    return json.dumps({"unit_id": unit, "status": status, "error": None, "records": []})


def test_a_corrupt_line_in_the_middle_of_the_journal_is_skipped(tmp_path):
    # docs/execution.md: lines that do not parse or are not unit results are skipped; a
    # complete later line of a unit counts; only a partial *last* line is cut off.
    lines = [_line("a"), '{"unit_id": "b", "sta', "[1, 2]", '{"unit_id": "x"}', _line("c"),
             _line("a", "failed")]
    (tmp_path / RECORDS).write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert [(r["unit_id"], r["status"]) for r in read_results(tmp_path)] == [
        ("a", "ok"), ("c", "ok"), ("a", "failed")]
    assert {u: r["status"] for u, r in latest_results(tmp_path).items()} == {
        "a": "failed", "c": "ok"}
    # the file ends in a newline: nothing to repair, the middle line stays
    assert repair_journal(tmp_path / RECORDS) == 0
    # a torn last line is dropped even though it parses
    with open(tmp_path / RECORDS, "a", encoding="utf-8") as fh:
        fh.write(_line("d"))
    assert "d" not in latest_results(tmp_path)
    assert repair_journal(tmp_path / RECORDS) == len(_line("d"))
    assert (tmp_path / RECORDS).read_text(encoding="utf-8") == "\n".join(lines) + "\n"


def _records(sample, ious, seconds, is_thing=None):
    return [{"sample_id": sample, "interaction": i + 1, "iou": v, "model_seconds": s,
             "kind": "click", "corrective_accuracy": np.nan, "is_thing": is_thing}
            for i, (v, s) in enumerate(zip(ious, seconds))]


def test_seconds_after_an_early_stop_are_zero_and_ious_carry_forward():
    # docs/figures.md: a sample stopped by stop_at_iou keeps its last IoU and spends no more
    # time; without stop_at_iou a short curve carries both forward.
    recs = pd.DataFrame(_records("a", [0.5, 0.95], [1.0, 2.0])
                        + _records("b", [0.2, 0.4, 0.6], [0.5, 0.5, 0.5]))
    stopped = click_curves(recs, 4, 0.9)
    assert stopped.keys == ("a", "b")
    assert stopped.iou.tolist() == [[0.5, 0.95, 0.95, 0.95], [0.2, 0.4, 0.6, 0.6]]
    assert stopped.seconds.tolist() == [[1.0, 2.0, 0.0, 0.0], [0.5, 0.5, 0.5, 0.0]]
    assert click_curves(recs, 4, None).seconds.tolist() == [[1.0, 2.0, 2.0, 2.0],
                                                            [0.5, 0.5, 0.5, 0.5]]
    # seconds to reach 0.9: a reaches it at click 2 (1 + 2 = 3 s); b never does, so its NoC
    # is K = 4 and it spends 0.5 * 3 + 0 = 1.5 s: mean 2.25
    out = single_object_summary(recs, 4, (0.9,), None, 0.9).to_json()
    assert out["seconds_to_reach"] == {"0.90": pytest.approx(2.25)}
    assert out["noc"] == {"0.90": 3.0}


def test_single_object_summary_splits_are_named_thing_and_stuff():
    # docs/figures.md: with both things and stuff present the summary holds the figures of
    # each, keyed "thing" and "stuff"; with one kind only there is no split.
    recs = pd.DataFrame(_records("car", [0.95, 0.96], [1.0, 1.0], True)
                        + _records("sky", [0.5, 0.92], [1.0, 1.0], False)
                        + _records("road", [0.3, 0.4], [1.0, 1.0], False))
    out = single_object_summary(recs, 2, (0.9,), None, None).to_json()
    assert out["noc"] == {"0.90": pytest.approx((1 + 2 + 2) / 3)}
    assert set(out["splits"]) == {"thing", "stuff"}
    assert out["splits"]["thing"]["n_samples"] == 1
    assert out["splits"]["thing"]["noc"] == {"0.90": 1.0}
    assert out["splits"]["stuff"]["n_samples"] == 2
    assert out["splits"]["stuff"]["noc"] == {"0.90": 2.0}
    assert out["splits"]["stuff"]["nof"] == {"0.90": 1}
    assert out["splits"]["stuff"]["miou"] == pytest.approx([0.4, 0.66])
    only_stuff = single_object_summary(recs[recs["is_thing"] == False], 2,  # noqa: E712
                                       (0.9,), None, None).to_json()
    assert "splits" not in only_stuff


@pytest.mark.parametrize("d, expected", [
    ({"kind": "click", "y": 3, "x": 4, "is_positive": True, "region": None},
     Click(3, 4, True)),
    ({"kind": "click", "y": 0, "x": 9, "is_positive": False, "region": 7},
     Click(0, 9, False, 7)),
    ({"kind": "scribble", "points": [[1.5, 2.0], [3.0, 4.25]], "is_positive": False,
      "thickness": 3, "region": 2},
     Scribble(np.array([[1.5, 2.0], [3.0, 4.25]]), False, 3, 2)),
    ({"kind": "extreme_points", "points": [[5, 0], [5, 9], [0, 4], [9, 4]], "region": None},
     ExtremePoints(np.array([[5.0, 0.0], [5.0, 9.0], [0.0, 4.0], [9.0, 4.0]]))),
])
def test_interaction_from_json_every_kind(d, expected):
    got = interaction_from_json(d)
    assert type(got) is type(expected)
    assert got == expected
    assert got.region == d["region"]
    if "points" in d:
        assert got.points.tolist() == d["points"]
    # the JSON of the object reads back to the same dict
    assert got.to_json() == d


@pytest.mark.parametrize("d", [{"kind": "lasso"}, {"y": 1, "x": 1}])
def test_interaction_from_json_unknown_kind_is_an_error(d):
    with pytest.raises(ValueError, match="unknown interaction kind"):
        interaction_from_json(d)


def test_a_run_where_every_unit_fails(tmp_path):
    # docs/execution.md: the figures cover completed units, {"n_samples": 0} when there
    # are none; every failure is in failures.csv in unit order; the run is complete
    out = execute(runner_cfg(3, faults="raise"), tmp_path / "r", progress=False)
    assert out.n_failed == 3 and out.complete
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert summary["n_samples"] == 0 and summary["n_failed"] == 3 and summary["n_units"] == 3
    assert summary["complete"] is True
    failures = pd.read_csv(tmp_path / "r" / "failures.csv")
    config = json.loads((tmp_path / "r" / "config.json").read_text())
    assert failures["unit_id"].tolist() == config["units"]
    assert failures["error"].tolist() == ["RuntimeError: injected fault"] * 3
    assert [r["status"] for r in read_results(tmp_path / "r")] == ["failed"] * 3


def _die_at_start(*args):
    """A worker process body that exits with status 3 before saying it is ready."""
    import os

    os._exit(3)


def test_a_worker_that_dies_while_starting_is_one_clear_error(tmp_path, monkeypatch):
    from iseg_bench.errors import AdapterError
    from iseg_bench.execution import workers

    monkeypatch.setattr(workers, "_worker_main", _die_at_start)
    with pytest.raises(AdapterError, match=r"a worker process died while starting \(exit code "
                                           r"3\); run with --workers 1 to see the error"):
        execute(runner_cfg(4, workers=2), tmp_path / "r", progress=False)


# ---------------------------------------------------------------- the session loop


class _FixedRobot:
    """Always the same interaction."""

    def __init__(self, inter):
        self.inter = inter

    def next_interaction(self, target, ignore, pred, history):
        return self.inter


def test_timed_returns_the_perf_counter_difference(monkeypatch):
    ticks = iter([10.0, 12.5])
    monkeypatch.setattr(session_module.time, "perf_counter", lambda: next(ticks))
    assert session_module.timed(lambda: "out") == ("out", 2.5)


def test_object_session_records_every_column_of_a_stroke_step(monkeypatch):
    # a 1-px-thick stroke from (2, 1) to (2, 3) paints 3 pixels; the model answers the
    # target itself, so IoU 1 and the stroke's FN component (all 12 px) is fixed
    s = make_sample()
    target = np.zeros(s.shape, bool)
    target[1:4, 1:5] = True
    s.target = target
    stroke = Scribble(np.array([[2.0, 1.0], [2.0, 3.0]]), True, thickness=1)
    ticks = iter([1.0, 1.25])
    monkeypatch.setattr(session_module.time, "perf_counter", lambda: next(ticks))
    sess = session_module.ObjectSession(Scripted([target.astype(np.float32)]),
                                        _FixedRobot(stroke), 0.49)
    state = session_module.ObjectState.start(s)
    assert state.prob.dtype == np.float32 and not state.prob.any() and not state.pred.any()
    assert session_module.step(sess, state) == 1.0
    (row,) = state.records
    assert row == {"sample_id": "s0", "interaction": 1, "kind": "scribble",
                   "is_positive": True, "points": [[2.0, 1.0], [2.0, 3.0]], "thickness": 1,
                   "pixels": 3, "iou": 1.0, "corrective_accuracy": 1.0,
                   "model_seconds": 0.25}


def test_object_session_records_a_click_row():
    s = make_sample()
    sess = session_module.ObjectSession(Scripted([s.target.astype(np.float32)]),
                                        _FixedRobot(Click(7, 9, True)), 0.49)
    state = session_module.ObjectState.start(s)
    session_module.step(sess, state)
    (row,) = state.records
    assert {k: row[k] for k in ("kind", "is_positive", "y", "x", "pixels")} == {
        "kind": "click", "is_positive": True, "y": 7, "x": 9, "pixels": 1}
    assert "points" not in row and "thickness" not in row


def test_step_with_given_interactions_does_not_ask_the_robot():
    # an accepted proposal of the sequential protocol is applied as given
    s = make_sample()

    class NoRobot:
        def next_interaction(self, *args):
            raise AssertionError("the robot must not be asked")

    sess = session_module.ObjectSession(Scripted([s.target.astype(np.float32)]), NoRobot(),
                                        0.49)
    state = session_module.ObjectState.start(s)
    given = (Click(6, 10, True),)                       # a tuple: any sequence is taken
    assert session_module.step(sess, state, given) == 1.0
    assert state.history == [Click(6, 10, True)]
    assert state.records[0]["y"] == 6 and state.records[0]["x"] == 10


def test_corrective_accuracy_of_a_one_pixel_region():
    # a single FN pixel clicked: its region is that pixel, fixed -> 1, not fixed -> 0
    target = np.zeros((3, 3), bool)
    target[1, 1] = True
    none = np.zeros_like(target)
    assert corrective_accuracy(target, none, none, target, Click(1, 1, True)) == 1.0
    assert corrective_accuracy(target, none, none, none, Click(1, 1, True)) == 0.0

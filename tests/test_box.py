"""Box interactions, the box robots, robot/model kind checks and the encoder share of the
seconds per click."""

import numpy as np
import pandas as pd
import pytest

from iseg_bench.api import choose_robot
from iseg_bench.errors import SampleError, UsageError
from iseg_bench.geometry import interaction_pixels
from iseg_bench.protocols.figures import seconds_per_click
from iseg_bench.protocols.session import interaction_row
from iseg_bench.robots.box import BoxClicksRobot, BoxRobot
from iseg_bench.robots.clicker import CenterOfErrorClicker
from iseg_bench.types import Box, Click, interaction_from_json


def target() -> tuple[np.ndarray, np.ndarray]:
    t = np.zeros((20, 30), bool)
    t[4:9, 6:20] = True
    t[12, 25] = True
    ignore = np.zeros_like(t)
    ignore[12, 25] = True   # the lone pixel is ignored: not part of the box
    return t, ignore


def test_box_json_round_trip_and_record_columns() -> None:
    box = Box(1, 2, 3, 4)
    assert box.to_json() == {"kind": "box", "points": [[1, 2], [3, 4]], "region": None}
    assert interaction_from_json(box.to_json()) == box
    row = interaction_row(box, (10, 10))
    assert row == {"kind": "box", "is_positive": True, "points": [[1, 2], [3, 4]],
                   "thickness": None, "pixels": 2}
    assert interaction_pixels(Box(5, 5, 5, 5), (10, 10)).tolist() == [[5, 5]]
    with pytest.raises(ValueError):
        Box(3, 0, 1, 0)


def test_tight_box_of_the_target_outside_the_ignore_mask() -> None:
    t, ignore = target()
    assert BoxRobot().next_interaction(t, ignore, np.zeros_like(t), []) == Box(4, 6, 8, 19)
    with pytest.raises(SampleError):
        BoxRobot().next_interaction(t, np.ones_like(t), np.zeros_like(t), [])


def test_jitter_stays_within_its_bound_is_seeded_and_clipped() -> None:
    t, ignore = target()
    boxes = {BoxRobot(jitter=3, seed=s).next_interaction(t, ignore, t, []) for s in range(40)}
    assert len(boxes) > 1
    for b in boxes:
        assert abs(b.y0 - 4) <= 3 and abs(b.x0 - 6) <= 3
        assert abs(b.y1 - 8) <= 3 and abs(b.x1 - 19) <= 3
    again = BoxRobot(jitter=3, seed=7)
    assert again.next_interaction(t, ignore, t, []) == again.next_interaction(t, ignore, t, [])
    corner = np.zeros((5, 5), bool)
    corner[0, 0] = True
    for s in range(20):
        b = BoxRobot(jitter=4, seed=s).next_interaction(corner, ~corner & False, corner, [])
        assert 0 <= b.y0 <= b.y1 <= 4 and 0 <= b.x0 <= b.x1 <= 4
    with pytest.raises(UsageError):
        BoxRobot(jitter=-1)


def test_box_then_the_reference_clickers_clicks() -> None:
    t, ignore = target()
    robot = BoxClicksRobot()
    first = robot.next_interaction(t, ignore, np.zeros_like(t), [])
    assert first == Box(4, 6, 8, 19)
    pred = np.zeros_like(t)
    pred[4:9, 6:10] = True
    second = robot.next_interaction(t, ignore, pred, [first])
    assert second == CenterOfErrorClicker().next_interaction(t, ignore, pred, [first])
    assert isinstance(second, Click) and second.is_positive


def test_models_refuse_robots_giving_kinds_they_do_not_accept() -> None:
    assert choose_robot("sam", "box+clicks") == "box+clicks"
    assert choose_robot("sam2", "box") == "box"
    with pytest.raises(UsageError, match="robot box\\+clicks gives boxes "):
        choose_robot("grabcut", "box+clicks")


def test_seconds_per_click_with_the_encoder_share_and_warm_up_left_out() -> None:
    records = pd.DataFrame({
        "sample_id": ["w", "w", "a", "a", "b", "b"], "interaction": [1, 2, 1, 2, 1, 2],
        "model_seconds": [9.0, 9.0, 0.1, 0.2, 0.3, 0.4],
        "encoder_seconds": [9.0, 9.0, 1.0, 1.0, 2.0, 2.0]})
    spc = seconds_per_click(records)
    assert spc.warm_up_excluded == 1
    assert spc.first == pytest.approx(0.2) and spc.later == pytest.approx(0.3)
    assert spc.encoder == pytest.approx(1.5)
    assert spc.first_with_encoder == pytest.approx(1.7)
    alone = seconds_per_click(records[records["sample_id"] == "a"].drop(
        columns="encoder_seconds"))
    assert alone.warm_up_excluded == 0 and alone.encoder is None
    assert alone.first == pytest.approx(0.1)

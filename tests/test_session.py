"""The single-object session loop with scripted adapters."""

import numpy as np
import pytest

from iseg_bench.adapters.base import Adapter
from iseg_bench.config import RunConfig
from iseg_bench.errors import SampleError
from iseg_bench.protocols.base import WorkerContext
from iseg_bench.protocols.single_object import run_session
from iseg_bench.robots.clicker import CenterOfErrorClicker
from iseg_bench.types import Sample


def make_sample(ignore_band=False):
    target = np.zeros((20, 30), bool)
    target[5:15, 8:22] = True
    ignore = np.zeros_like(target)
    if ignore_band:
        ignore[4, :] = True
    return Sample(np.zeros((20, 30, 3), np.uint8), target, ignore, "s0")


class Scripted(Adapter):
    """Returns the i-th scripted map at interaction i and remembers what it was given."""

    def __init__(self, maps):
        self.maps, self.seen_prev, self.seen_len = maps, [], []

    def set_image(self, image):
        self.seen_prev.clear()

    def predict(self, interactions, prev_prob):
        self.seen_prev.append(prev_prob.copy())
        self.seen_len.append(len(interactions))
        return self.maps[min(len(interactions), len(self.maps)) - 1]


def ctx(adapter, **cfg):
    return WorkerContext(RunConfig(model="m", dataset="d", **cfg), None, adapter,
                         CenterOfErrorClicker())


def test_records_every_interaction_with_previous_probabilities_passed_back():
    s = make_sample()
    half = np.zeros(s.shape, np.float32)
    half[5:15, 8:15] = 0.8
    full = s.target.astype(np.float32)
    ad = Scripted([half, full])
    rows = run_session(s, ctx(ad, max_interactions=4))
    assert [r["interaction"] for r in rows] == [1, 2, 3, 4]
    assert ad.seen_len == [1, 2, 3, 4]
    assert not ad.seen_prev[0].any()
    np.testing.assert_array_equal(ad.seen_prev[1], half)
    assert rows[0]["iou"] == pytest.approx(70 / 140)
    assert rows[1]["iou"] == 1.0
    # click 2 is positive, in the right half (FN) of the object; its region is fully fixed
    assert rows[1]["is_positive"] and rows[1]["x"] >= 15
    assert rows[1]["corrective_accuracy"] == 1.0
    # after the object is perfect the clicker's fallback click is scored as undefined
    assert np.isnan(rows[2]["corrective_accuracy"])


def test_threshold_is_strictly_greater_than_049():
    s = make_sample()
    at = s.target.astype(np.float32) * np.float32(0.49)
    above = s.target.astype(np.float32) * np.float32(0.491)
    assert run_session(s, ctx(Scripted([at]), max_interactions=1))[0]["iou"] == 0.0
    assert run_session(s, ctx(Scripted([above]), max_interactions=1))[0]["iou"] == 1.0


def test_stop_at_iou_ends_the_sample_early():
    s = make_sample()
    rows = run_session(s, ctx(Scripted([s.target.astype(np.float32)]), max_interactions=20,
                              stop_at_iou=0.9))
    assert len(rows) == 1


@pytest.mark.parametrize("bad, message", [
    (np.zeros((3, 3), np.float32), "shape"),
    (np.zeros((20, 30), np.uint8), "dtype"),
    (np.full((20, 30), np.nan, np.float32), "NaN"),
    (np.full((20, 30), 1.5, np.float32), r"\[0, 1\]"),
])
def test_invalid_model_output_is_a_sample_error(bad, message):
    with pytest.raises(SampleError, match=message):
        run_session(make_sample(), ctx(Scripted([bad]), max_interactions=2))


def test_empty_target_outside_ignore_is_a_sample_error():
    s = make_sample()
    s.ignore[:] = True
    with pytest.raises(SampleError, match="empty target"):
        run_session(s, ctx(Scripted([np.zeros(s.shape, np.float32)])))


def test_stray_protocol_option_is_a_usage_error():
    from iseg_bench.errors import UsageError
    from iseg_bench.protocols.single_object import SingleObjectProtocol

    with pytest.raises(UsageError, match="protocol single-object: unknown option.*rounds"):
        SingleObjectProtocol(RunConfig(model="m", dataset="d", protocol_options={"rounds": 2}))


def test_summary_keys_distinct_thresholds_apart():
    """0.99 and 0.995 shared the key "0.99" when keys were formatted with two decimals."""
    import pandas as pd

    from iseg_bench.protocols.single_object_figures import single_object_summary

    s = make_sample()
    near = s.target.astype(np.float32)
    near[5, 8] = 0.0                      # IoU 139/140 = 0.9929: above 0.99, below 0.995
    rows = run_session(s, ctx(Scripted([near, s.target.astype(np.float32)]),
                              max_interactions=3))
    summary = single_object_summary(pd.DataFrame(rows), 3, (0.99, 0.995), None, None)
    out = summary.to_json()
    assert out["noc"] == {"0.99": 1.0, "0.995": 2.0}
    assert out["nof"] == {"0.99": 0, "0.995": 0}
    assert set(out["seconds_to_reach"]) == {"0.99", "0.995"}
    assert summary.figures.noc == {0.99: 1.0, 0.995: 2.0}   # held as floats

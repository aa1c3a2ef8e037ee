"""Figures on hand-computed IoU curves."""

import numpy as np
import pytest

from iseg_bench import metrics

IOUS = np.array([
    [0.50, 0.86, 0.91, 0.96],   # reaches .85 at 2, .90 at 3, .95 at 4 (the last)
    [0.90, 0.90, 0.90, 0.90],   # .85 and .90 at 1, never .95
    [0.10, 0.20, 0.30, 0.85],   # .85 exactly at the last interaction
])


def test_noc_is_first_reaching_index_or_max():
    assert metrics.noc(IOUS, 0.85).tolist() == [2, 1, 4]
    assert metrics.noc(IOUS, 0.90).tolist() == [3, 1, 4]
    assert metrics.noc(IOUS, 0.95).tolist() == [4, 4, 4]


def test_nof_counts_samples_that_never_reach():
    assert metrics.nof(IOUS, 0.85) == 0   # sample 3 reaches 0.85 exactly at the last one
    assert metrics.nof(IOUS, 0.90) == 1   # sample 3 never reaches 0.90
    assert metrics.nof(IOUS, 0.95) == 2


def test_ritm_compat_counts_reaching_at_last_click_as_failure_and_uses_float_thresholds():
    # 0.85 < 0.8500000000000001: sample 3 (exactly 0.85) never reaches it under RITM
    assert metrics.noc(IOUS, 0.85, "ritm").tolist() == [2, 1, 4]
    assert metrics.nof(IOUS, 0.85, "ritm") == 1
    # 0.90 < 0.9000000000000001: sample 2 never reaches "0.90" under RITM
    assert metrics.noc(IOUS, 0.90, "ritm").tolist() == [3, 4, 4]
    # reaching .95 at the last click (sample 1) counts as a failure under RITM only
    assert metrics.nof(IOUS, 0.95) == 2
    assert metrics.nof(IOUS, 0.95, "ritm") == 3


def test_unknown_compat_is_an_error():
    for figure in (metrics.noc, metrics.nof):
        with pytest.raises(ValueError, match="unknown compat mode 'focalclick'; known: 'ritm'"):
            figure(IOUS, 0.85, "focalclick")


def test_ritm_threshold_table_applies_to_thresholds_that_round_to_its_entries():
    # docs/figures.md: a threshold that rounds to two decimals to 0.80/0.85/0.90/0.95 is
    # compared as RITM's float (np.arange(0.8, 1.0, 0.05)), any other one as given
    assert metrics.effective_threshold(0.85, "ritm") == 0.8500000000000001
    assert metrics.effective_threshold(0.849, "ritm") == 0.8500000000000001
    assert metrics.effective_threshold(0.95, "ritm") == 0.9500000000000002
    assert metrics.effective_threshold(0.99, "ritm") == 0.99
    assert metrics.effective_threshold(0.85) == 0.85
    # 0.99 is not in the table: sample 1 (0.96 at most) and 2 never reach it, 3 neither
    assert metrics.noc(IOUS, 0.99, "ritm").tolist() == [4, 4, 4]
    assert metrics.noc(np.array([[0.5, 0.99]]), 0.99, "ritm").tolist() == [2]


def test_ritm_nof_uses_the_float_threshold():
    # sample 2 sits at exactly 0.90 from click 1: it reaches "0.90" but not RITM's
    # 0.9000000000000001 (NoC = K), sample 3 never reaches it: RITM counts both
    assert metrics.nof(IOUS, 0.90) == 1
    assert metrics.nof(IOUS, 0.90, "ritm") == 2


def test_miou_and_auc():
    assert metrics.miou_curve(IOUS) == pytest.approx([0.5, 1.96 / 3, 2.11 / 3, 2.71 / 3])
    assert metrics.auc(IOUS) == pytest.approx((0.5 + 1.96 / 3 + 2.11 / 3 + 2.71 / 3) / 4)


def test_proportion_above_is_strict_and_limited_to_available_k():
    prop = metrics.proportion_above(IOUS, thresholds=(0.90, 0.95), at=(1, 4, 5))
    assert set(prop) == {1, 4}
    assert prop[1] == {0.90: 0.0, 0.95: 0.0}           # 0.90 is not > 0.90
    assert prop[4] == {0.90: pytest.approx(1 / 3), 0.95: pytest.approx(1 / 3)}


def test_seconds_to_reach_sums_up_to_the_noc_click():
    secs = np.array([[1.0, 2.0, 3.0], [0.5, 0.5, 0.5]])
    assert metrics.seconds_to_reach(secs, np.array([2, 3])) == pytest.approx((3.0 + 1.5) / 2)


def test_fill_curves_carries_the_last_iou_forward():
    out = metrics.fill_curves([np.array([0.3, 0.9]), np.array([0.1, 0.2, 0.3, 0.4])], 3)
    assert out.dtype == np.float64
    assert out.tolist() == [[0.3, 0.9, 0.9], [0.1, 0.2, 0.3]]


def test_fill_curves_of_an_empty_curve_is_a_row_of_nan():
    out = metrics.fill_curves([np.array([], np.float64), np.array([0.5])], 2)
    assert np.isnan(out[0]).all() and out[1].tolist() == [0.5, 0.5]

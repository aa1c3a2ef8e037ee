"""Bootstrap intervals and the paired bootstrap test (iseg_bench/protocols/intervals.py),
against definitions, hand-computed cases and SciPy's independent bootstrap."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from iseg_bench.protocols.intervals import (
    bootstrap_means,
    click_intervals,
    mean_interval,
    paired_p_value,
)


def test_resample_means_are_means_of_drawn_rows() -> None:
    # the definition: resample b is the mean of S rows drawn with replacement
    values = np.array([[1.0, 10.0], [2.0, 20.0], [4.0, 40.0]])
    means = bootstrap_means(values, resamples=50, seed=3)
    draws = np.random.default_rng(3).integers(0, 3, size=(50, 3))
    np.testing.assert_allclose(means, values[draws].mean(axis=1))


def test_constant_values_give_a_point_interval() -> None:
    np.testing.assert_allclose(mean_interval(np.full((7, 1), 2.5)), [[2.5, 2.5]])


def test_single_session_interval_is_its_value() -> None:
    np.testing.assert_allclose(mean_interval(np.array([[0.3, 4.0]])), [[0.3, 0.3], [4.0, 4.0]])


def test_interval_agrees_with_scipy_percentile_bootstrap() -> None:
    x = np.random.default_rng(1).exponential(2.0, size=80)
    ours = mean_interval(x[:, None], resamples=4000)[0]
    ref = stats.bootstrap((x,), np.mean, n_resamples=4000, method="percentile",
                          random_state=np.random.default_rng(9)).confidence_interval
    # two independent Monte Carlo estimates of the same quantiles
    width = ref.high - ref.low
    assert abs(ours[0] - ref.low) < 0.1 * width and abs(ours[1] - ref.high) < 0.1 * width


def test_interval_is_seeded() -> None:
    x = np.random.default_rng(2).random((30, 2))
    np.testing.assert_array_equal(mean_interval(x), mean_interval(x))
    assert not np.array_equal(mean_interval(x, seed=0), mean_interval(x, seed=1))


def test_click_intervals_bracket_the_figures() -> None:
    rng = np.random.default_rng(4)
    ious = np.sort(rng.random((40, 6)), axis=1)
    ci = click_intervals(ious, [0.5, 0.9], None)
    assert ci is not None
    noc50 = (np.argmax(ious >= 0.5, axis=1) + 1).astype(float)
    noc50[~(ious >= 0.5).any(axis=1)] = 6
    assert ci.noc[0.5][0] <= noc50.mean() <= ci.noc[0.5][1]
    assert len(ci.miou) == 6
    for k in range(6):
        assert ci.miou[k][0] <= ious[:, k].mean() <= ci.miou[k][1]
    assert ci.auc[0] <= ious.mean() <= ci.auc[1]
    assert click_intervals(np.zeros((0, 6)), [0.5], None) is None


def test_paired_p_value() -> None:
    assert paired_p_value(np.zeros((10, 1)))[0] == 1.0
    assert paired_p_value(np.ones((10, 1)))[0] == 0.0  # every resample above 0
    # a shift much smaller than the noise is not significant, a large one is
    noise = np.random.default_rng(5).normal(0, 1, size=(50, 1))
    assert paired_p_value(noise - noise.mean() + 0.01)[0] > 0.5
    assert paired_p_value(noise - noise.mean() + 1.0)[0] < 0.01


@pytest.mark.parametrize("shift", [0.0, 0.3])
def test_paired_p_value_agrees_with_a_t_test(shift: float) -> None:
    d = np.random.default_rng(6).normal(0, 1, size=200) + shift
    p_t = stats.ttest_1samp(d, 0.0).pvalue
    p = paired_p_value(d[:, None], resamples=4000)[0]
    assert abs(p - p_t) < 0.05 + 0.2 * p_t

"""ScribbleSeg's training scribble simulators (iseg_bench.simulators.scribbles): the laws of
Sec. 3.3 / Tabs. 3-6 checked on samples, the boundary strategies' guarantees, seeding."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import ndimage as ndi

from iseg_bench.geometry import rasterize_stroke
from iseg_bench.simulators.scribbles import (
    FAMILIES,
    ScribbleSimulator,
    family_probabilities,
    perturb_mask,
    previous_mask_source,
    scribble_maps,
    stroke_count_probabilities,
)

N = 4000


def _blob(seed: int, shape=(64, 80)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    smooth = ndi.gaussian_filter(rng.random(shape), 4.0)
    return smooth > np.quantile(smooth, 0.6)


def _within(counts: np.ndarray, probs: np.ndarray, n: int) -> bool:
    """Every empirical frequency within 5 binomial standard deviations."""
    sd = np.sqrt(probs * (1 - probs) / n)
    return bool(np.all(np.abs(counts / n - probs) <= 5 * sd + 1e-12))


def test_stroke_count_law_by_hand():
    p = stroke_count_probabilities()
    assert len(p) == 16 and np.isclose(p.sum(), 1.0)
    assert np.allclose(p[1:] / p[:-1], 0.8)
    assert np.isclose(p[0], 0.2 / (1 - 0.8 ** 16))      # geometric series
    sim = ScribbleSimulator()
    rng = np.random.default_rng(0)
    draws = np.array([sim.stroke_count(rng) for _ in range(N)])
    assert draws.min() >= 1 and draws.max() <= 16
    assert _within(np.bincount(draws, minlength=17)[1:], p, N)


def test_thickness_range():
    sim = ScribbleSimulator()
    rng = np.random.default_rng(1)
    draws = np.array([sim.thickness(rng) for _ in range(N)])
    assert set(draws.tolist()) == {3, 4, 5, 6, 7}
    assert _within(np.bincount(draws, minlength=8)[3:], np.full(5, 0.2), N)


def test_mixing_ratio():
    assert np.allclose(family_probabilities(), [0.8, 0.1, 0.1])
    sim = ScribbleSimulator()
    rng = np.random.default_rng(2)
    draws = [sim.family(rng) for _ in range(N)]
    counts = np.array([draws.count(f) for f in FAMILIES])
    assert _within(counts, family_probabilities(), N)
    mixed = (counts[1] + counts[2]) / N
    assert abs(mixed - 0.2) < 5 * np.sqrt(0.2 * 0.8 / N)


def test_previous_mask_sources_one_to_point_four():
    rng = np.random.default_rng(3)
    draws = [previous_mask_source(rng) for _ in range(N)]
    share = draws.count("perturbed") / N
    assert set(draws) == {"prediction", "perturbed"}
    assert abs(share - 0.4 / 1.4) < 5 * np.sqrt(0.29 * 0.71 / N)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2 ** 32 - 1), st.sampled_from(FAMILIES), st.sampled_from(["protect",
                                                                               "clean"]))
def test_protect_and_clean_paint_only_inside_the_region(seed, family, strategy):
    region = _blob(seed % 1000)
    rng = np.random.default_rng(seed)
    s = ScribbleSimulator(strategy=strategy).stroke(rng, region, True, family=family)
    assert s.family == family and s.painted.any()
    assert not (s.painted & ~region).any()
    if strategy == "protect":      # the painted pixels are exactly the rasterised chain
        assert region[s.chain[:, 0], s.chain[:, 1]].all()
        assert np.array_equal(s.painted, rasterize_stroke(s.chain, s.thickness, region.shape))
        assert 1 <= s.thickness <= 7
    else:
        assert 3 <= s.thickness <= 7


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2 ** 32 - 1), st.sampled_from(["axial", "boundary"]))
def test_allow_keeps_the_path_in_the_region(seed, family):
    region = _blob(seed % 1000)
    s = ScribbleSimulator(strategy="allow").stroke(np.random.default_rng(seed), region, False,
                                                   family=family)
    assert region[s.chain[:, 0], s.chain[:, 1]].all()
    assert np.array_equal(s.painted, rasterize_stroke(s.chain, s.thickness, region.shape))


def test_allow_may_exceed_where_protect_does_not():
    region = np.zeros((40, 200), dtype=bool)
    region[18:22, 10:190] = True                # a band 4 px high: a 7 px stroke overflows
    exceeded = False
    for seed in range(20):
        s = ScribbleSimulator(strategy="allow").stroke(np.random.default_rng(seed), region,
                                                       True, family="axial", thickness=7)
        exceeded |= bool((s.painted & ~region).any())
        p = ScribbleSimulator().stroke(np.random.default_rng(seed), region, True,
                                       family="axial", thickness=7)
        assert not (p.painted & ~region).any() and p.thickness < 7
    assert exceeded


def test_families_have_their_shape():
    region = np.zeros((60, 120), dtype=bool)
    region[10:50, 10:110] = True
    rng = np.random.default_rng(4)
    sim = ScribbleSimulator(strategy="allow")
    axial = sim.stroke(rng, region, True, family="axial", thickness=3)
    # the medial axis of a 40 x 100 rectangle runs along its middle rows (29, 30)
    middle = axial.chain[(axial.chain[:, 1] > 35) & (axial.chain[:, 1] < 85)]
    assert len(middle) and np.all(np.abs(middle[:, 0] - 29.5) <= 1)
    boundary = sim.stroke(rng, region, True, family="boundary", thickness=3)
    on_edge = ((boundary.chain[:, 0] == 10) | (boundary.chain[:, 0] == 49)
               | (boundary.chain[:, 1] == 10) | (boundary.chain[:, 1] == 109))
    assert on_edge.all() and len(boundary.chain) >= 0.2 * 276 - 1
    assert np.abs(np.diff(boundary.chain, axis=0)).max() <= 1


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2 ** 32 - 1))
def test_iterative_sampling_corrects_the_error_regions(seed):
    target = _blob(seed % 1000)
    rng = np.random.default_rng(seed)
    prev = perturb_mask(rng, target)
    strokes = ScribbleSimulator().strokes(rng, target, prev)
    fn, fp = target & ~prev, ~target & prev
    if not (fn | fp).any():
        assert strokes == []
        return
    assert 1 <= len(strokes) <= 16
    for s in strokes:
        assert not (s.painted & ~(fn if s.is_positive else fp)).any()
    maps = scribble_maps(strokes, target.shape)
    assert maps.shape == (2, *target.shape) and maps.dtype == np.float32


def test_void_previous_mask_starts_positive_and_respects_ignore():
    target = _blob(7)
    ignore = np.zeros_like(target)
    ignore[:, :20] = True
    for seed in range(10):
        strokes = ScribbleSimulator().strokes(np.random.default_rng(seed), target, None, ignore)
        assert strokes[0].is_positive
        for s in strokes:
            assert not (s.painted & ignore).any()
            assert not (s.painted & (~target if s.is_positive else target)).any()


def test_seeded_and_reproducible():
    target = _blob(11)
    a = ScribbleSimulator().strokes(np.random.default_rng(5), target)
    b = ScribbleSimulator().strokes(np.random.default_rng(5), target)
    assert len(a) == len(b)
    assert all(np.array_equal(x.chain, y.chain) and x.thickness == y.thickness
               and x.family == y.family for x, y in zip(a, b))


def test_perturbations_change_the_mask():
    target = np.zeros((80, 80), dtype=bool)
    target[20:60, 25:55] = True
    rng = np.random.default_rng(6)
    changed = [not np.array_equal(perturb_mask(rng, target), target) for _ in range(30)]
    assert sum(changed) >= 25        # a 1-px step can leave nothing changed only by chance
    assert np.array_equal(perturb_mask(rng, np.zeros_like(target)), np.zeros_like(target))


def test_bad_configurations():
    with pytest.raises(ValueError, match="strategy"):
        ScribbleSimulator(strategy="erode")
    with pytest.raises(ValueError, match="thickness"):
        ScribbleSimulator(thickness_range=(0, 3))
    with pytest.raises(ValueError, match="empty"):
        ScribbleSimulator().stroke(np.random.default_rng(0), np.zeros((5, 5), bool), True)

"""Full-image scribble allocator (Agustsson et al. 2019, Sec. 4 and 5.3) on hand-built maps."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iseg_bench.adapters.annotation_maps import paint_annotation
from iseg_bench.errors import UsageError
from iseg_bench.geometry import interaction_pixels
from iseg_bench.masks import iou
from iseg_bench.robots.full_image_allocator import (
    FullImageScribbleAllocator,
    error_regions,
    region_ious,
    simulate_scribble,
)


def mean_iou(target, pred, ignore, regions):
    return float(np.mean([iou(target == r, pred == r, ignore) for r in regions]))


def three_regions():
    """30x40: region 1 left, region 2 right, region 3 a square in the middle."""
    target = np.ones((30, 40), np.int32)
    target[:, 20:] = 2
    target[10:20, 15:25] = 3
    return target, np.zeros(target.shape, bool), [1, 2, 3]


def random_maps(seed, h=24, w=30):
    rng = np.random.default_rng(seed)
    target = np.ones((h, w), np.int32)
    for r in range(2, 6):
        y, x = rng.integers(0, h - 6), rng.integers(0, w - 6)
        target[y:y + rng.integers(4, 12), x:x + rng.integers(4, 14)] = r
    pred = target.copy()
    for _ in range(6):
        y, x = rng.integers(0, h - 3), rng.integers(0, w - 3)
        pred[y:y + rng.integers(1, 7), x:x + rng.integers(1, 7)] = rng.integers(0, 6)
    ignore = rng.random((h, w)) < 0.03
    regions = [int(r) for r in np.unique(target[~ignore]) if r]
    return target, ignore, pred, regions


def test_error_regions_on_a_hand_built_map():
    target, ignore, regions = three_regions()
    pred = target.copy()
    pred[0:5, 0:4] = 2          # a 20-px error region of region 1
    pred[25:27, 30:33] = 1      # a 6-px error region of region 2
    pred[10:20, 15:17] = 1      # region 3's left strip (20 px) goes to region 1 ...
    pred[10:20, 23:25] = 2      # ... and its right strip (20 px) to region 2: two components
    errs = error_regions(target, ignore, pred, regions)
    got = sorted((e.region, e.size) for e in errs)
    assert got == [(1, 20), (2, 6), (3, 20), (3, 20)]
    for e in errs:
        m = e.mask(target.shape)
        assert (target[m] == e.region).all() and (pred[m] != e.region).all()


def test_importance_is_the_mean_iou_gain_of_the_correction():
    for seed in range(12):
        target, ignore, pred, regions = random_maps(seed)
        before = mean_iou(target, pred, ignore, regions)
        errs = error_regions(target, ignore, pred, regions)
        assert errs, "fixture has errors"
        for e in errs:
            fixed = pred.copy()
            fixed[e.mask(target.shape)] = e.region
            assert e.gain == pytest.approx(mean_iou(target, fixed, ignore, regions) - before,
                                           abs=1e-12)
        gains = [e.gain for e in errs]
        assert gains == sorted(gains, reverse=True)


def test_region_ious_match_masks_iou():
    target, ignore, pred, regions = random_maps(3)
    expected = [iou(target == r, pred == r, ignore) for r in regions]
    assert np.allclose(region_ious(target, pred, ignore, regions), expected)


def test_ignored_pixels_are_never_errors():
    target, ignore, regions = three_regions()
    pred = target.copy()
    pred[0:5, 0:4] = 2
    ignore[0:5, 0:4] = True
    assert error_regions(target, ignore, pred, regions) == []


@pytest.mark.parametrize("seed", range(8))
def test_scribbles_always_lie_inside_their_true_region(seed):
    target, ignore, pred, regions = random_maps(seed, 40, 50)
    rng = np.random.default_rng(seed)
    for e in error_regions(target, ignore, pred, regions):
        s = simulate_scribble(e, target, ignore, pred, rng)
        true_region = (target == e.region) & ~ignore
        px = interaction_pixels(s, target.shape)
        assert s.is_positive and s.region == e.region
        assert true_region[px[:, 0], px[:, 1]].all()
        assert not (paint_annotation(s, target.shape) & ~true_region).any()
        assert (np.round(s.points) >= 0).all()


def test_scribble_starts_on_the_correct_prediction_next_to_the_error():
    target, ignore, regions = three_regions()
    pred = target.copy()
    pred[5:25, 2:12] = 2                    # a big error region inside region 1
    (e,) = error_regions(target, ignore, pred, regions)
    for seed in range(10):
        s = simulate_scribble(e, target, ignore, pred, np.random.default_rng(seed))
        touched = np.zeros(target.shape, bool)
        px = interaction_pixels(s, target.shape)
        touched[px[:, 0], px[:, 1]] = True
        assert (touched & e.mask(target.shape)).any()   # it reaches into the error region
        assert s.thickness == 3
        # P0: a pixel of region 1 still predicted as 1, 8-adjacent to the error region
        y, x = np.round(s.points[0]).astype(int)
        assert target[y, x] == 1 and pred[y, x] == 1
        assert e.mask(target.shape)[max(0, y - 1):y + 2, max(0, x - 1):x + 2].any()


def test_thin_region_falls_back_to_a_thinner_scribble():
    target = np.ones((20, 20), np.int32)
    target[10, 2:18] = 2                    # a 1-px line region
    ignore = np.zeros(target.shape, bool)
    pred = np.ones_like(target)             # the line is entirely missed
    (e,) = [e for e in error_regions(target, ignore, pred, [1, 2]) if e.region == 2]
    s = simulate_scribble(e, target, ignore, pred, np.random.default_rng(0))
    assert s.thickness == 1
    px = interaction_pixels(s, target.shape)
    assert (target[px[:, 0], px[:, 1]] == 2).all()


def test_free_spends_exactly_the_budget_and_prefers_larger_gains():
    target = np.ones((40, 60), np.int32)
    target[:, 30:] = 2
    target[5:15, 5:15] = 3
    ignore = np.zeros(target.shape, bool)
    pred = target.copy()
    # five error regions of different sizes across the regions
    pred[20:36, 2:18] = 2       # 256 px of region 1
    pred[2:4, 20:26] = 2        # 12 px of region 1
    pred[25:35, 40:52] = 1      # 120 px of region 2
    pred[36:38, 56:58] = 1      # 4 px of region 2
    pred[5:8, 5:15] = 1         # 30 px of region 3
    regions = [1, 2, 3]
    errs = error_regions(target, ignore, pred, regions)
    alloc = FullImageScribbleAllocator("free")
    plan = alloc.plan(errs, regions)
    assert len(plan) == alloc.budget(3) == 3
    assert [p.size for p in plan] == [e.size for e in errs[:3]]
    chosen = {id(p) for p in plan}
    assert min(p.gain for p in plan) >= max(e.gain for e in errs if id(e) not in chosen)
    scribbles = alloc.allocate(target, ignore, pred, regions, np.random.default_rng(0))
    assert len(scribbles) == 3
    # a larger budget than error regions: further passes, still exactly the budget
    rich = FullImageScribbleAllocator("free", budget_per_region=4.0)
    plan = rich.plan(errs, regions)
    assert len(plan) == 12 and plan[:5] == errs and plan[5:10] == errs


def test_per_region_gives_one_scribble_to_each_region_with_an_error():
    target, ignore, regions = three_regions()
    pred = target.copy()
    pred[0:5, 0:4] = 2
    pred[20:30, 0:10] = 2       # the larger error of region 1
    pred[25:27, 30:33] = 1
    alloc = FullImageScribbleAllocator("per-region")
    errs = error_regions(target, ignore, pred, regions)
    plan = alloc.plan(errs, regions)
    assert sorted(p.region for p in plan) == [1, 2]
    assert [p.size for p in plan if p.region == 1] == [100]
    scribbles = alloc.allocate(target, ignore, pred, regions, np.random.default_rng(0))
    assert sorted(s.region for s in scribbles) == [1, 2]
    assert alloc.allocate(target, ignore, target, regions, np.random.default_rng(0)) == []


def test_allocation_is_deterministic_with_a_seed():
    target, ignore, pred, regions = random_maps(7, 40, 50)
    alloc = FullImageScribbleAllocator("free")
    a = alloc.allocate(target, ignore, pred, regions, np.random.default_rng(11))
    b = alloc.allocate(target, ignore, pred, regions, np.random.default_rng(11))
    c = alloc.allocate(target, ignore, pred, regions, np.random.default_rng(12))
    assert a == b
    assert a != c
    with pytest.raises(UsageError, match="allocation must be one of free, per-region, got "
                                         "'everything'"):
        FullImageScribbleAllocator("everything")
    for bad in ({"tries": 0}, {"thickness": 0}, {"budget_per_region": 0.0}):
        with pytest.raises(UsageError, match="tries, thickness and budget_per_region must "
                                             "be positive"):
            FullImageScribbleAllocator("free", **bad)


def blobby_maps(seed, h=28, w=34):
    """Random regions with thin parts and holes: rectangles, 1-px lines and ignore specks."""
    rng = np.random.default_rng(seed)
    target = np.ones((h, w), np.int32)
    for r in range(2, int(rng.integers(3, 7))):
        if rng.random() < 0.3:      # a thin line region
            y = int(rng.integers(0, h))
            target[y, int(rng.integers(0, w // 2)):int(rng.integers(w // 2, w))] = r
        else:
            y, x = rng.integers(0, h - 3), rng.integers(0, w - 3)
            target[y:y + rng.integers(2, 14), x:x + rng.integers(2, 16)] = r
    pred = target.copy()
    for _ in range(int(rng.integers(1, 8))):
        y, x = rng.integers(0, h - 2), rng.integers(0, w - 2)
        pred[y:y + rng.integers(1, 10), x:x + rng.integers(1, 10)] = rng.integers(0, 7)
    ignore = rng.random((h, w)) < rng.uniform(0, 0.1)
    regions = [int(r) for r in np.unique(target[~ignore]) if r]
    return target, ignore, pred, regions


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**31 - 1))
def test_property_importance_and_inside(seed):
    target, ignore, pred, regions = blobby_maps(seed)
    before = mean_iou(target, pred, ignore, regions)
    rng = np.random.default_rng(seed)
    for e in error_regions(target, ignore, pred, regions):
        m = e.mask(target.shape)
        assert not (m & ignore).any() and (target[m] == e.region).all()
        fixed = pred.copy()
        fixed[m] = e.region
        assert e.gain == pytest.approx(mean_iou(target, fixed, ignore, regions) - before,
                                       abs=1e-12)
        s = simulate_scribble(e, target, ignore, pred, rng)
        px = interaction_pixels(s, target.shape)
        true_region = (target == e.region) & ~ignore
        assert len(px) and true_region[px[:, 0], px[:, 1]].all()

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
    AllocatorOptions,
    FullImageScribbleAllocator,
    RankedErrorRegion,
    _curve_chain,
    _first_point_candidates,
    _polyline,
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


# --- Tests written against the mutation report (docs/testing.md, "Mutation testing") ---


def _row(*values):
    return np.array([values], dtype=np.int64)


@pytest.mark.parametrize("target, pred, regions, expected", [
    # an id (9) above every region and prediction: the confusion must still hold it
    (_row(1, 1, 2, 2, 9), _row(1, 2, 2, 2, 2), [1, 2, 3], [1 / 2, 2 / 4, 0.0]),
    # a predicted id (9) that is no region: not counted as region 2's prediction
    (_row(1, 1, 2, 2, 2), _row(1, 2, 2, 2, 9), [1, 2], [1 / 2, 2 / 4]),
    # one pixel, predicted right: union 1, IoU 1
    (_row(1), _row(1), [1], [1.0]),
    # a region id above every id in the maps
    (_row(1, 1, 2, 2), _row(1, 2, 2, 2), [1, 2, 3], [1 / 2, 2 / 3, 0.0]),
])
def test_region_ious_by_hand(target, pred, regions, expected):
    ious = region_ious(target, pred, np.zeros(target.shape, bool), regions)
    np.testing.assert_allclose(ious, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("target, pred, regions, expected", [
    # (region, size, gain, first pixel) by hand: gain = (area / U_t + sum over the regions j
    # that lose false positives of I_j / (U_j - c_j) - I_j / U_j) / N
    (_row(1, 1, 2, 2, 9), _row(1, 2, 2, 9, 9), [1, 2],       # 9: in the image, no region
     [(1, 1, (1 / 2 + (1 / 2 - 1 / 3)) / 2, 1), (2, 1, (1 / 3) / 2, 3)]),
    (_row(1, 1, 2, 2, 9), _row(1, 2, 2, 2, 2), [1, 2, 3],
     [(1, 1, (1 / 2 + (2 / 3 - 2 / 4)) / 3, 1)]),
    (_row(1, 1, 2, 2), _row(1, 2, 2, 2), [1, 2, 3],          # 3: a region absent from both
     [(1, 1, (1 / 2 + (2 / 2 - 2 / 3)) / 3, 1)]),
    (_row(1, 1, 2, 2), _row(1, 2, 2, 3), [1, 2, 3],          # 3 predicted, union 1 -> 0
     [(1, 1, (1 / 2 + (1 / 2 - 1 / 3)) / 3, 1), (2, 1, (1 / 3 + 0.0) / 3, 3)]),
    (_row(1, 1, 2), _row(1, 2, 2), [1, 2],                   # region 2 left with union 1
     [(1, 1, (1 / 2 + (1 / 1 - 1 / 2)) / 2, 1)]),
])
def test_error_regions_by_hand(target, pred, regions, expected):
    errors = error_regions(target, np.zeros(target.shape, bool), pred, regions)
    got = [(e.region, e.size, e.gain, e.first_pixel) for e in errors]
    assert [(r, s, p) for r, s, _, p in got] == [(r, s, p) for r, s, _, p in expected]
    np.testing.assert_allclose([g for _, _, g, _ in got], [g for _, _, g, _ in expected],
                               rtol=0, atol=1e-12)


def test_equal_gains_rank_the_larger_region_first():
    def err(size, region, first):
        return RankedErrorRegion(region, size, 0.25, first, (0, 0, 1, 1), np.ones((1, 1), bool))
    ranked = sorted([err(3, 1, 0), err(5, 2, 7), err(5, 1, 9), err(5, 1, 4)],
                    key=RankedErrorRegion.sort_key)
    assert [(e.size, e.region, e.first_pixel) for e in ranked] == [
        (5, 1, 4), (5, 1, 9), (5, 2, 7), (3, 1, 0)]


def test_options_boundaries_messages_and_description():
    AllocatorOptions(tries=1, thickness=1)
    with pytest.raises(UsageError) as info:
        AllocatorOptions(allocation="nope")
    assert str(info.value) == ("full-image allocator: allocation must be one of free, "
                               "per-region, got 'nope'")
    with pytest.raises(UsageError, match="^full-image allocator: option tries"):
        FullImageScribbleAllocator(tries="many")  # type: ignore[arg-type]
    assert FullImageScribbleAllocator().describe() == {
        "name": "full-image-allocator", "allocation": "free", "tries": 10, "thickness": 3,
        "budget_per_region": 1.0}


def test_allocate_passes_prediction_tries_and_thickness_on():
    # One region (1) with a correct part (rows 0-7) and an error below it (rows 8-15,
    # predicted 2): P0 lies in the correct part next to the error (doc step 1); each try
    # takes 3 draws, so after allocate() the generator is where simulate_scribble with
    # the same tries leaves it; the thickness is the option's.
    target = np.ones((16, 16), np.int64)
    target[:, 12:] = 2
    pred = target.copy()
    pred[8:, :12] = 2
    ignore = np.zeros(target.shape, bool)
    for tries, thickness in ((1, 1), (4, 3)):
        alloc = FullImageScribbleAllocator("per-region", tries=tries, thickness=thickness)
        rng = np.random.default_rng(3)
        (s,) = alloc.allocate(target, ignore, pred, [1, 2], rng)
        assert s.thickness == thickness and s.region == 1
        y, x = s.points[0].astype(int)
        assert y == 7 and x < 12                 # correct pixels touching row 8
        ref = np.random.default_rng(3)
        (err,) = error_regions(target, ignore, pred, [1, 2])
        simulate_scribble(err, target, ignore, pred, ref, tries, thickness)
        assert rng.integers(1 << 62) == ref.integers(1 << 62)


def test_curve_passes_through_the_nearer_point_and_ends_at_the_farther():
    p0 = np.array([10.0, 10.0])
    near, far = np.array([10.0, 16.0]), np.array([10.0, 30.0])
    for a, b in ((near, far), (far, near)):
        chain = _curve_chain(p0, a, b)
        assert tuple(chain[0]) == (10, 10) and tuple(chain[-1]) == (10, 30)
        assert (chain[:, 0] == 10).all()          # collinear: the curve is the segment
    # equal distances: a is the middle point and b the end
    chain = _curve_chain(p0, np.array([10.0, 20.0]), np.array([20.0, 10.0]))
    assert tuple(chain[-1]) == (20, 10)


def test_polyline_keeps_every_fourth_pixel_and_the_last():
    chain = np.stack([np.zeros(10, np.int64), np.arange(10)], axis=1)
    v = _polyline(chain)
    assert v.dtype == np.float64
    np.testing.assert_array_equal(v[:, 1], [0, 4, 8, 9])


def test_first_point_fallback_is_the_4_border_of_the_error():
    # An L-shaped error region in the image corner, no correct pixel anywhere: P0 comes
    # from the pixels of E with a 4-neighbour outside E (the image's outside counts).
    e = np.zeros((8, 10), bool)
    e[0:5, 0:3] = True                 # a 5 x 3 block at the corner
    e[0:3, 3:7] = True                 # and a 3 x 4 arm; (3, 3) is the L's inside corner
    err = RankedErrorRegion(1, int(e.sum()), 0.5, 0, (0, 0, 5, 7), e[:5, :7].copy())
    got = {tuple(p) for p in _first_point_candidates(err, e, np.zeros_like(e))}
    # (2, 2) touches (3, 3) only diagonally: interior
    interior = {(1, 1), (2, 1), (3, 1), (1, 2), (2, 2), (1, 3), (1, 4), (1, 5)}
    border = {(y, x) for y, x in zip(*np.nonzero(e))} - interior
    assert got == border


def test_scribble_ends_on_a_pixel_of_the_error_region():
    # a and b are drawn from E's pixels (doc step 2) and the curve ends at the farther one;
    # E sits away from the origin (box rows 14-21, cols 10-17) inside a large true region,
    # so the first try already lies in T and its last point is that pixel of E.
    target = np.ones((40, 40), np.int64)
    pred = target.copy()
    pred[14:22, 10:18] = 2
    e = pred == 2
    ignore = np.zeros(target.shape, bool)
    (err,) = error_regions(target, ignore, pred, [1])
    for seed in range(5):
        s = simulate_scribble(err, target, ignore, pred, np.random.default_rng(seed), 1)
        y, x = s.points[-1].astype(int)
        assert e[y, x]


def _thin_bar():
    """Region 1: a 3-px-tall bar (rows 10-12, cols 2-37) whose right half is predicted 2."""
    target = np.full((24, 40), 2, np.int64)
    target[10:13, 2:38] = 1
    pred = target.copy()
    pred[10:13, 20:38] = 2
    ignore = np.zeros(target.shape, bool)
    (err,) = [e for e in error_regions(target, ignore, pred, [1, 2]) if e.region == 1]
    return target, ignore, pred, err


def test_fallback_lowers_the_thickness_one_step_at_a_time():
    # Region 1 is a 3-px-tall bar whose right half is predicted 2. A 4-px stroke (footprint
    # radius sqrt(5)) fits nowhere in it, a 3-px one (radius 1) fits along its middle row:
    # the fallback tries 4, then 3 (doc: th = thickness, ..., 1) and returns thickness 3.
    target, ignore, pred, err = _thin_bar()
    for seed in range(3):
        s = simulate_scribble(err, target, ignore, pred, np.random.default_rng(seed), 10, 4)
        assert s.thickness == 3 and (s.points[:, 0] == 11).all()


def test_equal_length_tries_keep_the_earlier_one():
    # A one-pixel error E at (10, 10) inside region 1: the P0 candidates are its 8
    # neighbours in raster order, a = b = E, so a try is the 2-px chain P0 -> E, of
    # length sqrt(2) from a diagonal neighbour and 1 otherwise. The kept try is the first
    # with a diagonal P0 (ties: the earlier try); the draws are 3 integers per try.
    target = np.ones((21, 21), np.int64)
    pred = target.copy()
    pred[10, 10] = 2
    ignore = np.zeros(target.shape, bool)
    (err,) = error_regions(target, ignore, pred, [1])
    neighbours = [(9, 9), (9, 10), (9, 11), (10, 9), (10, 11), (11, 9), (11, 10), (11, 11)]
    for seed in range(4):
        draws = np.random.default_rng(seed)
        firsts = []
        for _ in range(10):
            firsts.append(neighbours[int(draws.integers(8))])
            draws.integers(1)
            draws.integers(1)
        diagonal = [p for p in firsts if p[0] != 10 and p[1] != 10]
        s = simulate_scribble(err, target, ignore, pred, np.random.default_rng(seed))
        assert tuple(s.points[0].astype(int)) == diagonal[0]


def test_fallback_keeps_the_longest_run_over_all_tries():
    # The 3-px bar again, thickness 4: no try fits and th = 3 keeps the longest run of
    # chain pixels on the middle row (erode(T, cross) = row 11, cols 3-36) over all ten
    # tries (length along the chain; ties: the earlier try, then the earlier run). The
    # tries are redrawn here from the documented draws: P0 from (10|11|12, 19), a and b
    # from E's 54 pixels in raster order.
    target, ignore, pred, err = _thin_bar()
    for seed in range(3):
        draws = np.random.default_rng(seed)
        best, best_len = None, -1.0
        for _ in range(10):
            p0 = np.array([10 + int(draws.integers(3)), 19.0])
            a, b = (np.array(divmod(int(draws.integers(54)), 18)) + (10, 20) for _ in "ab")
            chain = _curve_chain(p0, a.astype(float), b.astype(float))
            ok = (chain[:, 0] == 11) & (chain[:, 1] >= 3) & (chain[:, 1] <= 36)
            start = None
            for i in range(len(chain) + 1):
                if i < len(chain) and ok[i]:
                    start = i if start is None else start
                    continue
                if start is not None:
                    run = chain[start:i]
                    length = float(np.hypot(*np.diff(run, axis=0).T).sum())
                    if length > best_len:
                        best, best_len = run, length
                    start = None
        s = simulate_scribble(err, target, ignore, pred, np.random.default_rng(seed), 10, 4)
        assert s.thickness == 3
        np.testing.assert_array_equal(s.points, best)


class ScriptedDraws:
    """Stands in for the generator: ``integers(n)`` returns the scripted indices in order."""

    def __init__(self, draws):
        self.draws = list(draws)

    def integers(self, n):
        value = self.draws.pop(0)
        assert 0 <= value < n
        return value


def test_a_valid_short_try_beats_the_fallback_run_of_a_longer_invalid_one():
    # Region 1 is the square rows/cols 5-24; it is predicted only at (14, 15), so P0 has that
    # one candidate and E is the other 399 pixels (raster order: (y, x) -> 20 (y - 5) + x - 5,
    # less 1 after (14, 15)). Try 1: a = b = (14, 14): the chain (14, 15) -> (14, 14), length
    # 1, fits in the square at thickness 3. Try 2: a = b = (14, 5): control point (14, 0), so
    # the curve reaches x = 3.75 (t = 3/4), outside the square. The kept scribble is try 1
    # (Sec. 4: the longest try that fits), not the fallback's 10-px run of try 2.
    target = np.zeros((30, 30), np.int64)
    target[5:25, 5:25] = 1
    pred = np.zeros_like(target)
    pred[14, 15] = 1
    ignore = np.zeros(target.shape, bool)
    (err,) = error_regions(target, ignore, pred, [0, 1])
    draws = ScriptedDraws([0, 189, 189, 0, 180, 180])
    s = simulate_scribble(err, target, ignore, pred, draws, tries=2)
    assert s.thickness == 3 and not draws.draws
    np.testing.assert_array_equal(s.points, [[14, 15], [14, 14]])

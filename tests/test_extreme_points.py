"""Extreme points on hand-built masks (robots.extreme_points; DEXTR-style simulation)."""

from __future__ import annotations

import numpy as np
import pytest

from iseg_bench.errors import SampleError, UsageError
from iseg_bench.robots.extreme_points import ExtremePointsRobot, extreme_points


def test_diamond_has_unique_extreme_points():
    mask = np.zeros((21, 21), bool)
    for y in range(21):
        half = 10 - abs(y - 10)
        mask[y, 10 - half:10 + half + 1] = True
    pts = extreme_points(mask, np.random.default_rng(0))
    # order left, right, top, bottom; (y, x)
    assert pts.tolist() == [[10, 0], [10, 20], [0, 10], [20, 10]]


def test_rectangle_ties_are_on_the_edges_and_seeded():
    mask = np.zeros((30, 40), bool)
    mask[5:25, 8:33] = True
    seen_left_rows = set()
    for seed in range(20):
        pts = extreme_points(mask, np.random.default_rng(seed))
        (ly, lx), (ry, rx), (ty, tx), (by, bx) = pts
        assert lx == 8 and 5 <= ly <= 24
        assert rx == 32 and 5 <= ry <= 24
        assert ty == 5 and 8 <= tx <= 32
        assert by == 24 and 8 <= bx <= 32
        seen_left_rows.add(ly)
        again = extreme_points(mask, np.random.default_rng(seed))
        assert np.array_equal(pts, again)
    assert len(seen_left_rows) > 1  # ties are broken by the seed, not always the same pixel


def test_tolerance_admits_near_ties_only():
    mask = np.zeros((20, 20), bool)
    mask[10, 2] = True          # the strict left-most pixel
    mask[4:16, 4:15] = True     # the body, 2 px further right
    strict = extreme_points(mask, np.random.default_rng(1), tolerance=0)
    assert strict[0].tolist() == [10, 2]
    xs = {extreme_points(mask, np.random.default_rng(s), tolerance=2)[0][1] for s in range(30)}
    assert xs <= {2, 3, 4} and 4 in xs
    with pytest.raises(ValueError):
        extreme_points(mask, np.random.default_rng(0), tolerance=-1)


def test_points_lie_in_the_mask():
    rng = np.random.default_rng(5)
    for _ in range(10):
        mask = rng.random((25, 25)) > 0.7
        pts = extreme_points(mask, rng, tolerance=3).astype(int)
        assert mask[pts[:, 0], pts[:, 1]].all()


def test_robot_skips_ignored_pixels_and_tags_regions():
    target = np.zeros((10, 12), np.int32)
    target[:, :6] = 1
    target[:, 6:] = 2
    ignore = np.zeros_like(target, bool)
    ignore[:, 0] = True         # region 1's left column is ignored
    eps = ExtremePointsRobot().annotate(target, ignore, [1, 2], np.random.default_rng(0))
    assert [e.region for e in eps] == [1, 2]
    assert eps[0].points[0, 1] == 1     # left-most non-ignored column
    assert eps[1].points[1, 1] == 11
    with pytest.raises(SampleError):
        extreme_points(np.zeros((4, 4), bool), np.random.default_rng(0))


def test_robot_options_are_checked():
    assert ExtremePointsRobot(2).describe() == {"name": "extreme-points", "tolerance": 2}
    with pytest.raises(UsageError, match="tolerance"):
        ExtremePointsRobot(-1)


def test_error_messages_name_the_problem():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="^tolerance must be >= 0, got -1$"):
        extreme_points(np.ones((2, 2), bool), rng, -1)
    with pytest.raises(SampleError, match="^cannot place extreme points on an empty region$"):
        extreme_points(np.zeros((2, 2), bool), rng)
    with pytest.raises(UsageError, match="^extreme points: option tolerance must be a "
                                         "number, got 'x'$"):
        ExtremePointsRobot(tolerance="x")


def test_robot_passes_its_tolerance_on():
    # region 1: column 0 holds only (2, 0); column 1 holds rows 0..4. With tolerance 0 the
    # left point is always (2, 0); with tolerance 1 any of the 6 pixels of columns 0-1
    target = np.zeros((5, 4), np.int32)
    target[:, 1:4] = 1
    target[2, 0] = 1
    ignore = np.zeros(target.shape, bool)
    lefts = {0: set(), 1: set()}
    for tol in (0, 1):
        robot = ExtremePointsRobot(tolerance=tol)
        for seed in range(30):
            (pts,) = robot.annotate(target, ignore, [1], np.random.default_rng(seed))
            lefts[tol].add(tuple(pts.points[0].tolist()))
    assert lefts[0] == {(2.0, 0.0)}
    assert (2.0, 0.0) in lefts[1] and any(x == 1.0 for _, x in lefts[1])
    assert all(x <= 1.0 for _, x in lefts[1])

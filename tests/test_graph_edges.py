"""Tests for the first steps of ScribbleSeg Alg. 1 in iseg_bench.geometry.graph_paths: the
medial axis (against skimage's own ``medial_axis``) and the radius-neighbour graph (against
hand-computed edge lists and SciPy's k-d tree), including the documented dispatch between the
fast paths and the library fallbacks. No expectation comes from the code under test."""

from __future__ import annotations

import math

import numpy as np
import pytest
import skimage.morphology
from scipy.spatial import cKDTree
from skimage.morphology import medial_axis as sk_medial_axis

from iseg_bench.geometry import graph_paths as gp

R2 = math.sqrt(2.0)


def _edges(points, radius=R2):
    i, j, w = gp.radius_graph_edges(points, radius)
    return list(zip(i.tolist(), j.tolist())), w


@pytest.fixture
def skimage_calls(monkeypatch):
    """Counts the calls of skimage's public medial_axis (the fallback of gp.medial_axis)."""
    calls = []

    def counted(mask, rng=None):
        calls.append(mask.shape)
        return sk_medial_axis(mask, rng=rng)

    monkeypatch.setattr(skimage.morphology, "medial_axis", counted)
    return calls


# ---------------------------------------------------------------------------------------
# medial_axis
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", range(6))
def test_medial_axis_thin_arrays_equal_skimage(seed):
    # arrays with a side of 1 or 2 px go through the fast path too
    rng = np.random.default_rng(100 + seed)
    for shape in [(1, 30), (2, 30), (30, 2), (2, 2), (1, 1)]:
        mask = rng.random(shape) < 0.7
        mask.flat[int(rng.integers(mask.size))] = False       # at least one background px
        assert np.array_equal(gp.medial_axis(mask, seed), sk_medial_axis(mask, rng=seed))


def test_medial_axis_fallbacks_equal_skimage_with_the_seed():
    # no background pixel in the array: scipy's EDT (skimage's) does not measure to the
    # background there, so skimage itself is called
    for shape in [(4, 4), (7, 9), (3, 1)]:
        mask = np.ones(shape, dtype=bool)
        assert np.array_equal(gp.medial_axis(mask, 1), sk_medial_axis(mask, rng=1))
    # a side >= 2048 px: 2 x 1 px blocks whose kept pixel depends on the seed
    rng = np.random.default_rng(3)
    wide = np.zeros((4, 2048), dtype=bool)
    wide[1:3] = rng.random(2048) < 0.8
    results = [gp.medial_axis(wide, seed) for seed in range(3)]
    for seed, got in enumerate(results):
        assert np.array_equal(got, sk_medial_axis(wide, rng=seed))
    assert len({r.tobytes() for r in results}) == 3


def test_medial_axis_of_empty_and_single_pixel_masks():
    empty = np.zeros((5, 6), dtype=bool)
    assert not gp.medial_axis(empty).any() and gp.medial_axis(empty).shape == (5, 6)
    one = empty.copy()
    one[2, 3] = True
    assert np.array_equal(gp.medial_axis(one), one)      # a lone pixel is its own axis


def test_medial_axis_reads_any_nonzero_value_as_foreground():
    # a 5 x 9 bar of 0.5 inside zeros: the axis of a rectangle, by hand (the points with
    # two nearest sides): the middle row, and the four 45-degree corner bisectors
    bar = np.zeros((9, 13))
    bar[2:7, 2:11] = 0.5
    expected = np.zeros(bar.shape, dtype=bool)
    expected[4, 4:9] = True
    for k in range(2):
        expected[2 + k, [2 + k, 10 - k]] = True
        expected[6 - k, [2 + k, 10 - k]] = True
    got = gp.medial_axis(bar)
    assert got.dtype == bool and np.array_equal(got, expected)


def test_medial_axis_uses_cached_tables_below_2048_px(skimage_calls):
    mask = np.zeros((3, 2047), dtype=bool)
    mask[1, 1:-1] = True
    assert np.array_equal(gp.medial_axis(mask), mask)     # a 1 px line is its own axis
    small = np.zeros((3, 3), dtype=bool)
    small[1, 1] = True
    gp.medial_axis(small)
    assert skimage_calls == []
    # documented fallbacks: a side >= 2048 px, or no background pixel
    wide = np.zeros((3, 2048), dtype=bool)
    wide[1, 1:-1] = True
    assert np.array_equal(gp.medial_axis(wide), wide)
    gp.medial_axis(np.ones((4, 4), dtype=bool))
    assert skimage_calls == [(3, 2048), (4, 4)]


def test_medial_axis_tables_present():
    # the fast path needs skimage's private helpers (present in the pinned skimage)
    gp._medial_axis_tables.cache_clear()
    tables = gp._medial_axis_tables()
    assert tables is not None
    table, cornerness = tables
    # bit 4 is the centre of the 3x3 pattern (bit k = row k // 3, column k % 3)
    assert table[1 << 4] == 1                             # a lone pixel is kept
    assert table[0b111_111_111] == 0                      # an interior pixel is removable
    assert table[(1 << 3) | (1 << 4) | (1 << 5)] == 1     # middle of a line: joins two ends
    assert table[(1 << 3)] == 0                           # centre background: never kept
    assert cornerness[0] == 9 and cornerness[0b111_111_111] == 0


# ---------------------------------------------------------------------------------------
# radius_graph_edges
# ---------------------------------------------------------------------------------------

def test_radius_must_be_positive():
    for radius in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="radius must be > 0"):
            gp.radius_graph_edges(np.array([[0, 0], [0, 1]]), radius)


def test_fewer_than_two_points_give_no_edge():
    for pts in (np.zeros((0, 2)), np.array([[3, 4]]), np.array([[0.5, 0.25]])):
        i, j, w = gp.radius_graph_edges(pts)
        assert (len(i), len(j), len(w)) == (0, 0, 0)
        assert (i.dtype, j.dtype, w.dtype) == (np.int64, np.int64, np.float64)


def test_two_points():
    assert _edges(np.array([[5, 7], [4, 8]])) == ([(0, 1)], pytest.approx([R2]))
    assert _edges(np.array([[5, 7], [5, 9]])) == ([], pytest.approx([]))
    i, j, w = gp.radius_graph_edges(np.array([[5, 7], [5, 8]]))
    assert (i.dtype, j.dtype, w.dtype) == (np.int64, np.int64, np.float64)


def test_eight_neighbours_with_negative_coordinates_in_any_order():
    # node: 0 (-1, -1), 1 (0, 0), 2 (-1, 1), 3 (5, -3), 4 (0, -1), 5 (-2, -3)
    pts = np.array([[-1, -1], [0, 0], [-1, 1], [5, -3], [0, -1], [-2, -3]])
    edges, w = _edges(pts)
    assert edges == [(0, 1), (0, 4), (1, 2), (1, 4)]
    assert w == pytest.approx([R2, 1.0, R2, 1.0])


def test_row_ends_do_not_wrap():
    # the last column of one row and the first of the next are 2 columns x 1 row apart...
    pts = np.array([[0, 0], [0, 1], [0, 2], [1, 0], [-1, 2]])
    edges, _ = _edges(pts)
    assert edges == [(0, 1), (0, 3), (1, 2), (1, 3), (1, 4), (2, 4)]
    # ...and one column further they are still no neighbours
    assert _edges(np.array([[0, 3], [1, 0]]))[0] == []
    assert _edges(np.array([[0, 0], [1, 3]]))[0] == []


def test_unsigned_coordinates():
    # uint8 differences would wrap around (0 - 1 = 255)
    edges, w = _edges(np.array([[0, 0], [0, 1], [1, 1]], dtype=np.uint8))
    assert edges == [(0, 1), (0, 2), (1, 2)]
    assert w == pytest.approx([1.0, R2, 1.0])


def test_repeated_points_are_joined_at_distance_zero():
    edges, w = _edges(np.array([[0, 0], [0, 1], [0, 0], [7, 7]]))
    assert edges == [(0, 1), (0, 2), (1, 2)]
    assert w == pytest.approx([1.0, 0.0, 1.0])
    assert _edges(np.array([[2, 2], [2, 2]])) == ([(0, 1)], pytest.approx([0.0]))
    # a repeat that is not the first point in raster order
    edges, w = _edges(np.array([[0, 0], [0, 1], [0, 1]]))
    assert edges == [(0, 1), (0, 2), (1, 2)] and w == pytest.approx([1.0, 1.0, 0.0])


def test_radius_is_inclusive():
    square = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    edges, w = _edges(square, 1.0)
    assert edges == [(0, 1), (0, 2), (1, 3), (2, 3)] and w == pytest.approx([1.0] * 4)
    # distance exactly 2 joins at radius 2; sqrt(5) joins at 2.5, not at 2
    pts = np.array([[0, 0], [0, 2], [2, 0], [1, 2]])
    assert _edges(pts, 2.0)[0] == [(0, 1), (0, 2), (1, 3)]
    assert _edges(pts, 2.5)[0] == [(0, 1), (0, 2), (0, 3), (1, 3), (2, 3)]
    assert _edges(pts, 1.99)[0] == [(1, 3)]


def test_float_points_against_kdtree():
    rng = np.random.default_rng(5)
    pts = rng.uniform(-4, 4, size=(60, 2))
    for radius in (R2, 1.0, 1.7):
        i, j, w = gp.radius_graph_edges(pts, radius)
        ref = sorted(tuple(sorted(p)) for p in cKDTree(pts).query_pairs(radius + 1e-9))
        assert list(zip(i.tolist(), j.tolist())) == ref
        assert w == pytest.approx([math.dist(pts[a], pts[b]) for a, b in ref])


def test_distinct_integer_points_skip_the_kdtree(monkeypatch):
    """Documented fast path: distinct integer points with sqrt(2) <= radius < 2 use the
    8-neighbourhood; anything else (repeats, non-integers, other radii) the k-d tree."""
    used = []

    class Spy(cKDTree):
        def __init__(self, data):
            used.append(len(data))
            super().__init__(data)

    monkeypatch.setattr(gp, "cKDTree", Spy)
    pts = np.array([[0, 0], [0, 1], [1, 1], [3, 3]])
    # the lower bound has the same slack as the radius itself: r + RADIUS_EPS >= sqrt(2)
    for radius in (R2, 1.9, gp.DEFAULT_RADIUS - gp.RADIUS_EPS):
        assert _edges(pts, radius)[0] == [(0, 1), (0, 2), (1, 2)]
    assert _edges(pts[:1])[0] == []
    assert used == []
    _edges(pts, 2.0)
    _edges(pts + 0.5)
    _edges(np.array([[0, 0], [0, 0]]))
    _edges(pts, 1.0)
    assert used == [4, 4, 2, 4]

"""iseg_bench.geometry on its own: component labelling, the largest-error-region rule and
the chain helpers, against direct (slow) computations."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import ndimage as ndi

from iseg_bench.geometry import (
    component_at,
    deepest_point,
    erode,
    footprint_radius,
    interaction_pixels,
    label_components,
    largest_error_region,
    longest_run,
    padded_distance,
    pixels_inside,
    polyline_length,
    rasterize_stroke,
    stroke_footprint,
    stroke_inside,
)
from iseg_bench.types import Box, Click, ExtremePoints, Scribble

MASKS = arrays(bool, st.tuples(st.integers(1, 24), st.integers(1, 24)))
EIGHT = np.ones((3, 3), bool)


@settings(max_examples=150, deadline=None)
@given(MASKS, st.booleans())
def test_components_match_scipy_labelling(mask, crop):
    comps = label_components(mask, crop=crop)
    ref, n = ndi.label(mask, EIGHT)
    assert comps.count == n
    found = set()
    for k in range(1, comps.count + 1):
        m = comps.mask(k)
        assert comps.sizes[k] == m.sum()
        ys, xs = np.nonzero(m)
        assert comps.first_pixel(k) == ys[0] * mask.shape[1] + xs[0]
        assert comps.box(k) == (ys.min(), xs.min(), ys.max() + 1, xs.max() + 1)
        label = ref[ys[0], xs[0]]
        assert np.array_equal(m, ref == label)
        found.add(int(label))
    assert found == set(range(1, n + 1))


@settings(max_examples=150, deadline=None)
@given(MASKS, st.data())
def test_largest_error_region_rule(target, data):
    pred = data.draw(arrays(bool, target.shape))
    got = largest_error_region(target, np.zeros_like(target), pred)
    candidates = []
    for is_positive, err in ((True, target & ~pred), (False, ~target & pred)):
        ref, n = ndi.label(err, EIGHT)
        for k in range(1, n + 1):
            m = ref == k
            candidates.append((-int(m.sum()), not is_positive, int(np.argmax(m)), m))
    if not candidates:
        assert got is None
        return
    size, not_positive, _, m = min(candidates, key=lambda c: c[:3])
    assert got is not None and got.is_positive is (not not_positive)
    assert np.array_equal(got.mask, m) and not got.fully_clicked


def test_fully_clicked_regions_are_passed_over_until_all_are():
    target = np.zeros((8, 8), bool)
    target[0:3, 0:3] = True     # 9 px
    target[5:7, 5:7] = True     # 4 px
    none = np.zeros_like(target)
    ys, xs = np.nonzero(target[:3, :3])
    got = largest_error_region(target, none, none, clicked=(ys, xs))
    assert got is not None and got.mask.sum() == 4 and not got.fully_clicked
    ys, xs = np.nonzero(target)
    got = largest_error_region(target, none, none, clicked=(ys, xs))
    assert got is not None and got.mask.sum() == 9 and got.fully_clicked


def test_chain_helpers():
    chain = np.array([[0, 0], [0, 1], [1, 2], [5, 5], [2, 2], [2, 3], [2, 4], [9, 9]])
    mask = np.ones((6, 6), bool)
    mask[5, 5] = False
    ok = pixels_inside(chain, mask)
    assert ok.tolist() == [True, True, True, False, True, True, True, False]
    # runs of 3 pixels: the first is 1 + sqrt(2) px long, the second 2 px
    assert longest_run(chain, ok).tolist() == [[0, 0], [0, 1], [1, 2]]
    # equal lengths: the first run wins
    assert longest_run(chain[[0, 1, 3, 4, 5]], ok[[0, 1, 3, 4, 5]]).tolist() == [[0, 0], [0, 1]]
    assert longest_run(chain, np.zeros(len(chain), bool)) is None
    assert polyline_length(np.array([[0.0, 0.0], [3.0, 4.0]])) == 5.0
    assert polyline_length(np.array([[1.0, 1.0]])) == 0.0


# --- Tests written against the mutation report (docs/testing.md, "Mutation testing") ---


def test_padded_distance_by_hand():
    # a 3 x 5 block away from the border: 1 on its outline, 2 on the inner row's middle
    mask = np.zeros((7, 9), bool)
    mask[2:5, 2:7] = True
    expected = np.zeros((7, 9), np.float32)
    expected[2:5, 2:7] = 1
    expected[3, 3:6] = 2
    got = padded_distance(mask)
    assert got.dtype == np.float32 and got.shape == (7, 9)
    np.testing.assert_array_equal(got, expected)
    # a block in the corner: the outside of the image is background one pixel away
    corner = np.zeros((5, 5), bool)
    corner[:3, :3] = True
    expected = np.zeros((5, 5), np.float32)
    expected[:3, :3] = 1
    expected[1, 1] = 2
    np.testing.assert_array_equal(padded_distance(corner), expected)
    # exact Euclidean: the only background pixel (0, 0) is sqrt(2) from (1, 1)
    full = np.ones((7, 7), bool)
    full[0, 0] = False
    assert padded_distance(full)[1, 1] == np.float32(np.sqrt(2))


def test_deepest_point_by_hand():
    mask = np.zeros((7, 9), bool)
    mask[2:5, 2:7] = True                      # distance 2 at (3, 3), (3, 4), (3, 5)
    none = np.zeros(0, np.int64)
    assert deepest_point(mask, none, none) == (2.0, (3, 3))
    assert deepest_point(mask, np.array([3]), np.array([3])) == (2.0, (3, 4))
    ys, xs = np.nonzero(mask)                   # every pixel excluded: the documented (0, 0)
    value, (y, x) = deepest_point(mask, ys, xs)
    assert (value, y, x) == (0.0, 0, 0) and type(y) is int and type(x) is int
    # excluded pixels just past the block's last column or row (earlier clicks elsewhere
    # in the image) change nothing
    assert deepest_point(mask, np.array([3, 5]), np.array([7, 4])) == (2.0, (3, 3))
    assert deepest_point(np.zeros((4, 4), bool), none, none) == (0.0, (0, 0))


def test_padded_distance_passes_the_chamfer_mask_on():
    # OpenCV's 3x3 L2 chamfer mask weighs a straight step 0.955 (its documented a), so the
    # centre of a 5 x 5 block, 3 straight steps from the outside, gets 3 * 0.955, not 3
    block = np.ones((5, 5), bool)
    assert padded_distance(block)[2, 2] == 3.0
    assert padded_distance(block, cv2.DIST_MASK_3)[2, 2] == pytest.approx(3 * 0.955, abs=1e-3)


def test_interaction_pixels_by_hand():
    click = interaction_pixels(Click(3, 5, True), (10, 10))
    assert click.dtype == np.int64 and click.tolist() == [[3, 5]]
    pts = interaction_pixels(ExtremePoints(np.array([[1.4, 2.6], [0.2, 8.0], [9.0, 4.4],
                                                     [5.0, 0.3]])), (10, 10))
    assert pts.dtype == np.int64 and pts.tolist() == [[1, 3], [0, 8], [9, 4], [5, 0]]
    box = interaction_pixels(Box(7, 9, 8, 9), (10, 10))
    assert box.dtype == np.int64 and box.tolist() == [[7, 9], [8, 9]]
    # NumPy int32 coordinates (a robot's argwhere) still give int64
    i32 = np.int32
    click = interaction_pixels(Click(i32(3), i32(5), True), (10, 10))
    assert click.dtype == np.int64 and click.tolist() == [[3, 5]]
    box = interaction_pixels(Box(i32(1), i32(2), i32(4), i32(6)), (10, 10))
    assert box.dtype == np.int64 and box.tolist() == [[1, 2], [4, 6]]
    # a scribble: its painted pixels, row by row (the cross of thickness 3 at (0, 1), clipped)
    dot = interaction_pixels(Scribble(np.array([[0.0, 1.0]]), True, 3), (10, 10))
    assert dot.tolist() == [[0, 0], [0, 1], [0, 2], [1, 1]]
    assert interaction_pixels(Box(2, 3, 2, 3), (10, 10)).tolist() == [[2, 3]]
    with pytest.raises(TypeError, match="^unknown interaction str$"):
        interaction_pixels("click", (10, 10))  # type: ignore[arg-type]


def test_footprint_radius_by_hand():
    # docs/robots/scribbler.md: rho^2 = 0, 1, 1, 5, 5, 10 for thickness 1, 2, 3, 4, 5, 7
    for thickness, rho2 in ((1, 0), (2, 1), (3, 1), (4, 5), (5, 5), (7, 10)):
        assert footprint_radius(thickness) == np.sqrt(rho2)


def test_polyline_length_by_hand():
    assert polyline_length(np.array([[2.0, 2.0]])) == 0.0
    assert polyline_length(np.array([[0.0, 0.0], [3.0, 4.0]])) == 5.0
    assert np.isclose(polyline_length(np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 2.0]])),
                      1 + np.sqrt(2))


def test_stroke_inside_needs_every_vertex_in_the_image():
    allowed = np.ones((6, 8), bool)
    assert stroke_inside(np.array([[0.0, 0.0], [5.0, 7.0]]), 1, allowed)
    assert stroke_inside(np.array([[-0.4, 0.0]]), 1, allowed)        # rounds to row 0
    for outside in ([-1.0, 2.0], [2.0, -1.0], [6.0, 2.0], [2.0, 8.0]):
        assert not stroke_inside(np.array([[2.0, 2.0], outside]), 1, allowed)
    hole = allowed.copy()
    hole[2, 3] = False
    assert not stroke_inside(np.array([[2.0, 1.0], [2.0, 5.0]]), 1, hole)


def test_component_at_by_hand():
    mask = np.zeros((4, 4), bool)
    mask[0, 0] = mask[1, 1] = mask[3, 3] = True          # (0, 0) and (1, 1) touch diagonally
    off = component_at(mask, 2, 2)
    assert off.dtype == bool and not off.any()
    eight = component_at(mask, 0, 0)
    assert eight.dtype == bool and sorted(zip(*np.nonzero(eight))) == [(0, 0), (1, 1)]
    assert sorted(zip(*np.nonzero(component_at(mask, 0, 0, 4)))) == [(0, 0)]


def _pixels(mask):
    return sorted(zip(*(a.tolist() for a in np.nonzero(mask))))


def test_rasterize_stroke_by_hand():
    shape = (5, 8)                           # not square: rows and columns cannot swap
    # one point: its rounded pixel, (y, x) order; points outside the canvas paint nothing
    assert _pixels(rasterize_stroke(np.array([[1.4, 6.6]]), 1, shape)) == [(1, 7)]
    assert _pixels(rasterize_stroke(np.array([[0.0, 0.0]]), 0, shape)) == [(0, 0)]
    assert _pixels(rasterize_stroke(np.array([[4.0, 7.0]]), -3, shape)) == [(4, 7)]
    for outside in ([-1.0, 2.0], [2.0, -1.0], [5.0, 2.0], [2.0, 8.0], [7.0, 7.0]):
        got = rasterize_stroke(np.array([outside]), 1, shape)
        assert got.dtype == bool and got.shape == shape and not got.any()
    # thickness 1: the 8-connected centre line (a diagonal is one pixel per row, not a staircase)
    diagonal = rasterize_stroke(np.array([[0.0, 0.0], [3.0, 3.0]]), 1, shape)
    assert _pixels(diagonal) == [(0, 0), (1, 1), (2, 2), (3, 3)]
    # a slope of 1/3: y = x / 3 rounds to 0, 0, 1, 1
    shallow = rasterize_stroke(np.array([[0.0, 0.0], [1.0, 3.0]]), 1, shape)
    assert _pixels(shallow) == [(0, 0), (0, 1), (1, 2), (1, 3)]
    # two segments, the corner drawn once; the part outside the canvas clipped
    corner = rasterize_stroke(np.array([[1.0, 2.0], [1.0, 5.0], [7.0, 5.0]]), 1, shape)
    assert _pixels(corner) == [(1, 2), (1, 3), (1, 4), (1, 5), (2, 5), (3, 5), (4, 5)]
    # a line from outside the canvas into it
    enter = rasterize_stroke(np.array([[2.0, -3.0], [2.0, 1.0]]), 1, shape)
    assert _pixels(enter) == [(2, 0), (2, 1)]
    # thickness 3: the centre line dilated by the 3 x 3 cross (OpenCV's 3 x 3 ellipse)
    thick = rasterize_stroke(np.array([[2.0, 2.0], [2.0, 4.0]]), 3, shape)
    expected = np.zeros(shape, bool)
    expected[1:4, 2:5] = True
    expected[2, 1] = expected[2, 5] = True
    np.testing.assert_array_equal(thick, expected)
    # thickness 5 around one point: OpenCV's 5 x 5 ellipse, rows 1-3 full, rows 0 and 4 the
    # middle pixel only (17 pixels)
    disc = rasterize_stroke(np.array([[2.0, 3.0]]), 5, shape)
    expected = np.zeros(shape, bool)
    expected[1:4, 1:6] = True
    expected[0, 3] = expected[4, 3] = True
    np.testing.assert_array_equal(disc, expected)


def test_pixels_inside_every_edge():
    mask = np.ones((4, 7), bool)
    mask[2, 3] = False
    chain = np.array([[0, 0], [3, 6], [0, 6], [3, 0], [2, 3],       # inside (one not in mask)
                      [-1, 0], [0, -1], [4, 0], [0, 7], [4, 2], [-1, 6]])
    assert pixels_inside(chain, mask).tolist() == [True] * 4 + [False] * 7
    # a chain inside the image but rows >= the column count: no fast path may swap axes
    tall = np.ones((7, 3), bool)
    assert pixels_inside(np.array([[6, 0], [5, 2]]), tall).tolist() == [True, True]
    assert pixels_inside(np.array([[1, 3]]), tall).tolist() == [False]
    assert pixels_inside(np.zeros((0, 2), np.int64), mask).tolist() == []


def test_longest_run_by_hand():
    line = np.array([[0, k] for k in range(5)])
    whole = np.ones(5, bool)
    assert longest_run(line, whole).tolist() == line.tolist()
    tail = np.array([False, False, True, True, True])     # a run at the very end
    assert longest_run(line, tail).tolist() == line[2:].tolist()
    head = np.array([True, True, False, True, False])     # at the very start
    assert longest_run(line, head).tolist() == line[:2].tolist()
    # the step out of a run is not part of it: run A (1 px) is followed by a 10.6 px jump,
    # run B is 2 px long
    chain = np.array([[0, 0], [0, 1], [8, 8], [8, 9], [8, 10], [8, 11]])
    ok = np.array([True, True, False, True, True, True])
    assert longest_run(chain, ok).tolist() == [[8, 9], [8, 10], [8, 11]]
    # every step inside counts, the last one too: A = 2 px, B = 1 + sqrt(2) px
    chain = np.array([[0, 0], [0, 1], [0, 2], [9, 9], [5, 0], [5, 1], [6, 2]])
    ok = np.array([True, True, True, False, True, True, True])
    assert longest_run(chain, ok).tolist() == [[5, 0], [5, 1], [6, 2]]
    # and the first one: A = sqrt(2) + 1 px, B = 2 px
    chain = np.array([[0, 0], [1, 1], [1, 2], [9, 9], [5, 0], [5, 1], [5, 2]])
    assert longest_run(chain, ok).tolist() == [[0, 0], [1, 1], [1, 2]]
    # a single ok pixel is a run of length 0
    assert longest_run(line, np.array([False, False, False, True, False])).tolist() == [[0, 3]]


def test_polyline_length_of_no_points():
    assert polyline_length(np.zeros((0, 2))) == 0.0


def test_erode_by_hand():
    mask = np.zeros((5, 7), bool)
    mask[1:4, 1:6] = True                        # a 3 x 5 block
    cross = stroke_footprint(3)
    assert cross.tolist() == [[0, 1, 0], [1, 1, 1], [0, 1, 0]]
    expected = np.zeros_like(mask)
    expected[2, 2:5] = True
    got = erode(mask, cross)
    assert got.dtype == bool
    np.testing.assert_array_equal(got, expected)
    # outside the image does not erode: a block on the top-left corner keeps its corner row
    corner = np.zeros((4, 4), bool)
    corner[:2, :3] = True
    expected = np.zeros_like(corner)
    expected[0, :2] = True
    np.testing.assert_array_equal(erode(corner, cross), expected)
    one = stroke_footprint(1)                     # thickness 1: the identity
    np.testing.assert_array_equal(erode(mask, one), mask)


def _mask(shape, pixels):
    out = np.zeros(shape, bool)
    for y, x in pixels:
        out[y, x] = True
    return out


def test_label_components_window_and_connectivity():
    mask = _mask((6, 7), [(2, 1), (3, 2), (3, 5)])            # a diagonal pair and a pixel
    comps = label_components(mask)
    # cropped (the default): the labels cover the bounding box, rows 2-3 and columns 1-5
    assert comps.origin == (2, 1) and comps.labels.shape == (2, 5) and comps.count == 2
    assert comps.shape == (6, 7)
    whole = label_components(mask, crop=False)
    assert whole.origin == (0, 0) and whole.labels.shape == (6, 7) and whole.count == 2
    cross = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], bool)
    for crop in (True, False):
        four = label_components(mask, crop=crop, connectivity=4)
        ref, n = ndi.label(mask, cross)
        assert four.count == n == 3
        assert sorted(four.mask(k).sum() for k in (1, 2, 3)) == [1, 1, 1]
    empty = label_components(np.zeros((3, 4), bool))
    assert empty.count == 0 and empty.sizes.tolist() == [0]


def test_largest_error_region_ties_by_hand():
    none = np.zeros((4, 8), bool)
    # docs/robots/dios-clicker.md: two FN regions of 2 px; A starts first in raster order,
    # B lies in the first 2 x 2 block OpenCV's labelling scans, so B has label 1
    a, b = [(0, 5), (0, 6)], [(1, 0), (1, 1)]
    target = _mask((4, 8), a + b)
    got = largest_error_region(target, none, none)
    assert got.is_positive and np.array_equal(got.mask, _mask((4, 8), a))
    got = largest_error_region(target, none, none, order="label")
    assert np.array_equal(got.mask, _mask((4, 8), b))
    # one row lower, A's pixels are in the first block row of the whole image: label 1
    # (labels of the whole image, not of the error's bounding box, where B would be first)
    a1, b1 = [(1, 5), (1, 6)], [(2, 0), (2, 1)]
    got = largest_error_region(_mask((4, 8), a1 + b1), none, none, order="label")
    assert np.array_equal(got.mask, _mask((4, 8), a1))
    # FN against FP of equal size: FN first unless ties="fp", wherever they lie
    fp, fn = [(0, 0), (0, 1)], [(3, 6), (3, 7)]
    target = _mask((4, 8), fn)
    pred = _mask((4, 8), fp)
    for order in ("first_pixel", "label"):
        got = largest_error_region(target, none, pred, order=order)
        assert got.is_positive and np.array_equal(got.mask, target)
        got = largest_error_region(target, none, pred, order=order, ties="fn")
        assert got.is_positive
        got = largest_error_region(target, none, pred, order=order, ties="fp")
        assert not got.is_positive and np.array_equal(got.mask, pred)
    # size first: a 3-px FP beats a 2-px FN under either tie rule
    big_fp = _mask((4, 8), fp + [(0, 2)])
    for ties in ("fn", "fp"):
        got = largest_error_region(target, none, big_fp, ties=ties)
        assert not got.is_positive and np.array_equal(got.mask, big_fp)
    # 8-connectivity: a diagonal-only FN region of 3 px beats a straight FP region of 2 px
    diagonal = _mask((5, 5), [(0, 0), (1, 1), (2, 2)])
    straight = _mask((5, 5), [(4, 0), (4, 1)])
    for order in ("first_pixel", "label"):
        got = largest_error_region(diagonal, np.zeros((5, 5), bool), straight, order=order)
        assert got.is_positive and np.array_equal(got.mask, diagonal)
    with pytest.raises(ValueError, match="^order must be 'first_pixel' or 'label', got 'raster'$"):
        largest_error_region(target, none, pred, order="raster")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="^ties must be 'fn' or 'fp', got 'FP'$"):
        largest_error_region(target, none, pred, ties="FP")  # type: ignore[arg-type]


def test_clicked_regions_in_an_offset_window():
    # FN regions A (3 x 3 at rows 4-6, columns 3-5) and B (2 px at row 1): the FN bounding
    # box starts at (1, 3); clicks also fall outside it
    a = [(y, x) for y in range(4, 7) for x in range(3, 6)]
    b = [(1, 6), (1, 7)]
    target = _mask((8, 8), a + b)
    none = np.zeros_like(target)
    outside = [(0, 0), (7, 0)]
    for order in ("first_pixel", "label"):
        clicks = a + outside
        ys, xs = np.array(clicks).T
        got = largest_error_region(target, none, none, order=order, clicked=(ys, xs))
        assert got.is_positive and not got.fully_clicked
        assert np.array_equal(got.mask, _mask((8, 8), b))
        # A short of one pixel is still fresh, and larger
        ys, xs = np.array(a[1:] + b + outside).T
        got = largest_error_region(target, none, none, order=order, clicked=(ys, xs))
        assert not got.fully_clicked and np.array_equal(got.mask, _mask((8, 8), a))
        # every region clicked (and a correct pixel inside the box, (2, 4)): the largest,
        # marked fully clicked
        ys, xs = np.array(a + b + outside + [(2, 4)]).T
        got = largest_error_region(target, none, none, order=order, clicked=(ys, xs))
        assert got.fully_clicked and np.array_equal(got.mask, _mask((8, 8), a))
    # two 1-px regions, both clicked, and a clicked correct pixel between them: the first
    dots = _mask((4, 4), [(0, 0), (2, 2)])
    ys, xs = np.array([(0, 0), (2, 2), (0, 2)]).T
    for order in ("first_pixel", "label"):
        got = largest_error_region(dots, np.zeros_like(dots), np.zeros_like(dots), order=order,
                                   clicked=(ys, xs))
        assert got.fully_clicked and np.array_equal(got.mask, _mask((4, 4), [(0, 0)]))

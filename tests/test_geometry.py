"""iseg_bench.geometry on its own: component labelling, the largest-error-region rule and
the chain helpers, against direct (slow) computations."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import ndimage as ndi

from iseg_bench.geometry import (
    component_at,
    deepest_point,
    footprint_radius,
    interaction_pixels,
    label_components,
    largest_error_region,
    longest_run,
    padded_distance,
    pixels_inside,
    polyline_length,
    stroke_inside,
)
from iseg_bench.types import Box, Click, ExtremePoints

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
    assert deepest_point(np.zeros((4, 4), bool), none, none) == (0.0, (0, 0))


def test_interaction_pixels_by_hand():
    click = interaction_pixels(Click(3, 5, True), (10, 10))
    assert click.dtype == np.int64 and click.tolist() == [[3, 5]]
    pts = interaction_pixels(ExtremePoints(np.array([[1.4, 2.6], [0.2, 8.0], [9.0, 4.4],
                                                     [5.0, 0.3]])), (10, 10))
    assert pts.dtype == np.int64 and pts.tolist() == [[1, 3], [0, 8], [9, 4], [5, 0]]
    box = interaction_pixels(Box(7, 9, 8, 9), (10, 10))
    assert box.dtype == np.int64 and box.tolist() == [[7, 9], [8, 9]]
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

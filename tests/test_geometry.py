"""iseg_bench.geometry on its own: component labelling, the largest-error-region rule and
the chain helpers, against direct (slow) computations."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import ndimage as ndi

from iseg_bench.geometry import (
    deepest_point,
    label_components,
    largest_error_region,
    longest_run,
    padded_distance,
    pixels_inside,
    polyline_length,
)

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

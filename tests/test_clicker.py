"""The reference clicker on hand-computed cases and against an independent implementation."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.ndimage import distance_transform_edt

from iseg_bench.errors import UsageError
from iseg_bench.geometry import largest_error_region
from iseg_bench.robots.clicker import CenterOfErrorClicker, LargestRegionCenterClicker
from iseg_bench.robots.registry import build_robot
from iseg_bench.types import Click

CLICKER = CenterOfErrorClicker()


def click(target, pred=None, ignore=None, history=()):
    pred = np.zeros_like(target) if pred is None else pred
    ignore = np.zeros_like(target) if ignore is None else ignore
    return CLICKER.next_interaction(target, ignore, pred, list(history))


def square(shape, y0, y1, x0, x1):
    m = np.zeros(shape, bool)
    m[y0:y1, x0:x1] = True
    return m


def test_first_click_at_interior_most_pixel_first_in_row_major_order():
    # rows 1-3, cols 1-5: distance 2 along the middle row at cols 2..4 -> first is (2, 2)
    assert click(square((5, 7), 1, 4, 1, 6)) == Click(2, 2, True)


def test_image_border_counts_as_boundary_one_pixel_outside():
    # the whole 3x4 image is the object: row 0 and 2 are at distance 1 from the outside,
    # the middle row at distance 2 (cols 1, 2): first is (1, 1)
    assert click(np.ones((3, 4), bool)) == Click(1, 1, True)
    # a 1-px column touching the left border: every pixel at distance 1 -> (0, 0)
    assert click(square((5, 5), 0, 5, 0, 1)) == Click(0, 0, True)


def test_tie_between_fn_and_fp_gives_a_negative_click():
    target = square((5, 5), 1, 2, 1, 2)
    pred = square((5, 5), 3, 4, 3, 4)
    assert click(target, pred) == Click(3, 3, False)


def test_fn_strictly_larger_wins():
    target = square((8, 8), 0, 4, 0, 4)   # FN 4x4 block, max distance 2
    pred = square((8, 8), 6, 7, 6, 7)     # FP single pixel, distance 1
    assert click(target, pred) == Click(1, 1, True)


def test_tie_in_location_goes_to_first_row_major_pixel():
    target = square((6, 9), 2, 5, 5, 8) | square((6, 9), 2, 5, 1, 4)
    assert click(target) == Click(3, 2, True)


def test_ignore_band_is_never_error_and_shapes_the_distance():
    target = square((7, 7), 1, 6, 1, 6)
    assert click(target) == Click(3, 3, True)       # without ignore: distance 3 at the centre
    ignore = square((7, 7), 1, 2, 0, 7)             # ignore the square's top row
    # FN is rows 2-5: max distance 2, first reached at (3, 2) (hand computed)
    assert click(target, ignore=ignore) == Click(3, 2, True)


def test_click_never_lands_on_ignored_pixels():
    target = np.ones((5, 5), bool)
    ignore = ~square((5, 5), 4, 5, 4, 5)            # only (4, 4) is scored
    assert click(target, ignore=ignore) == Click(4, 4, True)


def test_repeated_click_pixels_are_excluded():
    target = square((7, 7), 1, 6, 1, 6)
    first = click(target)
    assert first == Click(3, 3, True)
    # same prediction again: the centre is zeroed, the next maximum (2) is first at (2, 2)
    assert click(target, history=[first]) == Click(2, 2, True)


def test_no_error_left_gives_the_documented_negative_click_at_origin():
    target = square((4, 4), 1, 3, 1, 3)
    assert click(target, pred=target.copy()) == Click(0, 0, False)


def reference_click(target, pred, ignore, clicked):
    """Independent implementation with SciPy's exact EDT (float64) on the padded masks."""
    fn = target & ~pred & ~ignore
    fp = ~target & pred & ~ignore
    dists = []
    for m in (fn, fp):
        d = distance_transform_edt(np.pad(m, 1))[1:-1, 1:-1]
        for y, x in clicked:
            d[y, x] = 0
        dists.append(d)
    positive = dists[0].max() > dists[1].max()
    d = dists[0] if positive else dists[1]
    ys, xs = np.nonzero(d == d.max())
    return Click(int(ys[0]), int(xs[0]), bool(positive))


masks = arrays(bool, st.tuples(st.integers(1, 24), st.integers(1, 24)))


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_matches_an_independent_implementation(data):
    target = data.draw(masks)
    pred = data.draw(arrays(bool, target.shape))
    ignore = data.draw(arrays(bool, target.shape))
    n = data.draw(st.integers(0, 3))
    clicked = [(data.draw(st.integers(0, target.shape[0] - 1)),
                data.draw(st.integers(0, target.shape[1] - 1))) for _ in range(n)]
    history = [Click(y, x, True) for y, x in clicked]
    got = CLICKER.next_interaction(target, ignore, pred, history)
    assert got == reference_click(target, pred, ignore, clicked)


def test_dios_clicker_targets_the_largest_region_not_the_deepest():
    # two thin FN bars (area 12 each, depth 1) and a compact FP block (area 9, depth 2)
    target = square((12, 12), 0, 1, 0, 12) | square((12, 12), 11, 12, 0, 12)
    target |= square((12, 12), 5, 6, 0, 6)
    pred = target | square((12, 12), 6, 9, 7, 10)
    pred[0, :] = False
    pred[11, :] = False
    ref = CLICKER.next_interaction(target, np.zeros_like(target), pred, [])
    dios = LargestRegionCenterClicker().next_interaction(target, np.zeros_like(target), pred, [])
    assert ref == Click(7, 8, False)
    assert dios.is_positive and dios.y == 0


def test_dios_clicker_without_error_returns_fallback():
    t = square((4, 4), 1, 3, 1, 3)
    assert (LargestRegionCenterClicker().next_interaction(t, np.zeros_like(t), t, [])
            == Click(0, 0, False))


@pytest.mark.parametrize("robot", [CenterOfErrorClicker(), LargestRegionCenterClicker()])
def test_is_pure(robot):
    rng = np.random.default_rng(0)
    target, pred = rng.random((2, 30, 40)) > 0.5
    ignore = np.zeros_like(target)
    a = robot.next_interaction(target, ignore, pred, [])
    b = robot.next_interaction(target.copy(), ignore.copy(), pred.copy(), [])
    assert a == b


def test_dios_clicker_passes_over_a_region_whose_pixels_were_all_clicked():
    target = square((6, 10), 1, 2, 1, 3) | square((6, 10), 4, 5, 7, 8)  # 2 px and 1 px FN
    pred = np.zeros_like(target)
    none = np.zeros_like(target)
    robot = LargestRegionCenterClicker()
    spent = [Click(1, 1, True), Click(1, 2, True)]
    assert robot.next_interaction(target, none, pred, spent) == Click(4, 7, True)
    # once every region is spent, the largest is clicked again at its centre
    spent.append(Click(4, 7, True))
    assert robot.next_interaction(target, none, pred, spent) == Click(1, 1, True)


def test_dios_tie_goes_to_the_lower_opencv_label_not_the_row_major_first_region():
    # two FN regions of 2 px: A starts at (0, 5), B at (1, 0). OpenCV's default 8-connected
    # labelling scans 2 x 2 blocks, so B (block (0, 0)) gets label 1 although A comes first
    # in row-major order; the DIOS clicker follows the label, the scribbler's rule the pixel.
    target = np.zeros((6, 10), bool)
    target[0, 5:7] = True
    target[1, 0:2] = True
    none = np.zeros_like(target)
    assert LargestRegionCenterClicker().next_interaction(target, none, none, []) == Click(
        1, 0, True)
    by_label = largest_error_region(target, none, none, order="label")
    by_pixel = largest_error_region(target, none, none, order="first_pixel")
    assert by_label is not None and by_pixel is not None
    assert np.argwhere(by_label.mask).tolist() == [[1, 0], [1, 1]]
    assert np.argwhere(by_pixel.mask).tolist() == [[0, 5], [0, 6]]


@pytest.mark.parametrize("name", ["clicker", "dios-clicker"])
def test_click_robots_take_no_option(name):
    assert build_robot(name).describe() == {"name": name}
    with pytest.raises(UsageError, match=f"robot {name}: unknown option"):
        build_robot(name, foo=1)

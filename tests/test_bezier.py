"""geometry/bezier.py against independent expectations: the Bernstein form in exact rational
arithmetic (binomials from math.comb), the sampling and splitting rules of
docs/robots/scribbler.md section 7 recomputed here, and hand-computed small cases."""

import math
from fractions import Fraction

import numpy as np
import pytest

from iseg_bench.geometry import bezier_chain, bezier_curve


def exact_point(ctrl, t):
    """B(t) = sum_i C(n, i) t^i (1 - t)^(n - i) P_i, exactly (Fractions), as (y, x)."""
    n = len(ctrl) - 1
    t = Fraction(t)
    s = 1 - t
    y = x = Fraction(0)
    for i, (py, px) in enumerate(ctrl):
        w = math.comb(n, i) * t ** i * s ** (n - i)
        y += w * Fraction(float(py))
        x += w * Fraction(float(px))
    return y, x


def exact_curve(ctrl, ts):
    return np.array([[float(v) for v in exact_point(ctrl, t)] for t in ts])


def dedupe(points):
    out = []
    for p in points:
        if not out or out[-1] != p:
            out.append(p)
    return out


def rule_chain(ctrl):
    """The documented sampling of one piece: S = floor(m c) + 2 parameters k / (S - 1)
    (m = degree, c = largest per-coordinate step of the control polygon), each exact point
    rounded to the nearest pixel, consecutive duplicates removed. Returns the chain and the
    smallest distance of a coordinate to a rounding tie (x.5)."""
    m = len(ctrl) - 1
    c = max(abs(float(ctrl[i + 1][k]) - float(ctrl[i][k])) for i in range(m) for k in (0, 1))
    s = math.floor(m * c) + 2
    pts, gap = [], 1.0
    for k in range(s):
        y, x = exact_point(ctrl, Fraction(k, s - 1))
        gap = min(gap, *(abs(float(v - math.floor(v)) - 0.5) for v in (y, x)))
        pts.append((round(y), round(x)))
    return dedupe(pts), gap


def random_walk(rng, k, start=(50, 50)):
    steps = rng.integers(-1, 2, size=(k - 1, 2))
    return np.cumsum(np.vstack([start, steps]), axis=0)


# --- bezier_curve ------------------------------------------------------------------------

_TS = [0.0, 2.0 ** -40, 1 / 1024, 3 / 64, 0.25, 0.5, 41 / 64, 63 / 64, 1023 / 1024,
       1 - 2.0 ** -40, 1.0]


@pytest.mark.parametrize("n", [1, 2, 3, 6, 40, 150, 400])
def test_curve_equals_the_exact_bernstein_form(n):
    # integer control points (cast to float64 by the curve); degrees 150 and 400 evaluate
    # a band of the Bernstein terms (docs: |i - round(n t)| <= ceil(sqrt(c n)) + 1)
    ctrl = np.random.default_rng(n).integers(0, 500, size=(n + 1, 2))
    t = np.array(_TS)
    got = bezier_curve(ctrl, t)
    assert got.dtype == np.float64 and got.shape == (len(t), 2)
    assert np.allclose(got, exact_curve(ctrl, _TS), rtol=0, atol=1e-8)
    assert np.array_equal(got[0], ctrl[0]) and np.array_equal(got[-1], ctrl[-1])


def test_curve_of_one_control_point_is_that_point():
    assert bezier_curve(np.array([[2.5, -1.0]]), np.array([0.0, 0.3, 1.0])).tolist() == \
        [[2.5, -1.0]] * 3


def test_one_interior_parameter_by_hand():
    # quadratic (0, 0), (2, 4), (4, 0) at t = 1/4: weights 9/16, 6/16, 1/16
    # -> y = (6 * 2 + 4) / 16 = 1, x = 6 * 4 / 16 = 1.5 (integer control points)
    got = bezier_curve(np.array([[0, 0], [2, 4], [4, 0]]), np.array([0.25]))
    assert got.tolist() == [[1.0, 1.5]]


def test_float32_parameters_are_evaluated_in_float64():
    t32 = np.array([0.1, 0.3, 0.7], dtype=np.float32)
    ctrl = np.random.default_rng(7).integers(0, 500, size=(41, 2))
    assert np.allclose(bezier_curve(ctrl, t32), exact_curve(ctrl, [float(v) for v in t32]),
                       rtol=0, atol=1e-8)


def test_the_evaluated_band_is_exactly_the_documented_one():
    # n = 300, t = 1/2: the band is |i - 150| <= half with
    # half = ceil(sqrt(n ln(2 / 1e-12) / 2)) + 1 = ceil(65.18...) + 1 = 67. A control polygon
    # zero except at i = 150 +- 67 (inside) and 150 +- 68 (outside) reads back exactly the
    # band's renormalised weights at 83 and 217.
    n, half = 300, math.ceil(math.sqrt(300 * math.log(2 / 1e-12) / 2)) + 1
    assert half == 67
    big = 1e15
    ctrl = np.zeros((n + 1, 2))
    ctrl[[150 - half, 150 + half, 150 - half - 1, 150 + half + 1], 0] = big
    ctrl[:, 1] = np.arange(n + 1)           # x = i: the curve's x is n t = 150
    w = [Fraction(math.comb(n, i), 2 ** n) for i in range(n + 1)]
    band = sum(w[150 - half:150 + half + 1])
    expected_y = float(big * (w[150 - half] + w[150 + half]) / band)
    assert 1.0 < expected_y < 100.0
    got = bezier_curve(ctrl, np.array([0.5]))
    assert got[0, 0] == pytest.approx(expected_y, rel=1e-9)
    assert got[0, 1] == pytest.approx(150.0, abs=1e-9)


# --- bezier_chain: sampling ----------------------------------------------------------------

def _sampling_cases():
    rng = np.random.default_rng(11)
    cases = [rng.uniform(0, 30, size=(int(rng.integers(3, 25)), 2)) for _ in range(12)]
    cases += [random_walk(rng, int(rng.integers(3, 45))) for _ in range(12)]
    cases += [rng.integers(0, 12, size=(int(rng.integers(3, 6)), 2)) for _ in range(6)]
    return cases


def test_chain_is_the_documented_sampling_of_one_curve():
    kept = 0
    for ctrl in _sampling_cases():
        expected, gap = rule_chain(ctrl)
        if gap < 1e-9:          # an exact tie x.5: float evaluation may round either way
            continue
        kept += 1
        assert bezier_chain(ctrl).tolist() == [list(p) for p in expected]
        # an allowed mask holding every pixel keeps the one curve (no split)
        allowed = np.ones((100, 100), dtype=bool)
        assert bezier_chain(ctrl, allowed).tolist() == [list(p) for p in expected]
    assert kept >= 25


def test_single_point_and_two_point_chains_by_hand():
    one = bezier_chain(np.array([[3.4, 5.6]]))
    assert one.dtype == np.int64 and one.tolist() == [[3, 6]]
    # two 8-adjacent integer points are used as they are: the curve's midpoint
    # (5.5, 5.5) would round to (6, 6)
    for allowed in (None, np.ones((10, 10), dtype=bool)):
        chain = bezier_chain(np.array([[5.0, 6.0], [6.0, 5.0]]), allowed)
        assert chain.dtype == np.int64 and chain.tolist() == [[5, 6], [6, 5]]
    # two points 2 px apart: S = floor(1 * 2) + 2 = 4, x = 0, 2/3, 4/3, 2 -> 0, 1, 1, 2
    assert bezier_chain(np.array([[0, 0], [0, 2]])).tolist() == [[0, 0], [0, 1], [0, 2]]


# --- bezier_chain: inside an allowed mask ----------------------------------------------------

def test_a_curve_inside_the_mask_is_kept_whole():
    # the L (0,0) (0,1) (0,2) (1,2) (2,2): S = 6, t = k/5, Bernstein weights /625:
    # t = 1/5: y = 18/625 -> 0,   x = 482/625 -> 1
    # t = 2/5: y = 128/625 -> 0,  x = 872/625 -> 1
    # t = 3/5: y = 378/625 -> 1,  x = 1122/625 -> 2
    # t = 4/5: y = 768/625 -> 1,  x = 1232/625 -> 2
    # every sample lies on the L, so the one curve (cutting the corner (0, 2)) is kept
    ctrl = np.array([[0, 0], [0, 1], [0, 2], [1, 2], [2, 2]])
    allowed = np.zeros((3, 3), dtype=bool)
    allowed[ctrl[:, 0], ctrl[:, 1]] = True
    expected = [[0, 0], [0, 1], [1, 2], [2, 2]]
    assert bezier_chain(ctrl).tolist() == expected
    assert bezier_chain(ctrl, allowed).tolist() == expected


def test_a_long_curve_inside_the_mask_is_not_split():
    # more than 4 * COARSE_STRIDE samples: the coarse check runs first and must pass
    rng = np.random.default_rng(5)
    ctrl = random_walk(rng, 60)
    expected, gap = rule_chain(ctrl)
    assert gap > 1e-9 and len(expected) > 1
    allowed = np.ones((120, 120), dtype=bool)
    assert bezier_chain(ctrl, allowed).tolist() == [list(p) for p in expected]


def test_a_curve_leaving_the_mask_is_split_at_its_middle_control_point():
    # the V (0,0) (1,1) (2,0): S = 4; t = 1/3 gives (6/9, 4/9) -> (1, 0), outside the V
    # (t = 2/3: (12/9, 4/9) -> (1, 0) as well), so the curve is split at (1, 1) into two
    # 8-adjacent segments
    ctrl = np.array([[0, 0], [1, 1], [2, 0]])
    assert bezier_chain(ctrl).tolist() == [[0, 0], [1, 0], [2, 0]]
    allowed = np.zeros((3, 3), dtype=bool)
    allowed[ctrl[:, 0], ctrl[:, 1]] = True
    assert bezier_chain(ctrl, allowed).tolist() == [[0, 0], [1, 1], [2, 0]]
    # two Vs in a row: each half is split again, pieces stay in curve order
    ctrl = np.array([[0, 0], [1, 1], [2, 0], [3, 1], [4, 0]])
    allowed = np.zeros((5, 3), dtype=bool)
    allowed[ctrl[:, 0], ctrl[:, 1]] = True
    assert bezier_chain(ctrl, allowed).tolist() == ctrl.tolist()


def test_a_segment_leaving_the_mask_keeps_its_longest_run_inside():
    # (0, 0) -> (0, 4): S = 6, x = 0, .8, 1.6, 2.4, 3.2, 4 -> 0, 1, 2, 2, 3, 4;
    # column 1 is outside: runs [0] (0 px) and [2, 3, 4] (2 px)
    allowed = np.zeros((3, 6), dtype=bool)
    allowed[0, [0, 2, 3, 4]] = True
    chain = bezier_chain(np.array([[0, 0], [0, 4]]), allowed)
    assert chain.tolist() == [[0, 2], [0, 3], [0, 4]]
    with pytest.raises(ValueError, match=r"^no pixel of the Bezier chain lies in the allowed "
                                         r"mask$"):
        bezier_chain(np.array([[0, 0], [0, 4]]), np.zeros((3, 6), dtype=bool))

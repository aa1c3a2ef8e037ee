"""Tests for the ScribbleSeg deterministic scribbler (iseg_bench.robots.scribbler)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import ndimage as ndi

from iseg_bench.errors import SampleError, UsageError
from iseg_bench.geometry import (
    bezier_chain,
    bezier_curve,
    footprint_radius,
    interaction_pixels,
    rasterize_stroke,
    stroke_footprint,
)
from iseg_bench.robots.registry import build_robot
from iseg_bench.robots.scribbler import (
    MedialAxisScribbler,
    ScribblerOptions,
    davis_opening,
    largest_error_component,
    scribble_in_region,
)
from iseg_bench.types import Click, Scribble

STEPS = np.array([(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)])


def _random_chain(rng, n, start=(50, 50)):
    pts = [np.array(start)]
    for _ in range(n - 1):
        pts.append(pts[-1] + STEPS[rng.integers(9)])
    return np.array(pts)


def _pixels(s: Scribble, shape) -> np.ndarray:
    return rasterize_stroke(s.points, s.thickness, shape)


# --- stroke footprint --------------------------------------------------------------------

@pytest.mark.parametrize("thickness", [1, 2, 3, 4, 5, 7])
def test_footprint_covers_random_chains(thickness):
    """The Protect-Boundary lemma: a stroke through an 8-connected chain of pixels lies in
    the union of footprints at the chain's pixels."""
    rng = np.random.default_rng(thickness)
    fp = stroke_footprint(thickness)
    for _ in range(200):
        chain = _random_chain(rng, int(rng.integers(1, 40)))
        stroke = rasterize_stroke(chain.astype(float), thickness, (100, 100))
        centre = np.zeros((100, 100), dtype=bool)
        centre[chain[:, 0], chain[:, 1]] = True
        assert not (stroke & ~ndi.binary_dilation(centre, fp.astype(bool))).any()


def test_footprint_thickness_one_is_one_pixel():
    assert stroke_footprint(1).tolist() == [[1]]
    with pytest.raises(ValueError):
        stroke_footprint(0)


# --- Bezier ------------------------------------------------------------------------------

def _de_casteljau(ctrl, t):
    out = []
    for tt in t:
        p = ctrl.astype(float).copy()
        while len(p) > 1:
            p = (1 - tt) * p[:-1] + tt * p[1:]
        out.append(p[0])
    return np.array(out)


@pytest.mark.parametrize("n", [1, 2, 3, 7, 30, 120])
def test_bezier_matches_de_casteljau(n):
    rng = np.random.default_rng(n)
    ctrl = rng.uniform(0, 100, size=(n + 1, 2))
    t = np.linspace(0, 1, 37)
    assert np.allclose(bezier_curve(ctrl, t), _de_casteljau(ctrl, t), atol=1e-9)


def test_bezier_stable_for_long_paths():
    rng = np.random.default_rng(0)
    ctrl = _random_chain(rng, 3000, start=(1000, 1000)).astype(float)
    t = np.linspace(0, 1, 2001)
    pts = bezier_curve(ctrl, t)
    assert np.isfinite(pts).all()
    assert np.array_equal(pts[0], ctrl[0]) and np.array_equal(pts[-1], ctrl[-1])
    assert (pts.min(0) >= ctrl.min(0) - 1e-9).all() and (pts.max(0) <= ctrl.max(0) + 1e-9).all()
    # reversing the control points reverses the curve
    assert np.allclose(bezier_curve(ctrl[::-1], 1 - t), pts, atol=1e-8)
    # the degree-3000 curve agrees with de Casteljau at a few parameters
    some = np.array([0.1, 0.37, 0.5, 0.9])
    assert np.allclose(bezier_curve(ctrl, some), _de_casteljau(ctrl, some), atol=1e-6)


def test_bezier_chain_is_8_connected_and_respects_allowed():
    rng = np.random.default_rng(3)
    for _ in range(30):
        ctrl = _random_chain(rng, int(rng.integers(2, 200)))
        chain = bezier_chain(ctrl.astype(float))
        assert np.abs(np.diff(chain, axis=0)).max(initial=0) <= 1
        allowed = np.zeros((100, 100), dtype=bool)
        allowed[ctrl[:, 0], ctrl[:, 1]] = True
        chain = bezier_chain(ctrl.astype(float), allowed)
        assert allowed[chain[:, 0], chain[:, 1]].all()
        assert np.abs(np.diff(chain, axis=0)).max(initial=0) <= 1
        assert chain[0].tolist() == ctrl[0].tolist() and chain[-1].tolist() == ctrl[-1].tolist()


# --- hand-built cases --------------------------------------------------------------------

def test_first_stroke_is_positive_along_the_object():
    target = np.zeros((60, 100), dtype=bool)
    target[20:40, 10:90] = True
    robot = MedialAxisScribbler(boundary="protect")
    s = robot.next_interaction(target, np.zeros_like(target), np.zeros_like(target), [])
    assert isinstance(s, Scribble) and s.is_positive and s.thickness == 3
    assert s.points.dtype == np.float64 and s.points.shape[1] == 2
    assert target[s.points[:, 0].astype(int), s.points[:, 1].astype(int)].all()
    stroke = _pixels(s, target.shape)
    assert not (stroke & ~target).any()
    # the stroke runs along the long axis (the medial axis, corner to corner of the eroded
    # rectangle) over most of the rectangle, through its middle row band
    assert np.ptp(s.points[:, 1]) > 50
    middle = s.points[np.abs(s.points[:, 1] - 50) < 10]
    assert len(middle) and np.all(np.abs(middle[:, 0] - 29.5) <= 1)
    # first interaction: the prediction is not looked at
    s2 = robot.next_interaction(target, np.zeros_like(target), target.copy(), [])
    assert s2 == s


def test_negative_stroke_on_largest_false_positive():
    target = np.zeros((80, 80), dtype=bool)
    target[10:40, 10:40] = True
    pred = target.copy()
    pred[50:75, 45:75] = True           # FP blob, 750 px
    pred[10:14, 10:40] = False          # FN band, 120 px
    robot = MedialAxisScribbler(boundary="protect")
    s = robot.next_interaction(target, np.zeros_like(target), pred, [Click(20, 20, True)])
    assert not s.is_positive
    pts = s.points.astype(int)
    assert (pts[:, 0] >= 50).all() and (pts[:, 1] >= 45).all()
    assert not (_pixels(s, target.shape) & target).any()


def test_positive_stroke_on_largest_false_negative():
    target = np.zeros((80, 80), dtype=bool)
    target[10:70, 10:70] = True
    pred = np.zeros_like(target)
    pred[10:70, 10:30] = True           # FN 60x40 = 2400 px
    pred[0:5, 0:5] = True               # FP 25 px
    s = MedialAxisScribbler(boundary="protect").next_interaction(
        target, np.zeros_like(target), pred, [None])
    assert s.is_positive
    assert (s.points[:, 1] >= 30).all()
    assert not (_pixels(s, target.shape) & ~target).any()


def test_tie_rule_fn_first_then_raster_order():
    # docs/robots/scribbler.md: the stroke goes into the largest error component, FN before
    # FP on equal sizes, then the component whose first pixel comes first in raster order.
    # Checked on the robot's stroke, not on the helper that picks the component.
    robot = MedialAxisScribbler(boundary="protect")
    none = np.zeros((40, 40), dtype=bool)
    earlier = [Click(0, 0, True)]                   # not the first interaction

    def stroke_of(target, pred):
        s = robot.next_interaction(target, none, pred, earlier)
        return s, _pixels(s, target.shape)

    a = np.zeros((40, 40), dtype=bool)
    a[5:15, 5:15] = True                            # 100 px, first in raster order
    b = np.zeros((40, 40), dtype=bool)
    b[25:35, 25:35] = True                          # 100 px
    # FN square a vs FP square b, equal sizes: a positive stroke inside a
    s, px = stroke_of(a, b)
    assert s.is_positive and px.any() and not (px & ~a).any()
    # FP square a vs FN square b, equal sizes: FN still first, although a comes first
    s, px = stroke_of(b, a)
    assert s.is_positive and px.any() and not (px & ~b).any()
    # two FN squares of equal size: the one whose first pixel comes first (a)
    s, px = stroke_of(a | b, none)
    assert s.is_positive and px.any() and not (px & ~a).any()
    # one more FP pixel next to a makes the FP component strictly larger: a negative stroke
    big = a.copy()
    big[15, 5] = True
    s, px = stroke_of(b, big)
    centre = s.points.round().astype(int)
    assert not s.is_positive and big[centre[:, 0], centre[:, 1]].all() and not (px & b).any()


def test_components_are_8_connected():
    target = np.zeros((20, 20), dtype=bool)
    for k in range(10):
        target[5 + k, 5 + k] = True             # a diagonal line: one 8-connected component
    comp, _ = largest_error_component(target, np.zeros_like(target), np.zeros_like(target))
    assert comp.sum() == 10


def test_ignore_pixels_are_never_touched():
    target = np.zeros((60, 60), dtype=bool)
    target[10:50, 10:50] = True
    ignore = np.zeros_like(target)
    ignore[28:32, :] = True                     # an ignore band across the object
    s = MedialAxisScribbler(boundary="protect").next_interaction(
        target, ignore, np.zeros_like(target), [])
    stroke = _pixels(s, target.shape)
    assert not (stroke & ignore).any() and not (stroke & ~target).any()


def test_no_error_reaffirms_and_empty_target_raises():
    target = np.zeros((30, 30), dtype=bool)
    target[5:25, 5:25] = True
    robot = MedialAxisScribbler(boundary="protect")
    s = robot.next_interaction(target, np.zeros_like(target), target.copy(), [None])
    assert s.is_positive and not (_pixels(s, target.shape) & ~target).any()
    empty = np.zeros_like(target)
    with pytest.raises(SampleError):
        robot.next_interaction(empty, np.zeros_like(empty), empty, [None])


# --- degenerate regions ------------------------------------------------------------------

@pytest.mark.parametrize("region", [
    [(10, 10)],                                 # one pixel
    [(10, 10), (10, 11)],                       # two pixels
    [(10, 10), (11, 11)],                       # two diagonal pixels
    [(10, k) for k in range(5, 25)],            # a 1-px line
    [(y, x) for y in (10, 11) for x in range(5, 25)],     # a 2-px band
    [(y, x) for y in range(9, 12) for x in range(9, 12)],  # a 3x3 block
])
@pytest.mark.parametrize("boundary", ["protect", "clean"])
def test_degenerate_regions_give_a_short_valid_stroke(region, boundary):
    target = np.zeros((30, 30), dtype=bool)
    for y, x in region:
        target[y, x] = True
    s = MedialAxisScribbler(boundary=boundary).next_interaction(
        target, np.zeros_like(target), np.zeros_like(target), [])
    assert len(s.points) >= 1 and 1 <= s.thickness <= 3
    stroke = _pixels(s, target.shape)
    assert stroke.any() and not (stroke & ~target).any()


def test_thin_region_reduces_thickness_only_when_needed():
    target = np.zeros((30, 40), dtype=bool)
    target[10, 5:35] = True
    s = MedialAxisScribbler(boundary="protect").next_interaction(target, np.zeros_like(target),
                                               np.zeros_like(target), [])
    assert s.thickness == 1 and np.ptp(s.points[:, 1]) == 29
    r = int(footprint_radius(3))
    target[10 - r:11 + r, 5:35] = True          # 2r + 1 px wide: thickness 3 fits on row 10
    s = MedialAxisScribbler(boundary="protect").next_interaction(target, np.zeros_like(target),
                                               np.zeros_like(target), [])
    assert s.thickness == 3 and (s.points[:, 0] == 10).all()
    assert not (_pixels(s, target.shape) & ~target).any()


def test_region_at_the_image_border():
    target = np.zeros((20, 30), dtype=bool)
    target[:6, :] = True
    s = MedialAxisScribbler(boundary="protect").next_interaction(target, np.zeros_like(target),
                                               np.zeros_like(target), [])
    assert not (_pixels(s, target.shape) & ~target).any()


# --- Alg. 1 as written (the default) and the DAVIS opening --------------------------------

def test_default_is_alg1_without_erosion():
    target = np.zeros((60, 100), dtype=bool)
    target[20:40, 10:90] = True
    empty = np.zeros_like(target)
    literal = MedialAxisScribbler().next_interaction(target, empty, empty, [])
    protect = MedialAxisScribbler(boundary="protect").next_interaction(target, empty, empty, [])
    assert MedialAxisScribbler().options.boundary == "none"
    # the medial axis of the rectangle runs into its corners; without erosion the stroke
    # keeps them (80 px long), the eroded region of "protect" is 1 px smaller on each side
    assert literal.points[:, 1].min() == 10 and literal.points[:, 1].max() == 89
    assert protect.points[:, 1].min() == 11 and protect.points[:, 1].max() == 88
    assert target[literal.points[:, 0].astype(int), literal.points[:, 1].astype(int)].all()
    # a region thinner than the stroke keeps the requested thickness (nothing is eroded)
    line = np.zeros((30, 40), dtype=bool)
    line[10, 5:35] = True
    s = MedialAxisScribbler().next_interaction(line, np.zeros_like(line),
                                               np.zeros_like(line), [])
    assert s.thickness == 3 and (s.points[:, 0] == 10).all() and np.ptp(s.points[:, 1]) == 29


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2 ** 32 - 1))
def test_default_centre_line_stays_in_the_error_region(seed):
    target, ignore, pred, history = _random_case(seed)
    found = largest_error_component(target, ignore, pred, first=not history)
    if found is None:
        return
    comp, positive = found
    s = MedialAxisScribbler().next_interaction(target, ignore, pred, history)
    assert s.is_positive == positive and s.thickness == 3
    pts = s.points.astype(int)
    assert comp[pts[:, 0], pts[:, 1]].all()
    assert np.abs(np.diff(pts, axis=0)).max(initial=0) <= 1


def _square_with_spur():
    target = np.zeros((60, 90), dtype=bool)
    target[10:50, 10:50] = True
    target[30, 50:80] = True                    # a 1-px spur (a "fur edge") 30 px long
    return target


def test_davis_opening_removes_spurs_before_the_skeleton():
    target = _square_with_spur()
    empty = np.zeros_like(target)
    plain = MedialAxisScribbler().next_interaction(target, empty, empty, [])
    opened = MedialAxisScribbler(opening=0.15).next_interaction(target, empty, empty, [])
    assert plain.points[:, 1].max() == 79          # the longest path runs out along the spur
    assert opened.points[:, 1].max() <= 49         # opened away: the stroke stays in the square
    # radius 0.15 * sqrt(1630) / 2 = 3.03 px: the spur goes, the square keeps everything
    # but its corners (a disc of radius 3 fits everywhere at least 3 px from its sides)
    region = davis_opening(target, 0.15)
    assert not (region & ~target).any() and not region[:, 51:].any()
    assert region[10:50, 13:47].all() and region[13:47, 10:50].all() and not region[10, 10]


def test_davis_opening_radius_rules():
    line = np.zeros((20, 200), dtype=bool)
    line[10, 5:195] = True                      # every opening with r > 1 px empties it
    assert np.array_equal(davis_opening(line, 0.5), line)      # falls back to the region
    big = np.zeros((300, 300), dtype=bool)
    big[20:220, 20:220] = True
    big[100:140, 220:280] = True                # a bump 40 px wide
    # 0.5 * sqrt(42400) / 2 = 51 px would open the bump away; the cap of 16 px keeps it
    opened = davis_opening(big, 0.5)
    assert not (opened & ~big).any() and opened[100:140, 240:260].all()
    small = np.zeros((40, 40), dtype=bool)
    small[5:35, 5:35] = True
    with pytest.raises(ValueError, match="opening"):
        scribble_in_region(small, small, True, opening=1.0)


# --- properties --------------------------------------------------------------------------

def _random_case(seed: int, shape=(48, 64)):
    rng = np.random.default_rng(seed)
    blobs = ndi.gaussian_filter(rng.random(shape), float(rng.uniform(1.0, 4.0)))
    target = blobs > np.quantile(blobs, float(rng.uniform(0.3, 0.8)))
    kind = int(rng.integers(4))
    if kind == 0:
        pred = np.roll(target, (int(rng.integers(-6, 7)), int(rng.integers(-6, 7))), (0, 1))
    elif kind == 1:
        pred = ndi.binary_erosion(target, iterations=int(rng.integers(1, 4)))
    elif kind == 2:
        pred = ndi.binary_dilation(target, iterations=int(rng.integers(1, 4)))
    else:
        noise = ndi.gaussian_filter(rng.random(shape), 2.0)
        pred = noise > np.quantile(noise, 0.5)
    ignore = np.zeros(shape, dtype=bool)
    if rng.random() < 0.4:
        ignore = ndi.binary_dilation(target ^ ndi.binary_erosion(target), iterations=1)
    history = [] if rng.random() < 0.2 else [None]
    return target, ignore, pred, history


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2 ** 32 - 1), st.sampled_from([1, 2, 3, 5]))
def test_protect_boundary_stays_in_the_true_region(seed, thickness):
    target, ignore, pred, history = _random_case(seed)
    if not (target & ~ignore).any() and not (pred & ~ignore).any():
        return
    robot = MedialAxisScribbler(thickness=thickness, boundary="protect")
    try:
        s = robot.next_interaction(target, ignore, pred, history)
    except SampleError:
        assert not (target & ~ignore).any()
        return
    found = largest_error_component(target, ignore, pred, first=not history)
    if found is not None:
        comp, positive = found
        assert s.is_positive == positive
        # every centre-line pixel lies in the chosen component
        assert comp[s.points[:, 0].astype(int), s.points[:, 1].astype(int)].all()
    true_region = (target if s.is_positive else ~target) & ~ignore
    stroke = np.zeros_like(target)
    pix = interaction_pixels(s, target.shape)
    stroke[pix[:, 0], pix[:, 1]] = True
    assert stroke.any()
    assert not (stroke & ~true_region).any()
    assert 1 <= s.thickness <= thickness
    assert np.all(s.points == np.round(s.points))
    assert np.abs(np.diff(s.points, axis=0)).max(initial=0) <= 1


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2 ** 32 - 1))
def test_clean_boundary_stays_in_the_true_region(seed):
    target, ignore, pred, history = _random_case(seed)
    if not (target & ~ignore).any():
        return
    s = MedialAxisScribbler(boundary="clean").next_interaction(target, ignore, pred, history)
    true_region = (target if s.is_positive else ~target) & ~ignore
    stroke = _pixels(s, target.shape)
    assert stroke.any() and not (stroke & ~true_region).any()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2 ** 32 - 1))
def test_allow_error_gives_a_stroke_in_the_component(seed):
    target, ignore, pred, history = _random_case(seed)
    if not (target & ~ignore).any():
        return
    s = MedialAxisScribbler(boundary="allow").next_interaction(target, ignore, pred, history)
    assert len(s.points) >= 1 and s.thickness == 3
    assert _pixels(s, target.shape).any()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2 ** 32 - 1), st.sampled_from(["none", "protect", "clean", "allow"]))
def test_deterministic(seed, boundary):
    target, ignore, pred, history = _random_case(seed)
    if not (target & ~ignore).any():
        return
    a = MedialAxisScribbler(boundary=boundary).next_interaction(target, ignore, pred, history)
    b = MedialAxisScribbler(boundary=boundary).next_interaction(
        target.copy(), ignore.copy(), pred.copy(), list(history) + list(history))
    assert a == b and a.to_json() == b.to_json()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2 ** 32 - 1))
def test_every_node_option_gives_a_valid_stroke(seed):
    target, ignore, pred, history = _random_case(seed, shape=(32, 40))
    found = largest_error_component(target, ignore, pred, first=not history)
    if found is None:
        return
    comp, positive = found
    true_region = (target if positive else ~target) & ~ignore
    a = scribble_in_region(comp, true_region, positive, boundary="allow")
    b = scribble_in_region(comp, true_region, positive, boundary="allow",
                           path_method="every_node")
    # the path lengths agree (tests/test_graph_paths.py); strokes differ only on ties
    assert a.thickness == b.thickness and len(a.points) >= 1 and len(b.points) >= 1


# --- construction --------------------------------------------------------------------------

def test_registry_and_options():
    robot = build_robot("scribbler", thickness=5, boundary="clean")
    assert isinstance(robot, MedialAxisScribbler)
    assert robot.describe() == {"name": "scribbler", "thickness": 5, "boundary": "clean",
                                "radius": math.sqrt(2), "medial_axis_seed": 0,
                                "path_method": "diameter", "opening": 0.0}
    assert robot.kind == "scribble"
    for bad in ({"boundary": "x"}, {"thickness": 0}, {"radius": 0}, {"path_method": "x"},
                {"opening": 1.0}, {"opening": -0.1}):
        with pytest.raises(UsageError):
            MedialAxisScribbler(**bad)
    with pytest.raises(ValueError):
        MedialAxisScribbler().next_interaction(np.zeros((3, 3), bool), np.zeros((3, 4), bool),
                                               np.zeros((3, 3), bool), [])


def test_build_robot_checks_options_from_the_command_line():
    robot = build_robot("scribbler", thickness="5", radius="2", boundary="allow")
    assert (robot.options.thickness, robot.options.radius) == (5, 2.0)
    for bad, message in (({"boundary": "nope"}, "boundary"), ({"thickness": "x"}, "thickness"),
                         ({"thickness": 0}, "thickness"), ({"colour": "red"}, "unknown")):
        with pytest.raises(UsageError, match=f"robot scribbler: .*{message}"):
            build_robot("scribbler", **bad)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2 ** 32 - 1), st.sampled_from([2.0, 2.5, 3.0]))
def test_protect_with_a_larger_graph_radius(seed, radius):
    target, ignore, pred, history = _random_case(seed)
    if not (target & ~ignore).any():
        return
    s = MedialAxisScribbler(radius=radius, boundary="protect").next_interaction(
        target, ignore, pred, history)
    true_region = (target if s.is_positive else ~target) & ~ignore
    stroke = _pixels(s, target.shape)
    assert stroke.any() and not (stroke & ~true_region).any()


@pytest.mark.parametrize("options, message", [
    ({"boundary": "x"}, "boundary must be one of none, protect, clean, allow, got 'x'"),
    ({"path_method": "x"}, "path_method must be one of diameter, every_node, got 'x'"),
    ({"thickness": 0}, "thickness must be >= 1, got 0"),
    ({"radius": 0.0}, "radius must be > 0, got 0.0"),
    ({"opening": 1.0}, r"opening must be in \[0, 1\), got 1.0"),
])
def test_bad_robot_options_are_named(options, message):
    # the options class checks itself (the command line's typed parsing may catch a bad
    # choice first, with its own message)
    with pytest.raises(UsageError, match=f"^robot scribbler: {message}$"):
        ScribblerOptions(**options)
    with pytest.raises(UsageError, match=r"^robot scribbler: (option )?" + message[:12]):
        build_robot("scribbler", **options)


@pytest.mark.parametrize("kwargs, message", [
    ({"boundary": "x"}, "boundary must be one of"),
    ({"thickness": 0}, "thickness must be >= 1, got 0"),
    ({"opening": -0.1}, r"opening must be in \[0, 1\), got -0.1"),
    ({"true_region": np.ones((3, 4), bool)}, r"component \(4, 4\) and true_region \(3, 4\)"),
    ({"component": np.zeros((4, 4), bool)}, "empty error component"),
    ({"true_region": np.zeros((4, 4), bool)}, "does not overlap true_region: no 'protect'"),
    ({"true_region": np.zeros((4, 4), bool), "boundary": "clean"}, "no 'clean' stroke"),
])
def test_scribble_in_region_argument_errors(kwargs, message):
    args = {"component": np.ones((4, 4), bool), "true_region": np.ones((4, 4), bool),
            "is_positive": True, "thickness": 1, "boundary": "protect", **kwargs}
    with pytest.raises(ValueError, match=message):
        scribble_in_region(**args)


# --- Tests written against the mutation report (docs/testing.md, "Mutation testing") ---


def test_options_accept_a_graph_radius_below_one_pixel():
    # Only radius <= 0 is refused (docs: "radius ... > 0").
    assert ScribblerOptions(radius=0.5).radius == 0.5
    with pytest.raises(UsageError, match="radius must be > 0"):
        ScribblerOptions(radius=0.0)


def test_largest_error_component_reads_the_prediction_by_default():
    target = np.zeros((8, 8), bool)
    target[1:4, 1:4] = True
    pred = target.copy()
    pred[6, 5:8] = True                      # a 3-px false positive, nothing missed
    found = largest_error_component(target, np.zeros_like(target), pred)
    assert found is not None
    mask, positive = found
    assert not positive and mask.sum() == 3 and mask[6, 5:8].all()


def _opening_case(fraction, region):
    out = davis_opening(region, fraction)
    assert out.dtype == bool
    return out


def test_davis_opening_disc_of_radius_two():
    # 5x5 square (area 25), fraction 0.8: r = 0.8 * 5 / 2 = 2 px. The disc dy^2 + dx^2 <= 4
    # has 13 pixels; only the centre of the square holds it, so the opening is that disc.
    region = np.zeros((9, 9), bool)
    region[2:7, 2:7] = True
    expected = np.zeros((9, 9), bool)
    for dy in range(-2, 3):
        for dx in range(-2, 3):
            if dy * dy + dx * dx <= 4:
                expected[4 + dy, 4 + dx] = True
    assert expected.sum() == 13
    np.testing.assert_array_equal(_opening_case(0.8, region), expected)


def test_opened_region_replaces_the_component():
    # The same 5x5 square as above inside a larger image: with opening 0.8 the stroke's
    # centre line (thickness 1, Alg. 1's "none") lies in the 13-px disc that the opening
    # leaves, whichever side of the crop the square is near.
    region = np.zeros((30, 30), bool)
    region[10:15, 10:15] = True
    disc = np.zeros_like(region)
    yy, xx = np.mgrid[:30, :30]
    disc[(yy - 12) ** 2 + (xx - 12) ** 2 <= 4] = True
    s = scribble_in_region(region, region, True, thickness=1, opening=0.8)
    ys, xs = s.points.astype(int).T
    assert disc[ys, xs].all()


def test_davis_opening_stops_at_radius_one():
    # 4x4 square, fraction 0.5: r = 0.5 * 4 / 2 = 1 px, not above 1: no opening at all
    # (a cross of radius 1 would cut the four corners).
    region = np.zeros((8, 8), bool)
    region[2:6, 2:6] = True
    np.testing.assert_array_equal(_opening_case(0.5, region), region)


def test_davis_opening_shrinks_the_radius_by_a_tenth():
    # Two 5-px pluses and one isolated pixel (area 11, no 3x3 block). fraction 0.9:
    # r = 0.9 sqrt(11) / 2 = 1.49 -> the 3x3 disc empties everything; r = 1.34 -> the
    # 5-px cross keeps both pluses and drops the isolated pixel.
    region = np.zeros((12, 12), bool)
    for cy, cx in ((2, 2), (2, 8)):
        region[cy, cx - 1:cx + 2] = True
        region[cy - 1:cy + 2, cx] = True
    region[9, 5] = True
    expected = region.copy()
    expected[9, 5] = False
    np.testing.assert_array_equal(_opening_case(0.9, region), expected)


def test_davis_opening_returns_bool_for_integer_input():
    region = np.zeros((9, 9), np.uint8)
    region[2:7, 2:7] = 1
    out = davis_opening(region, 0.8)
    assert out.dtype == bool and out.sum() == 13


@pytest.mark.parametrize("boundary", ["none", "protect"])
def test_path_method_is_passed_on(boundary):
    # A symmetric 1-px plus: its longest skeleton paths tie, and the two methods break the
    # tie differently (docs step 6): "diameter" ends at the far end found from node 0,
    # "every_node" starts at the first source. Here they give the same stroke run in
    # opposite directions, from the scribbler and from the robot alike.
    plus = np.zeros((9, 9), bool)
    plus[4, 1:8] = True
    plus[1:8, 4] = True
    d = scribble_in_region(plus, plus, True, thickness=1, boundary=boundary)
    e = scribble_in_region(plus, plus, True, thickness=1, boundary=boundary,
                           path_method="every_node")
    assert len(d.points) > 2
    np.testing.assert_array_equal(e.points, d.points[::-1])
    robot = MedialAxisScribbler(thickness=1, boundary=boundary, path_method="every_node")
    r = robot.next_interaction(plus, np.zeros_like(plus), np.zeros_like(plus), [])
    np.testing.assert_array_equal(r.points, e.points)


def test_allow_keeps_one_bezier_curve_that_cuts_the_corner():
    # An L of 1-px lines: one Bezier curve through the L's pixels bends inside the corner,
    # off the L (Tab. 6 "allow": nothing keeps it in the region); "none" keeps every point
    # on the L.
    region = np.zeros((12, 12), bool)
    region[2, 2:10] = True
    region[2:10, 9] = True
    allow = scribble_in_region(region, region, True, thickness=1, boundary="allow")
    none = scribble_in_region(region, region, True, thickness=1, boundary="none")
    ys, xs = allow.points.astype(int).T
    assert not region[ys, xs].all()
    ys, xs = none.points.astype(int).T
    assert region[ys, xs].all()


@pytest.mark.parametrize("seed", range(4))
def test_clean_keeps_a_run_of_the_unmasked_curve(seed):
    # "clean" computes the stroke on the whole component (as "allow" does) and keeps its
    # longest run whose footprint stays in the true region: a contiguous slice of the
    # "allow" chain (on these cases "protect", drawn on the eroded region, is not one).
    target, ignore, pred, history = _random_case(seed)
    allow, clean = (MedialAxisScribbler(boundary=b).next_interaction(
        target, ignore, pred, history).points for b in ("allow", "clean"))
    assert 0 < len(clean) <= len(allow)
    assert any(np.array_equal(allow[i:i + len(clean)], clean)
               for i in range(len(allow) - len(clean) + 1))


def test_scribble_in_region_keeps_the_region_id():
    region = np.zeros((10, 10), bool)
    region[3:7, 2:8] = True
    assert scribble_in_region(region, region, True, region_id=5).region == 5


@pytest.mark.parametrize("offset", [(4, 4), (6, 8), (8, 6), (10, 12)])
def test_stroke_does_not_depend_on_the_crop(offset):
    # The robot works on a crop around the component (docs: "Cost"); that must be
    # invisible. A random component (with its true region) in a window that ends 1 px past
    # its bounding box is scribbled once alone and once embedded in a larger image at an
    # even `offset` (half-pixel samples round to even, so only even shifts commute with
    # the rounding): the strokes are the same up to the shift, for every option that reads
    # the crop (opening, thickness of the erosion, boundary modes).
    rng = np.random.default_rng(sum(offset))
    for _ in range(3):
        blob = ndi.binary_opening(rng.random((20, 24)) < 0.6, iterations=1)
        lab, n = ndi.label(blob, np.ones((3, 3)))
        if n == 0:
            continue
        comp = lab == 1 + int(np.argmax(np.bincount(lab.ravel())[1:]))
        rows, cols = np.flatnonzero(comp.any(1)), np.flatnonzero(comp.any(0))
        comp = comp[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
        small = np.pad(comp, 1)
        true_small = small | np.pad(rng.random(comp.shape) < 0.5, 1)
        big = np.zeros((60, 70), bool)
        true_big = np.ones((60, 70), bool)   # outside the small image: does not erode
        oy, ox = offset
        h, w = small.shape
        big[oy:oy + h, ox:ox + w] = small
        true_big[oy:oy + h, ox:ox + w] = true_small
        for thickness, boundary, opening in ((1, "none", 0.3), (3, "protect", 0.0),
                                             (3, "clean", 0.0), (3, "none", 0.0)):
            a = scribble_in_region(small, true_small, True, thickness, boundary,
                                   opening=opening)
            b = scribble_in_region(big, true_big, True, thickness, boundary,
                                   opening=opening)
            np.testing.assert_array_equal(b.points - (oy, ox), a.points)
            assert a.thickness == b.thickness


def test_robot_checks_every_shape():
    good = np.zeros((6, 6), bool)
    good[2:4, 2:4] = True
    robot = MedialAxisScribbler()
    msg = r"must be the same \(H, W\)"
    with pytest.raises(ValueError, match=msg):
        robot.next_interaction(good, np.zeros((6, 5), bool), good, [])
    with pytest.raises(ValueError, match=msg):
        robot.next_interaction(good, good, np.zeros((5, 6), bool), [])
    cube = np.zeros((2, 6, 6), bool)
    cube[:, 2:4, 2:4] = True
    with pytest.raises(ValueError, match=msg):
        robot.next_interaction(cube, cube, cube, [])


def test_exact_error_messages():
    robot = MedialAxisScribbler()
    empty = np.zeros((6, 6), bool)
    with pytest.raises(SampleError) as info:
        robot.next_interaction(empty, empty, empty, [])
    assert str(info.value) == "the target is empty outside the ignore mask: no stroke"
    with pytest.raises(ValueError) as info2:
        scribble_in_region(empty, empty, True)
    assert str(info2.value) == "empty error component"


def test_robot_reads_nonzero_integer_masks_as_true():
    # Masks are read as bool: every non-zero value is True (here 2, whose bitwise
    # complement is not "false"). A negative stroke under "protect" keeps its whole
    # footprint off the target, and ignored pixels are no error.
    target = np.zeros((20, 20), np.uint8)
    target[4:16, 4:10] = 2
    pred = target.copy()
    pred[4:16, 10] = 2                       # a 1-px-wide false positive along the object
    ignore = np.zeros_like(target)
    ignore[4:8, 10] = 2                      # its top 4 px are ignored
    robot = MedialAxisScribbler(boundary="protect")
    as_int = robot.next_interaction(target, ignore, pred, [Click(0, 0, True)])
    as_bool = robot.next_interaction(target > 0, ignore > 0, pred > 0, [Click(0, 0, True)])
    assert as_int == as_bool and not as_bool.is_positive and as_bool.thickness == 1
    assert sorted(map(tuple, as_bool.points.astype(int))) == [(y, 10) for y in range(8, 16)]


def test_scribble_in_region_reads_nonzero_as_true():
    region = np.zeros((12, 16), bool)
    region[3:9, 2:14] = True
    two = region.astype(np.uint8) * 2
    for boundary in ("none", "protect"):
        assert (scribble_in_region(two, two, True, boundary=boundary)
                == scribble_in_region(region, region, True, boundary=boundary))


def test_crop_margin_holds_a_thick_stroke_footprint():
    # Thickness 16: the footprint's radius is 8 px (rho^2 in [64, 81), see
    # test_footprint_covers_random_chains). The only pixels outside the true region are
    # column 88, 8 px right of the component's last pixel (80), so "protect" must stop the
    # centre line at column 79 (9 px away), and the painted stroke must not reach column 88.
    component = np.zeros((100, 120), dtype=bool)
    component[50, 20:81] = True
    true_region = np.ones_like(component)
    true_region[:, 88] = False
    s = scribble_in_region(component, true_region, True, thickness=16, boundary="protect")
    assert s.thickness == 16
    assert set(s.points[:, 0]) == {50.0}
    assert (s.points[:, 1].min(), s.points[:, 1].max()) == (20.0, 79.0)
    pix = interaction_pixels(s, component.shape)
    assert pix[:, 1].max() < 88

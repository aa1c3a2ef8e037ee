"""Property-based tests of failure isolation and bad input: random and hostile
masks thrown at every robot and every figure.

Invariants checked:
* clickers (robots/clicker.py): no crash; the click is in the image; with error left outside
  earlier clicks it lies in the error region of its sign (FN for positive, FP for negative),
  hence never on an ignored pixel; with none left the reference clicker falls back to a
  negative click at (0, 0) (documented in its module);
* corrective meter (robots/corrective.py): the error region lies in the error mask of the
  interaction's sign and contains the clicked pixel when that pixel is an error; accuracy is
  NaN exactly when the region is empty, else in [0, 1];
* scribbler (robots/scribbler.py): no crash (SampleError only when the target is empty
  outside the ignore mask and nothing is wrong); under "protect" the centre line lies in the
  error mask of the stroke's sign; under "protect" and "clean" the painted stroke stays in
  the stroke's true region (so never on ignored pixels);
* figures (metrics.py): NoC in [1, K], NoF in [0, S] and consistent with NoC, mIoU/AuC and
  proportions in [0, 1], the compat NoF at least the correct one, filled curves finite.
"""

from __future__ import annotations

import warnings

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from iseg_bench import metrics
from iseg_bench.errors import SampleError
from iseg_bench.geometry import error_masks, interaction_error_region, rasterize_stroke
from iseg_bench.masks import iou
from iseg_bench.robots.clicker import CenterOfErrorClicker, LargestRegionCenterClicker
from iseg_bench.robots.corrective import corrective_accuracy
from iseg_bench.robots.scribbler import MedialAxisScribbler
from iseg_bench.types import Click

SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def _hostile(shape: tuple[int, int], kind: str, rng_bit: int) -> np.ndarray:
    h, w = shape
    yy, xx = np.indices(shape)
    return {"empty": np.zeros(shape, bool), "full": np.ones(shape, bool),
            "pixel": (yy == h // 2) & (xx == w // 2),
            "corner": (yy == h - 1) & (xx == w - 1),
            "checker": (yy + xx + rng_bit) % 2 == 0,
            "stripes": (xx + rng_bit) % 2 == 0,
            "border": (yy == 0) | (xx == 0) | (yy == h - 1) | (xx == w - 1),
            "frame-hole": ~((yy == 0) | (xx == 0) | (yy == h - 1) | (xx == w - 1))}[kind]


HOSTILE = ("empty", "full", "pixel", "corner", "checker", "stripes", "border", "frame-hole")


@st.composite
def mask_triples(draw, max_side: int = 20):
    """(target, ignore, pred): random or hostile (H, W) bool masks of one shape."""
    h = draw(st.integers(1, max_side))
    w = draw(st.integers(1, max_side))

    def one(p_ignore: bool = False) -> np.ndarray:
        if draw(st.booleans()):
            return _hostile((h, w), draw(st.sampled_from(HOSTILE)), draw(st.integers(0, 1)))
        m = draw(arrays(np.bool_, (h, w)))
        return m & draw(arrays(np.bool_, (h, w))) if p_ignore else m

    target, ignore, pred = one(), one(p_ignore=True), one()
    if draw(st.integers(0, 4)) == 0:
        pred = target.copy()                            # nothing wrong
    if draw(st.integers(0, 4)) == 0:
        ignore = np.zeros((h, w), bool)
    return target, ignore, pred


@st.composite
def click_histories(draw, shape):
    n = draw(st.integers(0, 6))
    return [Click(draw(st.integers(0, shape[0] - 1)), draw(st.integers(0, shape[1] - 1)),
                  draw(st.booleans())) for _ in range(n)]


def _clicked(history, shape) -> np.ndarray:
    m = np.zeros(shape, bool)
    for c in history:
        m[c.y, c.x] = True
    return m


# --- clickers ---------------------------------------------------------------------------

@SETTINGS
@given(data=st.data())
def test_reference_clicker_invariants(data):
    target, ignore, pred = data.draw(mask_triples())
    history = data.draw(click_histories(target.shape))
    click = CenterOfErrorClicker().next_interaction(target, ignore, pred, history)
    assert 0 <= click.y < target.shape[0] and 0 <= click.x < target.shape[1]
    fn, fp = error_masks(target, pred, ignore)
    done = _clicked(history, target.shape)
    fn, fp = fn & ~done, fp & ~done
    if fn.any() or fp.any():
        assert (fn if click.is_positive else fp)[click.y, click.x]
        assert not ignore[click.y, click.x]
    else:
        assert (click.y, click.x, click.is_positive) == (0, 0, False)


@SETTINGS
@given(data=st.data())
def test_largest_region_clicker_always_clicks_an_error_of_its_sign(data):
    target, ignore, pred = data.draw(mask_triples())
    history = data.draw(st.one_of(st.just([]), click_histories(target.shape)))
    click = LargestRegionCenterClicker().next_interaction(target, ignore, pred, history)
    fn, fp = error_masks(target, pred, ignore)
    if fn.any() or fp.any():
        assert (fn if click.is_positive else fp)[click.y, click.x]
        assert not ignore[click.y, click.x]
    else:
        assert (click.y, click.x, click.is_positive) == (0, 0, False)


def test_largest_region_clicker_fully_clicked_region():
    target = np.zeros((5, 5), bool)
    target[2, 2] = True                      # a one-pixel object the model keeps missing
    pred = np.zeros((5, 5), bool)
    ignore = np.zeros((5, 5), bool)
    click = LargestRegionCenterClicker().next_interaction(target, ignore, pred,
                                                          [Click(2, 2, True)])
    fn, fp = error_masks(target, pred, ignore)
    assert (fn if click.is_positive else fp)[click.y, click.x]


# --- corrective meter -------------------------------------------------------------------

@SETTINGS
@given(data=st.data())
def test_corrective_meter_invariants(data):
    target, ignore, prev = data.draw(mask_triples())
    new = data.draw(arrays(np.bool_, target.shape))
    y = data.draw(st.integers(0, target.shape[0] - 1))
    x = data.draw(st.integers(0, target.shape[1] - 1))
    click = Click(y, x, data.draw(st.booleans()))
    fn, fp = error_masks(target, prev, ignore)
    err = fn if click.is_positive else fp
    region = interaction_error_region(target, ignore, prev, click)
    assert not (region & ~err).any()
    assert region[y, x] == err[y, x]
    acc = corrective_accuracy(target, ignore, prev, new, click)
    if region.any():
        assert 0.0 <= acc <= 1.0
    else:
        assert np.isnan(acc)


# --- scribbler --------------------------------------------------------------------------

@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), boundary=st.sampled_from(["protect", "clean"]),
       thickness=st.sampled_from([1, 3, 5]))
def test_scribbler_invariants(data, boundary, thickness):
    target, ignore, pred = data.draw(mask_triples(max_side=18))
    first = data.draw(st.booleans())
    history = [] if first else [Click(0, 0, True)]
    robot = MedialAxisScribbler(thickness=thickness, boundary=boundary)
    try:
        stroke = robot.next_interaction(target, ignore, pred, history)
    except SampleError:
        assert not (target & ~ignore).any()
        return
    seen_pred = np.zeros_like(pred) if first else pred
    fn, fp = error_masks(target, seen_pred, ignore)
    if not (fn | fp).any():                         # nothing wrong: re-affirm the object
        fn, fp = error_masks(target, np.zeros_like(pred), ignore)
    err = fn if stroke.is_positive else fp
    pts = np.round(stroke.points).astype(int)
    if boundary == "protect":       # "clean" may cut corners of the component (its Bezier
        assert err[pts[:, 0], pts[:, 1]].all()  # runs over the whole component)
    true_region = (target if stroke.is_positive else ~target) & ~ignore
    painted = rasterize_stroke(stroke.points, stroke.thickness, target.shape)
    assert painted.any() and not (painted & ~true_region).any()
    assert 1 <= stroke.thickness <= thickness


# --- figures ----------------------------------------------------------------------------

@st.composite
def iou_matrices(draw):
    s = draw(st.integers(1, 12))
    k = draw(st.integers(1, 25))
    special = st.sampled_from([0.0, 1.0, 0.85, 0.9, 0.95, 0.8500000000000001, 0.99])
    values = st.one_of(st.floats(0.0, 1.0, allow_nan=False), special)
    return draw(arrays(np.float64, (s, k), elements=values))


@SETTINGS
@given(ious=iou_matrices(), t=st.sampled_from([0.85, 0.9, 0.95, 0.0, 1.0]),
       compat=st.sampled_from([None, "ritm"]))
def test_figures_are_bounded_and_consistent(ious, t, compat):
    s, k = ious.shape
    noc = metrics.noc(ious, t, compat)
    assert noc.shape == (s,) and ((1 <= noc) & (noc <= k)).all()
    nof = metrics.nof(ious, t, compat)
    assert 0 <= nof <= s
    reached = (ious >= metrics.effective_threshold(t, compat)).any(axis=1)
    assert metrics.nof(ious, t) <= metrics.nof(ious, t, "ritm")
    if compat is None:
        assert nof == int((~reached).sum())
        assert (noc[~reached] == k).all()
    miou = metrics.miou_curve(ious)
    assert miou.shape == (k,) and ((0 <= miou) & (miou <= 1)).all()
    assert 0.0 <= metrics.auc(ious) <= 1.0
    for at, row in metrics.proportion_above(ious).items():
        assert at <= k and all(0.0 <= v <= 1.0 for v in row.values())
    secs = np.abs(ious) * 0.01
    assert metrics.seconds_to_reach(secs, noc) >= 0.0


@SETTINGS
@given(lengths=st.lists(st.integers(1, 30), min_size=1, max_size=8),
       k=st.integers(1, 20))
def test_fill_curves_carries_last_value(lengths, k):
    curves = [np.linspace(0, 1, n) for n in lengths]
    out = metrics.fill_curves(curves, k)
    assert out.shape == (len(lengths), k) and np.isfinite(out).all()
    for row, c in zip(out, curves):
        n = min(len(c), k)
        assert (row[:n] == c[:n]).all() and (row[n:] == c[n - 1]).all()


@SETTINGS
@given(data=st.data())
def test_iou_never_nan(data):
    target, ignore, pred = data.draw(mask_triples())
    try:
        value = iou(target, pred, ignore)
    except SampleError:
        assert not ((target | pred) & ~ignore).any()
        return
    assert 0.0 <= value <= 1.0


def test_figures_of_no_sample_do_not_crash():
    ious = np.zeros((0, 5))
    assert metrics.noc(ious, 0.9).shape == (0,)
    assert metrics.nof(ious, 0.9) == 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)     # numpy: mean of empty slice
        assert np.isnan(metrics.miou_curve(ious)).all()

"""Tests of the color-prior learner: colour histograms per category, the mean-filtered
likelihood proposal with the ignore mask (SIIS Sec. 3.2), reset, and a segmentation that
learning leaves unchanged."""

from __future__ import annotations

import numpy as np
import pytest

from iseg_bench.adapters.base import has_hook
from iseg_bench.adapters.classical import RandomWalkerAdapter
from iseg_bench.adapters.color_prior import ColorPriorAdapter
from iseg_bench.adapters.registry import build_adapter
from iseg_bench.errors import UsageError
from iseg_bench.types import Click


def scene(objects, size=(60, 80), bg=(30, 90, 30), fg=(200, 40, 40)):
    """Image with fg-coloured rectangles on bg; returns (image, [mask per object])."""
    img = np.zeros((*size, 3), np.uint8)
    img[:] = bg
    masks = []
    for (y0, y1, x0, x1) in objects:
        m = np.zeros(size, bool)
        m[y0:y1, x0:x1] = True
        img[m] = fg
        masks.append(m)
    return img, masks


def test_registered_and_hooks():
    a = build_adapter("color-prior")
    assert isinstance(a, ColorPriorAdapter) and isinstance(a, RandomWalkerAdapter)
    assert has_hook(a, "propose_click") and has_hook(a, "learn")
    assert a.describe()["bins"] == 16


def test_no_proposal_before_learning_and_after_reset():
    a = ColorPriorAdapter()
    img, (m,) = scene([(10, 30, 10, 30)])
    assert a.propose_click(img, "car", np.zeros(m.shape, bool)) is None
    a.learn(img, "car", m)
    assert m[a.propose_click(img, "car", np.zeros(m.shape, bool))]
    assert a.propose_click(img, "dog", np.zeros(m.shape, bool)) is None
    assert a.propose_click(img, None, np.zeros(m.shape, bool)) is None
    a.reset_learning()
    assert a.learned_categories() == []
    assert a.propose_click(img, "car", np.zeros(m.shape, bool)) is None


def test_proposal_lands_inside_the_learned_colour_and_interior():
    a = ColorPriorAdapter()
    img, (m,) = scene([(5, 25, 5, 25)])
    a.learn(img, "car", m)
    img2, (m2,) = scene([(20, 50, 30, 70)])
    y, x = a.propose_click(img2, "car", np.zeros(m2.shape, bool))
    assert m2[y, x]
    # interior-most point of the plateau: on the medial ridge of the 30 x 40 rectangle,
    # at least half its height (15 px) from every side, give or take the filter's rim
    assert abs(y - 34.5) <= 1 and 30 + 13 <= x <= 70 - 13


def test_proposal_skips_ignored_instance():
    a = ColorPriorAdapter()
    img, (m,) = scene([(5, 25, 5, 25)])
    a.learn(img, "car", m)
    img2, (first, second) = scene([(5, 30, 5, 30), (35, 55, 50, 75)])
    p1 = a.propose_click(img2, "car", np.zeros(first.shape, bool))
    assert first[p1]  # the larger object first
    p2 = a.propose_click(img2, "car", first)
    assert second[p2] and not first[p2]
    assert a.propose_click(img2, "car", np.ones(first.shape, bool)) is None


def test_proposal_at_full_resolution_with_downscaling():
    a = ColorPriorAdapter(max_side=64)
    img, (m,) = scene([(40, 120, 60, 180)], size=(200, 260))
    a.learn(img, "car", m)
    img2, (m2,) = scene([(100, 180, 20, 90)], size=(200, 260))
    y, x = a.propose_click(img2, "car", np.zeros(m2.shape, bool))
    assert 0 <= y < 200 and 0 <= x < 260 and m2[y, x]


def test_learning_accumulates_histograms():
    a = ColorPriorAdapter(bins=4)
    img, (m,) = scene([(10, 30, 10, 30)])
    a.learn(img, "car", m)
    a.learn(img, "car", m)
    fg, bg = a._models["car"]
    assert fg.sum() == 2 * m.sum() and bg.sum() == 2 * (~m).sum()
    post = a.likelihood(img, "car")
    assert post.shape == m.shape and post[m].min() > 0.99 and post[~m].max() < 0.01
    with pytest.raises(ValueError):
        a.learn(img, "car", m[:10])
    with pytest.raises(ValueError):
        ColorPriorAdapter(bins=1)


def test_segmentation_is_unchanged_by_learning_and_follows_the_clicks():
    # docs/models/baselines.md: learning only feeds the first-click proposal; the
    # segmentation is the random walker's on the clicks (the object: a red rectangle)
    img, (m,) = scene([(10, 40, 20, 60)])
    rng = np.random.default_rng(0)
    img = np.clip(img.astype(int) + rng.integers(-20, 20, img.shape), 0, 255).astype(np.uint8)
    clicks = [Click(25, 40, True), Click(5, 5, False)]
    prev = np.zeros(m.shape, np.float32)
    fresh, learned = ColorPriorAdapter(), ColorPriorAdapter()
    learned.learn(img, "car", ~m)              # a prior that contradicts the object
    for k in (1, 2):
        fresh.set_image(img)
        learned.set_image(img)
        p = fresh.predict(clicks[:k], prev)
        assert np.array_equal(p, learned.predict(clicks[:k], prev))
        assert p.shape == m.shape and p.dtype == np.float32
    fg = p > 0.5
    assert (fg & m).sum() / (fg | m).sum() > 0.95    # IoU with the rectangle


@pytest.mark.parametrize("name,known", [("grabcut", "iterations"), ("random-walker", "beta"),
                                        ("color-prior", "bins"), ("instant", "radius"),
                                        ("faulty", "faults"), ("random-walker-multi", "beta")])
def test_unknown_model_option_is_a_usage_error_naming_the_model(name, known):
    with pytest.raises(UsageError, match=rf"model {name}: unknown option\(s\) nope; "
                                         rf"allowed: .*\b{known}\b"):
        build_adapter(name, nope=1)


def test_model_options_are_typed():
    a = build_adapter("color-prior", max_side="64", bins="8")
    assert a.max_side == 64 and a.bins == 8 and a.describe()["seed_radius"] == 5.0
    with pytest.raises(UsageError, match="model grabcut: option iterations must be an integer"):
        build_adapter("grabcut", iterations="2.5")

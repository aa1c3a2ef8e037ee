"""Tests of the synthetic category dataset used with the sequential protocol: seeded,
categories sharing a colour model, two-object images sharing one image."""

from __future__ import annotations

import numpy as np
import pytest

from iseg_bench.datasets.registry import get_dataset
from iseg_bench.datasets.synthetic_categories import (
    MIN_COLOUR_GAP,
    SyntheticCategoriesDataset,
    category_colours,
)
from iseg_bench.errors import DatasetError, UsageError


def test_seeded_and_independent_of_load_order():
    a = SyntheticCategoriesDataset(seed=3, n_categories=2, per_category=4)
    b = get_dataset("synthetic-categories", seed=3, n_categories=2, per_category=4)
    assert a.sample_ids() == b.sample_ids()
    for i in reversed(range(len(a))):
        sa, sb = a.load(i), b.load(i)
        assert np.array_equal(sa.image, sb.image) and np.array_equal(sa.target, sb.target)
    c = SyntheticCategoriesDataset(seed=4, n_categories=2, per_category=4)
    assert not np.array_equal(a.load(0).image, c.load(0).image)


def test_categories_share_a_colour_model_and_instances_share_images():
    ds = SyntheticCategoriesDataset(seed=0, n_categories=3, per_category=8)
    cats = [r.meta["category"] for r in ds.refs]
    assert cats == sorted(cats) and set(cats) == {"cat00", "cat01", "cat02"}
    pairs = {}
    for i, r in enumerate(ds.refs):
        pairs.setdefault(r.meta["image_id"], []).append(i)
    shared = [v for v in pairs.values() if len(v) == 2]
    assert shared  # some images hold two objects of their category
    s0, s1 = ds.load(shared[0][0]), ds.load(shared[0][1])
    assert np.array_equal(s0.image, s1.image) and not (s0.target & s1.target).any()
    for i in range(len(ds)):
        s = ds.load(i)
        a, b = category_colours(0, int(s.meta["category"][3:]))
        mean = s.image[s.target].mean(axis=0)
        # object pixels sit between the two category colours (plus noise)
        assert np.linalg.norm(mean - (a + b) / 2) < MIN_COLOUR_GAP / 2
        assert s.target.sum() > 100 and not s.ignore.any()


def test_bad_options():
    with pytest.raises(UsageError, match="unknown"):
        get_dataset("synthetic-categories", colour=1)
    with pytest.raises(DatasetError):
        SyntheticCategoriesDataset(n_categories=0)

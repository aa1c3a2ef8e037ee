"""The synthetic single-object dataset: determinism, shapes, ignore band, difficulty."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from iseg_bench.datasets.registry import get_dataset
from iseg_bench.datasets.synthetic import SHAPES, SyntheticDataset, boundary_band
from iseg_bench.errors import DatasetError, UsageError


def assert_same(a, b):
    np.testing.assert_array_equal(a.image, b.image)
    np.testing.assert_array_equal(a.target, b.target)
    np.testing.assert_array_equal(a.ignore, b.ignore)
    assert a.sample_id == b.sample_id and a.meta == b.meta


def test_same_seed_same_arrays():
    one = SyntheticDataset.from_root(None, seed=3, n_samples=4)
    two = SyntheticDataset.from_root(None, seed=3, n_samples=4)
    for index in range(4):
        assert_same(one.load(index), two.load(index))


def test_any_index_loads_independently():
    ds = SyntheticDataset(n_samples=6)
    late_first = ds.load(5)
    for index in range(5):
        ds.load(index)
    assert_same(late_first, ds.load(5))
    assert_same(ds.load(-1), late_first)
    with pytest.raises(IndexError):
        ds.load(6)


def test_different_seeds_differ():
    a = SyntheticDataset(seed=0).load(0)
    b = SyntheticDataset(seed=1000).load(0)
    assert not np.array_equal(a.image, b.image)
    assert not np.array_equal(a.target, b.target)
    ds = SyntheticDataset()
    assert not np.array_equal(ds.load(0).image, ds.load(1).image)


@pytest.mark.parametrize("size", [(240, 320), (97, 131)])
def test_shapes_dtypes_and_nonempty_target(size):
    ds = SyntheticDataset(n_samples=8, size=size)
    assert len(ds) == 8 and len(set(ds.sample_ids())) == 8
    for index in range(len(ds)):
        s = ds.load(index)
        assert s.image.shape == (*size, 3) and s.image.dtype == np.uint8
        assert s.target.shape == size and s.target.dtype == bool
        assert s.ignore.shape == size and s.ignore.dtype == bool and not s.ignore.any()
        assert 0.01 < s.target.mean() < 0.6
        assert s.dataset == "synthetic"
        assert s.meta["category"] in SHAPES and s.meta["is_thing"] is True


def test_ignore_band_straddles_the_boundary_and_leaves_the_rest_unchanged():
    plain = SyntheticDataset(n_samples=3).load(2)
    banded = SyntheticDataset(n_samples=3, ignore_band=4).load(2)
    np.testing.assert_array_equal(plain.image, banded.image)
    np.testing.assert_array_equal(plain.target, banded.target)
    band = banded.ignore
    assert (band & banded.target).any() and (band & ~banded.target).any()
    assert (banded.target & ~band).any()
    boundary = banded.target ^ ndimage.binary_erosion(banded.target)
    assert band[boundary].all()
    assert ndimage.distance_transform_edt(~boundary)[band].max() <= 3


def test_boundary_band_widths_by_hand():
    mask = np.zeros((9, 9), bool)
    mask[2:7, 2:7] = True
    assert not boundary_band(mask, 0).any()
    one = boundary_band(mask, 1)
    expected = mask & ~ndimage.binary_erosion(mask)
    np.testing.assert_array_equal(one, expected)
    two = boundary_band(mask, 2)
    assert two.sum() == one.sum() + 7 * 7 - 5 * 5 - 4   # + outer ring, corners excluded
    assert not two[0].any() and not two[4, 4]


def test_colour_alone_does_not_solve_it():
    """Oracle per-class mean colours separate fore- from background well but not perfectly."""
    ds = SyntheticDataset(n_samples=10)
    ious = []
    for index in range(len(ds)):
        s = ds.load(index)
        pixels = s.image.reshape(-1, 3).astype(float)
        t = s.target.ravel()
        fg, bg = pixels[t].mean(0), pixels[~t].mean(0)
        pred = ((pixels - fg) ** 2).sum(1) < ((pixels - bg) ** 2).sum(1)
        ious.append((pred & t).sum() / (pred | t).sum())
    assert 0.6 < np.mean(ious) < 0.97


def test_registry_and_options(monkeypatch):
    monkeypatch.delenv("ISEG_BENCH_DATA", raising=False)
    ds = get_dataset("synthetic", None, n_samples=2, seed=5)
    assert isinstance(ds, SyntheticDataset) and ds.sample_ids() == ["synthetic_5_0000",
                                                                      "synthetic_5_0001"]
    assert ds.describe()["seed"] == 5
    with pytest.raises(UsageError, match="unknown option"):
        SyntheticDataset.from_root(None, colour="red")
    with pytest.raises(DatasetError):
        SyntheticDataset.from_root(None, ignore_band=-1)


def test_options_are_typed_and_listed():
    ds = get_dataset("synthetic", None, n_samples="2", size="40,48")
    assert len(ds) == 2 and ds.load(0).image.shape == (40, 48, 3)
    with pytest.raises(UsageError, match=r"dataset synthetic: unknown option\(s\) colour; "
                                         r"allowed: ignore_band, n_samples, seed, size"):
        get_dataset("synthetic", None, colour="red")
    with pytest.raises(UsageError, match="option n_samples must be an integer"):
        get_dataset("synthetic", None, n_samples="2.5")

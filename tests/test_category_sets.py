"""Loader tests for the SIIS category sets on small fixtures written in each format:
CoSOD3k / CoCA (a folder per category), LeedsButterfly (species in the file name) and
Fashionpedia (COCO-format JSON decoded with pycocotools)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from iseg_bench.datasets.category_sets import (
    CocaDataset,
    CoSOD3kDataset,
    FashionpediaDataset,
    LeedsButterflyDataset,
    instance_ids,
)
from iseg_bench.datasets.registry import get_dataset
from iseg_bench.errors import DatasetError, UsageError

H, W = 24, 32


def _image(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, (H, W, 3), dtype=np.uint8)


def _write(path: Path, array: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), array)


def _box(y0, y1, x0, x1) -> np.ndarray:
    m = np.zeros((H, W), bool)
    m[y0:y1, x0:x1] = True
    return m


def make_category_folders(root: Path, image_dir: str, mask_dir: str, inst_dir: str):
    boxes = {"apple": [_box(2, 10, 2, 10), _box(5, 20, 10, 30)],
             "zebra crossing": [_box(0, 5, 0, 32)]}
    for cat, masks in boxes.items():
        for i, m in enumerate(masks):
            _write(root / image_dir / cat / f"img{i}.jpg", _image(i))
            _write(root / mask_dir / cat / f"img{i}.png", m.astype(np.uint8) * 255)
            inst = m.astype(np.uint8) * 40
            if i == 1:  # a second instance in the same image, grey value 80
                inst[20:24, 0:5] = 80
            _write(root / inst_dir / cat / f"img{i}.png", inst)
    return boxes


@pytest.mark.parametrize("cls,folder,dirs", [
    (CoSOD3kDataset, "CoSOD3k", ("Image", "GroundTruth", "Instance")),
    (CocaDataset, "CoCA", ("image", "binary", "instance")),
])
def test_category_folders_object_and_instance_levels(tmp_path, cls, folder, dirs):
    boxes = make_category_folders(tmp_path / folder, *dirs)
    ds = cls.from_root(tmp_path, level="object")
    assert ds.sample_ids() == ["apple/img0", "apple/img1", "zebra crossing/img0"]
    s = ds.load(1)
    assert s.meta["category"] == "apple" and s.image.shape == (H, W, 3)
    assert np.array_equal(s.target, boxes["apple"][1]) and not s.ignore.any()
    inst = cls.from_root(tmp_path)  # instance level by default, as SIIS counts
    assert inst.sample_ids() == ["apple/img0#40", "apple/img1#40", "apple/img1#80",
                                 "zebra crossing/img0#40"]
    a, b = inst.load(1), inst.load(2)
    assert np.array_equal(a.target, boxes["apple"][1])
    assert b.target.sum() == 20 and b.meta["image_id"] == a.meta["image_id"]
    assert [r.meta["category"] for r in inst.refs] == ["apple"] * 3 + ["zebra crossing"]


def test_category_folders_errors(tmp_path):
    with pytest.raises(DatasetError, match="CoSOD3k"):
        CoSOD3kDataset.from_root(tmp_path)
    make_category_folders(tmp_path / "CoSOD3k", "Image", "GroundTruth", "Instance")
    (tmp_path / "CoSOD3k" / "GroundTruth" / "apple" / "img1.png").unlink()
    with pytest.raises(DatasetError, match="without a mask"):
        CoSOD3kDataset.from_root(tmp_path, level="object")
    with pytest.raises(UsageError, match="level"):
        CoSOD3kDataset.from_root(tmp_path, level="parts")


def test_instance_ids_colour():
    m = np.zeros((4, 4, 3), np.uint8)
    m[0, 0] = (1, 2, 3)
    m[3, 3] = (0, 0, 9)
    ids, found = instance_ids(m)
    assert found == [9, (1 << 16) | (2 << 8) | 3]
    assert (ids == 9).sum() == 1


def test_leeds_butterfly_species_from_file_name(tmp_path):
    root = tmp_path / "leedsbutterfly"
    for stem, m in [("0010001", _box(2, 12, 2, 12)), ("0090002", _box(0, 24, 0, 4)),
                    ("0010003", _box(5, 6, 5, 6))]:
        _write(root / "images" / f"{stem}.png", _image(int(stem)))
        _write(root / "segmentations" / f"{stem}_seg0.png", m.astype(np.uint8) * 255)
    ds = get_dataset("leeds-butterfly", tmp_path)
    assert ds.sample_ids() == ["0010001", "0010003", "0090002"]
    assert [r.meta["category"] for r in ds.refs] == ["Danaus plexippus"] * 2 + ["Vanessa atalanta"]
    s = ds.load(2)
    assert s.target.sum() == 24 * 4
    (root / "segmentations" / "0090002_seg0.png").unlink()
    with pytest.raises(DatasetError, match="_seg0"):
        LeedsButterflyDataset.from_root(tmp_path)
    assert LeedsButterflyDataset.species("0420001") == "species042"


def test_fashionpedia_coco_json(tmp_path):
    from pycocotools import mask as mask_utils

    root = tmp_path / "Fashionpedia"
    _write(root / "test" / "a.jpg", _image(1))
    _write(root / "test" / "b.jpg", _image(2))
    rle_mask = _box(10, 20, 5, 25)
    rle = mask_utils.encode(np.asfortranarray(rle_mask.astype(np.uint8)))
    rle["counts"] = rle["counts"].decode("ascii")
    data = {
        "images": [{"id": 1, "file_name": "a.jpg", "height": H, "width": W},
                   {"id": 2, "file_name": "b.jpg", "height": H, "width": W}],
        "categories": [{"id": 1, "name": "sleeve"}, {"id": 2, "name": "pocket"}],
        "annotations": [
            {"id": 11, "image_id": 2, "category_id": 2, "iscrowd": 0, "segmentation": rle},
            {"id": 10, "image_id": 1, "category_id": 1, "iscrowd": 0,
             # two polygons of one annotation: two squares, merged
             "segmentation": [[2, 2, 8, 2, 8, 8, 2, 8], [20, 10, 26, 10, 26, 16, 20, 16]]},
            {"id": 12, "image_id": 1, "category_id": 1, "iscrowd": 1,
             "segmentation": [[0, 0, 3, 0, 3, 3]]},
        ]}
    (root / "instances_attributes_val2020.json").write_text(json.dumps(data))
    ds = get_dataset("fashionpedia", tmp_path)
    assert ds.sample_ids() == ["1_10", "2_11"]  # by file name, crowd skipped
    s0, s1 = ds.load(0), ds.load(1)
    assert s0.meta["category"] == "sleeve" and s1.meta["category"] == "pocket"
    assert np.array_equal(s1.target, rle_mask)
    n, labels = cv2.connectedComponents(s0.target.astype(np.uint8))
    assert n - 1 == 2 and 40 <= s0.target.sum() <= 2 * 49
    assert "segmentation" not in s0.meta
    (root / "instances_attributes_val2020.json").write_text("{}")
    with pytest.raises(DatasetError, match="COCO-format"):
        FashionpediaDataset.from_root(tmp_path)


def test_registered_names(tmp_path):
    from iseg_bench.datasets.registry import DATASETS

    for name in ("cosod3k", "coca", "leeds-butterfly", "fashionpedia", "synthetic-categories"):
        assert name in DATASETS

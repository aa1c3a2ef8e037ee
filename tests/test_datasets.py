"""Click-benchmark loaders: tiny fixtures in each on-disk format, error messages, listing,
and the real GrabCut / DAVIS / COCO-MVal data (through the `data_root` fixture)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest
import scipy.io
from PIL import Image

from iseg_bench.datasets.decoders import decode_band_mask, decode_nonzero_mask
from iseg_bench.datasets.folder_pairs import (
    BerkeleyDataset,
    CocoMValDataset,
    DavisDataset,
    GrabCutDataset,
    coco_mval_category,
)
from iseg_bench.datasets.instance_lists import PascalVocDataset, SbdDataset, SbdTrainDataset
from iseg_bench.datasets.listing import list_datasets
from iseg_bench.datasets.registry import DATASETS, get_dataset
from iseg_bench.errors import DatasetError, UsageError

H, W = 6, 8


# ---------------------------------------------------------------------------------------
# fixture writers
# ---------------------------------------------------------------------------------------

def write_cv2(path: Path, array: np.ndarray) -> Path:
    """Write with cv2 (colour arrays are given in RGB and stored as BGR)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = array[:, :, ::-1] if array.ndim == 3 else array
    assert cv2.imwrite(str(path), np.ascontiguousarray(data))
    return path


def rgb_image(colour=(200, 30, 90), shape=(H, W)) -> np.ndarray:
    return np.full((*shape, 3), colour, dtype=np.uint8)


def trimap() -> np.ndarray:
    """0 background, 255 object, 128 band; 200 counts as object, 100 as background."""
    m = np.zeros((H, W), np.uint8)
    m[1:5, 2:6] = 128
    m[2:4, 3:5] = 255
    m[0, 0] = 200
    m[5, 7] = 100
    return m


def write_palette_png(path: Path, indices: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    im = Image.fromarray(indices.astype(np.uint8), mode="P")
    palette = np.random.default_rng(0).integers(0, 256, 768).astype(np.uint8)
    im.putpalette(palette.tolist())
    im.save(path)
    return path


def make_grabcut(root: Path) -> Path:
    gc = root / "GrabCut"
    write_cv2(gc / "data_GT" / "b.bmp", rgb_image((10, 20, 30)))
    write_cv2(gc / "data_GT" / "a.jpg", rgb_image())
    write_cv2(gc / "data_GT" / "C.JPG", rgb_image())
    write_cv2(gc / "boundary_GT" / "b.bmp", trimap())
    m = np.zeros((H, W), np.uint8)
    m[:3] = 255
    write_cv2(gc / "boundary_GT" / "a.bmp", m)
    write_cv2(gc / "boundary_GT" / "C.bmp", 255 - m)
    return gc


def write_sbd_mat(path: Path, seg: np.ndarray, categories: list[int]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    cats = np.array(categories, dtype=np.uint8).reshape(-1, 1)
    scipy.io.savemat(str(path), {"GTinst": {"Segmentation": seg.astype(np.uint8),
                                            "Boundaries": np.zeros((len(categories), 1)),
                                            "Categories": cats}})
    return path


def make_sbd(root: Path) -> Path:
    sbd = root / "SBD"
    seg = np.zeros((H, W), np.uint8)
    seg[0:2, 0:3] = 2
    seg[3:6, 4:8] = 1
    write_sbd_mat(sbd / "inst" / "2008_000002.mat", seg, [15, 12])
    write_sbd_mat(sbd / "inst" / "2008_000001.mat", (seg == 1).astype(np.uint8), [7])
    for stem in ("2008_000001", "2008_000002", "2008_000099"):
        write_cv2(sbd / "img" / f"{stem}.jpg", rgb_image())
    (sbd / "val.txt").write_text("2008_000002\n\n2008_000001\n")
    return sbd


def voc_objects() -> np.ndarray:
    obj = np.zeros((H, W), np.uint8)
    obj[0:3, 0:3] = 1
    obj[3:6, 4:8] = 2
    obj[3, 0:3] = 255   # void line
    obj[2:6, 3] = 255
    return obj


def make_voc(root: Path, with_class: bool = True) -> Path:
    voc = root / "PascalVOC"
    obj = voc_objects()
    write_palette_png(voc / "SegmentationObject" / "2007_000033.png", obj)
    write_palette_png(voc / "SegmentationObject" / "2007_000032.png", (obj == 2).astype(np.uint8))
    if with_class:
        cls = np.where(obj == 1, 15, np.where(obj == 2, 12, obj))
        cls[5, 7] = 8   # one stray pixel: the majority class still wins
        write_palette_png(voc / "SegmentationClass" / "2007_000033.png", cls)
        write_palette_png(voc / "SegmentationClass" / "2007_000032.png",
                          np.where(obj == 2, 1, 0))
    for stem in ("2007_000032", "2007_000033"):
        write_cv2(voc / "JPEGImages" / f"{stem}.jpg", rgb_image())
    (voc / "ImageSets" / "Segmentation").mkdir(parents=True)
    (voc / "ImageSets" / "Segmentation" / "val.txt").write_text("2007_000033\n2007_000032\n")
    return voc


# ---------------------------------------------------------------------------------------
# decoding
# ---------------------------------------------------------------------------------------

def test_decode_band_mask_by_hand():
    target, ignore = decode_band_mask(trimap())
    expected_target = np.zeros((H, W), bool)
    expected_target[2:4, 3:5] = True
    expected_target[0, 0] = True
    expected_ignore = np.zeros((H, W), bool)
    expected_ignore[1:5, 2:6] = True
    expected_ignore[2:4, 3:5] = False
    np.testing.assert_array_equal(target, expected_target)
    np.testing.assert_array_equal(ignore, expected_ignore)
    rgb_target, rgb_ignore = decode_band_mask(np.repeat(trimap()[:, :, None], 3, axis=2))
    np.testing.assert_array_equal(rgb_target, expected_target)
    np.testing.assert_array_equal(rgb_ignore, expected_ignore)


def test_decode_band_mask_reads_16_bit_masks_by_their_depth():
    expected_target, expected_ignore = decode_band_mask(trimap())
    wide = trimap().astype(np.uint16)
    for mask in (wide * 257, wide, np.repeat((wide * 257)[:, :, None], 3, axis=2)):
        target, ignore = decode_band_mask(mask)
        np.testing.assert_array_equal(target, expected_target)
        np.testing.assert_array_equal(ignore, expected_ignore)
    assert decode_band_mask(wide * 257)[1].sum() == 12   # the band 32896 is the band
    for bad in (wide * 16, trimap().astype(np.float32), trimap().astype(np.int32)):
        with pytest.raises(ValueError, match="8-bit|dtype"):   # 12-bit data, floats
            decode_band_mask(bad)


def test_16_bit_grabcut_mask_file(tmp_path):
    gc = make_grabcut(tmp_path)
    (gc / "boundary_GT" / "b.bmp").unlink()
    write_cv2(gc / "boundary_GT" / "b.png", trimap().astype(np.uint16) * 257)
    sample = GrabCutDataset.from_root(tmp_path).load(2)
    expected_target, expected_ignore = decode_band_mask(trimap())
    np.testing.assert_array_equal(sample.target, expected_target)
    np.testing.assert_array_equal(sample.ignore, expected_ignore)
    write_cv2(gc / "boundary_GT" / "b.png", trimap().astype(np.uint16) * 16)
    with pytest.raises(DatasetError, match=r"cannot decode mask .*b\.png: 16-bit mask"):
        GrabCutDataset.from_root(tmp_path).load(2)


def test_decode_nonzero_mask_any_channel():
    m = np.zeros((H, W, 3), np.uint8)
    m[0, 0, 0] = 128
    m[1, 1, 2] = 1
    m[2, 2] = 255
    target, ignore = decode_nonzero_mask(m)
    assert sorted(zip(*np.nonzero(target))) == [(0, 0), (1, 1), (2, 2)]
    assert target.dtype == bool and not ignore.any() and ignore.shape == (H, W)
    grey_target, _ = decode_nonzero_mask(m[:, :, 2])
    assert sorted(zip(*np.nonzero(grey_target))) == [(1, 1), (2, 2)]


@pytest.mark.parametrize("stem, category", [
    ("baseball bat03_000000279714", "baseball bat"),
    ("airplane00_000000281693", "airplane"),
    ("toilet10_000000523229", "toilet"),
    ("no_category", None),
])
def test_coco_mval_category(stem, category):
    assert coco_mval_category(stem) == category


# ---------------------------------------------------------------------------------------
# GrabCut / Berkeley
# ---------------------------------------------------------------------------------------

def test_grabcut_fixture_pairs_mixed_extensions_in_sorted_order(tmp_path):
    make_grabcut(tmp_path)
    ds = GrabCutDataset.from_root(tmp_path)
    assert ds.sample_ids() == ["C", "a", "b"]
    assert len(ds) == 3
    sample = ds.load(2)
    assert sample.sample_id == "b" and sample.dataset == "grabcut"
    assert sample.image.shape == (H, W, 3) and sample.image.dtype == np.uint8
    np.testing.assert_array_equal(sample.image[0, 0], [10, 20, 30])   # RGB, not BGR
    expected_target, expected_ignore = decode_band_mask(trimap())
    np.testing.assert_array_equal(sample.target, expected_target)
    np.testing.assert_array_equal(sample.ignore, expected_ignore)
    assert sample.meta["category"] is None and sample.meta["is_thing"] is True
    first = ds.load(0)
    assert first.target[3:].all() and not first.target[:3].any() and not first.ignore.any()


def test_berkeley_uses_the_grabcut_decoding(tmp_path):
    write_cv2(tmp_path / "Berkeley" / "images" / "42049.jpg", rgb_image())
    write_cv2(tmp_path / "Berkeley" / "masks" / "42049.png", trimap())
    ds = get_dataset("berkeley", tmp_path)
    assert isinstance(ds, BerkeleyDataset) and ds.sample_ids() == ["42049"]
    sample = ds.load(0)
    expected_target, expected_ignore = decode_band_mask(trimap())
    np.testing.assert_array_equal(sample.target, expected_target)
    np.testing.assert_array_equal(sample.ignore, expected_ignore)
    assert sample.dataset == "berkeley"


# ---------------------------------------------------------------------------------------
# DAVIS / COCO-MVal
# ---------------------------------------------------------------------------------------

def test_davis_fixture_rgb_masks(tmp_path):
    for i, value in ((1, 128), (0, 1)):
        write_cv2(tmp_path / "DAVIS" / "img" / f"{i:03d}.jpg", rgb_image())
        m = np.zeros((H, W, 3), np.uint8)
        m[1:3, 2:5] = value
        write_cv2(tmp_path / "DAVIS" / "gt" / f"{i:03d}.png", m)
    ds = DavisDataset.from_root(tmp_path)
    assert ds.sample_ids() == ["000", "001"]
    for index in range(2):
        sample = ds.load(index)
        assert sample.target.sum() == 6 and sample.target[1:3, 2:5].all()
        assert not sample.ignore.any()


def test_coco_mval_fixture_categories_and_order(tmp_path):
    stems = ["zebra00_000000000009", "baseball bat03_000000279714", "airplane01_000000000123"]
    for stem in stems:
        write_cv2(tmp_path / "COCO_MVal" / "img" / f"{stem}.jpg", rgb_image())
        m = np.zeros((H, W), np.uint8)
        m[2:4, 2:4] = 255
        write_cv2(tmp_path / "COCO_MVal" / "gt" / f"{stem}.png", m)
    ds = CocoMValDataset.from_root(tmp_path)
    assert ds.sample_ids() == sorted(stems)
    sample = ds.load(1)
    assert sample.sample_id == "baseball bat03_000000279714"
    assert sample.meta == {"category": "baseball bat", "is_thing": True, "coco_id": 279714}
    assert sample.target.sum() == 4 and not sample.ignore.any()
    assert [ds.load(i).meta["category"] for i in range(3)] == ["airplane", "baseball bat",
                                                             "zebra"]


# ---------------------------------------------------------------------------------------
# SBD
# ---------------------------------------------------------------------------------------

def test_sbd_one_sample_per_instance(tmp_path):
    make_sbd(tmp_path)
    ds = SbdDataset.from_root(tmp_path)
    assert ds.sample_ids() == ["2008_000001_1", "2008_000002_1", "2008_000002_2"]
    s = ds.load(2)
    expected = np.zeros((H, W), bool)
    expected[0:2, 0:3] = True
    np.testing.assert_array_equal(s.target, expected)
    assert not s.ignore.any() and s.image.shape == (H, W, 3)
    assert s.meta["category"] == "dog" and s.meta["instance_id"] == 2
    assert ds.load(1).meta["category"] == "person"
    assert ds.load(0).meta["category"] == "car"
    assert ds.load(1).target.sum() == 12


def test_sbd_listed_id_without_annotation(tmp_path):
    sbd = make_sbd(tmp_path)
    (sbd / "val.txt").write_text("2008_000001\n2008_000099\n")
    with pytest.raises(DatasetError, match=r"2008_000099[\s\S]*Expected layout"):
        SbdDataset.from_root(tmp_path)


def test_sbd_missing_list_names_layout(tmp_path):
    sbd = make_sbd(tmp_path)
    (sbd / "val.txt").unlink()
    with pytest.raises(DatasetError, match=r"val\.txt not found[\s\S]*SBD/inst"):
        SbdDataset.from_root(tmp_path)


def test_sbd_corrupt_mat_fails_only_its_sample(tmp_path):
    sbd = make_sbd(tmp_path)
    (sbd / "inst" / "2008_000001.mat").write_bytes(b"not a mat file")
    ds = SbdDataset.from_root(tmp_path)
    assert ds.sample_ids() == ["2008_000001", "2008_000002_1", "2008_000002_2"]
    with pytest.raises(DatasetError, match="2008_000001.mat"):
        ds.load(0)
    assert ds.load(1).target.any()


def test_sbd_split_option(tmp_path):
    sbd = make_sbd(tmp_path)
    (sbd / "train.txt").write_text("2008_000001\n")
    assert SbdDataset.from_root(tmp_path, split="train").sample_ids() == ["2008_000001_1"]
    with pytest.raises(UsageError, match="unknown option"):
        SbdDataset.from_root(tmp_path, subset="train")


def test_sbd_train_reads_train_txt_and_takes_no_option(tmp_path):
    sbd = make_sbd(tmp_path)
    (sbd / "train.txt").write_text("2008_000002\n")
    ds = get_dataset("sbd-train", tmp_path)
    assert isinstance(ds, SbdTrainDataset)
    assert ds.sample_ids() == ["2008_000002_1", "2008_000002_2"]
    assert ds.load(1).meta["category"] == "dog"       # VOC class 12 of instance 2
    with pytest.raises(UsageError, match="unknown option"):
        get_dataset("sbd-train", tmp_path, split="val")
    (sbd / "train.txt").unlink()
    with pytest.raises(DatasetError, match=r"train\.txt not found"):
        get_dataset("sbd-train", tmp_path)


def test_evaluation_sets_are_declared():
    evaluation = {"grabcut", "berkeley", "davis", "coco-mval", "sbd", "pascalvoc",
                  "coco-panoptic", "ade20k-panoptic", "coco-panoptic-full",
                  "ade20k-panoptic-full", "ade20k-scribble"}
    training = {"sbd-train", "coco-lvis", "coco-panoptic-train-full", "synthetic",
                "synthetic-panoptic", "synthetic-categories"}
    for name in evaluation | training:
        assert DATASETS.resolve(name).evaluation_set is (name in evaluation), name


# ---------------------------------------------------------------------------------------
# PASCAL VOC
# ---------------------------------------------------------------------------------------

def test_voc_instances_void_and_classes(tmp_path):
    make_voc(tmp_path)
    ds = PascalVocDataset.from_root(tmp_path)
    assert ds.sample_ids() == ["2007_000032_1", "2007_000033_1", "2007_000033_2"]
    obj = voc_objects()
    s = ds.load(1)
    np.testing.assert_array_equal(s.target, obj == 1)
    np.testing.assert_array_equal(s.ignore, obj == 255)
    assert s.meta["category"] == "person"
    assert ds.load(2).meta["category"] == "dog"
    assert ds.load(0).meta["category"] == "aeroplane"
    np.testing.assert_array_equal(ds.load(2).target, obj == 2)


def test_voc_without_segmentation_class_has_no_category(tmp_path):
    make_voc(tmp_path, with_class=False)
    ds = PascalVocDataset.from_root(tmp_path)
    assert [ds.load(i).meta["category"] for i in range(len(ds))] == [None, None, None]


def test_voc_rgb_annotation_is_rejected_naming_the_file(tmp_path):
    voc = make_voc(tmp_path)
    Image.fromarray(rgb_image()).save(voc / "SegmentationObject" / "2007_000032.png")
    ds = PascalVocDataset.from_root(tmp_path)
    with pytest.raises(DatasetError, match=r"2007_000032\.png"):
        ds.load(0)


# ---------------------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("cls", [GrabCutDataset, BerkeleyDataset, DavisDataset,
                                 CocoMValDataset, SbdDataset, PascalVocDataset])
def test_no_data_root_says_how_to_give_one(cls):
    with pytest.raises(DatasetError, match=r"--data-root[\s\S]*ISEG_BENCH_DATA"):
        cls.from_root(None)


@pytest.mark.parametrize("cls", [GrabCutDataset, BerkeleyDataset, DavisDataset,
                                 CocoMValDataset, SbdDataset, PascalVocDataset])
def test_missing_folder_names_layout_and_source(cls, tmp_path):
    with pytest.raises(DatasetError) as info:
        cls.from_root(tmp_path)
    message = str(info.value)
    assert f"{cls.folder}/ not found" in message
    assert cls.layout in message and cls.source in message


def test_missing_mask_folder(tmp_path):
    write_cv2(tmp_path / "GrabCut" / "data_GT" / "a.jpg", rgb_image())
    with pytest.raises(DatasetError, match=r"boundary_GT/ not found[\s\S]*Expected layout"):
        GrabCutDataset.from_root(tmp_path)


def test_empty_folders_have_no_pairs(tmp_path):
    (tmp_path / "DAVIS" / "img").mkdir(parents=True)
    (tmp_path / "DAVIS" / "gt").mkdir()
    with pytest.raises(DatasetError, match="no image/mask pairs"):
        DavisDataset.from_root(tmp_path)


def test_unpaired_mask_is_named(tmp_path):
    gc = make_grabcut(tmp_path)
    write_cv2(gc / "boundary_GT" / "orphan.bmp", trimap())
    with pytest.raises(DatasetError, match=r"unpaired files: 1 mask.*orphan\.bmp"):
        GrabCutDataset.from_root(tmp_path)


def test_unpaired_image_is_named(tmp_path):
    gc = make_grabcut(tmp_path)
    (gc / "boundary_GT" / "a.bmp").unlink()
    with pytest.raises(DatasetError, match=r"image\(s\) in data_GT/ without a mask: a\.jpg"):
        GrabCutDataset.from_root(tmp_path)


def test_two_images_with_one_stem(tmp_path):
    gc = make_grabcut(tmp_path)
    write_cv2(gc / "data_GT" / "a.bmp", rgb_image())
    with pytest.raises(DatasetError, match="share the stem 'a'"):
        GrabCutDataset.from_root(tmp_path)


def test_unrelated_files_are_skipped(tmp_path):
    gc = make_grabcut(tmp_path)
    (gc / "data_GT" / "Thumbs.db").write_bytes(b"x")
    (gc / "data_GT" / ".DS_Store").write_bytes(b"x")
    assert len(GrabCutDataset.from_root(tmp_path)) == 3


def test_size_mismatch_names_the_mask(tmp_path):
    gc = make_grabcut(tmp_path)
    write_cv2(gc / "boundary_GT" / "b.bmp", np.full((H + 1, W), 255, np.uint8))
    ds = GrabCutDataset.from_root(tmp_path)
    with pytest.raises(DatasetError, match=r"b\.bmp is 8x7 but its image is 8x6"):
        ds.load(2)


def test_unreadable_image_is_named(tmp_path):
    gc = make_grabcut(tmp_path)
    (gc / "data_GT" / "a.jpg").write_bytes(b"\xff\xd8 truncated")
    ds = GrabCutDataset.from_root(tmp_path)
    with pytest.raises(DatasetError, match=r"cannot read image .*a\.jpg"):
        ds.load(1)
    ds.load(2)   # the other samples still load


def test_unreadable_mask_is_named(tmp_path):
    gc = make_grabcut(tmp_path)
    (gc / "boundary_GT" / "b.bmp").write_bytes(b"")
    with pytest.raises(DatasetError, match=r"cannot read mask .*b\.bmp"):
        GrabCutDataset.from_root(tmp_path).load(2)


def test_empty_target_is_an_error(tmp_path):
    gc = make_grabcut(tmp_path)
    only_band = np.where(trimap() == 255, 128, 0).astype(np.uint8)
    write_cv2(gc / "boundary_GT" / "b.bmp", only_band)
    with pytest.raises(DatasetError, match=r"b\.bmp has no object pixel"):
        GrabCutDataset.from_root(tmp_path).load(2)


def test_unknown_option_is_rejected(tmp_path):
    make_grabcut(tmp_path)
    with pytest.raises(UsageError, match="unknown option.*split"):
        GrabCutDataset.from_root(tmp_path, split="val")


# ---------------------------------------------------------------------------------------
# registry and listing
# ---------------------------------------------------------------------------------------

def test_click_benchmarks_are_registered():
    for name in ("grabcut", "berkeley", "davis", "coco-mval", "sbd", "pascalvoc", "synthetic"):
        assert name in DATASETS


def test_listing_reports_found_and_missing(tmp_path):
    make_grabcut(tmp_path)
    rows = {row["name"]: row for row in list_datasets(tmp_path)}
    assert set(rows) == set(DATASETS.entries())
    assert rows["grabcut"] == {"name": "grabcut", "found": True, "n_samples": 3,
                               "path": str(tmp_path / "GrabCut"), "problem": None}
    davis = rows["davis"]
    assert davis["found"] is False and davis["n_samples"] is None
    assert davis["path"] == str(tmp_path / "DAVIS") and "DAVIS/ not found" in davis["problem"]
    assert rows["synthetic"]["found"] is True and rows["synthetic"]["n_samples"] == 20


def test_listing_without_data_root(monkeypatch):
    monkeypatch.delenv("ISEG_BENCH_DATA", raising=False)
    rows = {row["name"]: row for row in list_datasets(None)}
    assert rows["grabcut"]["found"] is False and rows["grabcut"]["path"] is None
    assert "--data-root" in rows["grabcut"]["problem"]


# ---------------------------------------------------------------------------------------
# real data
# ---------------------------------------------------------------------------------------

def test_real_grabcut(data_root):
    ds = get_dataset("grabcut", data_root)
    assert len(ds) == 50 and len(set(ds.sample_ids())) == 50
    assert ds.sample_ids() == sorted(ds.sample_ids())
    samples = [ds.load(i) for i in range(len(ds))]
    with_band = sum(s.ignore.any() for s in samples)
    assert with_band > 40
    for s in samples:
        assert s.image.dtype == np.uint8 and s.image.shape[2] == 3
        assert s.target.shape == s.ignore.shape == s.image.shape[:2]
        assert s.target.any() and not (s.target & s.ignore).any()
    assert samples[0].image.shape == (321, 481, 3)


def test_real_davis(data_root):
    ds = get_dataset("davis", data_root)
    assert len(ds) == 345
    assert ds.sample_ids()[:2] == ["000", "001"]
    for index in (0, 172, 344):
        s = ds.load(index)
        assert s.image.shape == (480, 854, 3) and s.target.shape == (480, 854)
        assert s.target.dtype == bool and s.target.any() and not s.ignore.any()


def test_real_coco_mval(data_root):
    ds = get_dataset("coco-mval", data_root)
    assert len(ds) == 401
    categories = Counter(ref.meta["category"] for ref in ds.refs)
    assert len(categories) == 40 and None not in categories
    assert all(c.strip() == c and not c[-1].isdigit() for c in categories)
    assert min(categories.values()) >= 10
    for index in (0, 200, 400):
        s = ds.load(index)
        assert s.target.shape == s.image.shape[:2] and s.target.any()
        assert s.meta["category"] == ds.refs[index].meta["category"]

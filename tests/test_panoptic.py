"""Tests for the COCO-panoptic-format loader and the ADE20K scribble benchmark manifest, on
tiny fixtures written in the exact format (RGB PNG ids R + 256 G + 256^2 B, JSON)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from iseg_bench.datasets.ade20k_scribble import (
    MANIFEST_NAME,
    Ade20kScribbleDataset,
    build_ade20k_scribble_manifest,
    read_manifest,
)
from iseg_bench.datasets.panoptic import (
    Ade20kPanopticDataset,
    CocoPanopticDataset,
    decode_segment_ids,
    encode_segment_ids,
    full_image_view,
    iter_panoptic,
    load_panoptic_json,
    read_segment_map,
)
from iseg_bench.datasets.registry import get_dataset
from iseg_bench.errors import DatasetError, UsageError

H, W = 12, 16
THING_ID, STUFF_ID, BIG_ID, CROWD_ID = 3, 300, 70000, 9
CATEGORIES = [{"id": 1, "name": "person", "isthing": 1},
              {"id": 2, "name": "sky", "isthing": 0},
              {"id": 7, "name": "car", "isthing": 1}]


def _segments_image_a() -> np.ndarray:
    ids = np.zeros((H, W), dtype=np.int64)
    ids[:4, :] = STUFF_ID            # sky, id 300 = (44, 1, 0)
    ids[5:9, 2:6] = THING_ID         # person
    ids[5:10, 8:14] = BIG_ID         # car, id 70000 = (112, 17, 1)
    ids[10:, :4] = CROWD_ID          # crowd of people
    return ids                       # row 4 and the rest: unlabelled (0)


def _segments_image_b() -> np.ndarray:
    ids = np.zeros((H, W), dtype=np.int64)
    ids[:6, :] = 5                   # sky
    ids[7:11, 1:5] = 6               # person
    ids[7:11, 6:10] = 8              # person
    ids[7:11, 11:15] = 4             # person
    return ids


def _write_split(folder: Path, image_dir: str, png_dir: str, json_name: str,
                 string_ids: bool = False) -> None:
    (folder / image_dir).mkdir(parents=True, exist_ok=True)
    (folder / png_dir).mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    a_id, b_id = ("img_a", "img_b") if string_ids else (101, 102)
    images, annotations = [], []
    for image_id, stem, ids, infos in [
        (b_id, "img_b", _segments_image_b(),
         [(5, 2, 0), (6, 1, 0), (8, 1, 0), (4, 1, 0)]),
        (a_id, "img_a", _segments_image_a(),
         [(STUFF_ID, 2, 0), (THING_ID, 1, 0), (BIG_ID, 7, 0), (CROWD_ID, 1, 1)]),
    ]:
        Image.fromarray(rng.integers(0, 255, (H, W, 3), dtype=np.uint8)).save(
            folder / image_dir / f"{stem}.jpg")
        Image.fromarray(encode_segment_ids(ids)).save(folder / png_dir / f"{stem}.png")
        images.append({"id": image_id, "file_name": f"{stem}.jpg", "height": H, "width": W})
        annotations.append({"image_id": image_id, "file_name": f"{stem}.png",
                            "segments_info": [
                                {"id": sid, "category_id": cid, "iscrowd": crowd,
                                 "area": int((ids == sid).sum()), "bbox": [0, 0, 1, 1]}
                                for sid, cid, crowd in infos]})
    (folder / json_name).parent.mkdir(parents=True, exist_ok=True)
    (folder / json_name).write_text(json.dumps({"images": images, "annotations": annotations,
                                                "categories": CATEGORIES}))


@pytest.fixture()
def coco_root(tmp_path: Path) -> Path:
    _write_split(tmp_path / "COCO_panoptic", "val2017", "panoptic_val2017",
                 "annotations/panoptic_val2017.json")
    return tmp_path


@pytest.fixture()
def ade_root(tmp_path: Path) -> Path:
    _write_split(tmp_path / "ADEChallengeData2016", "images/validation", "ade20k_panoptic_val",
                 "ade20k_panoptic_val.json", string_ids=True)
    return tmp_path


# --- decoding ------------------------------------------------------------------------------

def test_decode_rgb_ids():
    rgb = np.array([[[44, 1, 0], [112, 17, 1], [0, 0, 0], [255, 255, 255]]], dtype=np.uint8)
    assert decode_segment_ids(rgb).tolist() == [[300, 70000, 0, 2 ** 24 - 1]]
    ids = np.array([[0, 1, 255, 256], [65535, 65536, 70000, 2 ** 24 - 1]])
    assert np.array_equal(decode_segment_ids(encode_segment_ids(ids)), ids)
    assert decode_segment_ids(encode_segment_ids(ids)).dtype == np.int32


def test_read_segment_map_channel_order(coco_root: Path):
    seg = read_segment_map(coco_root / "COCO_panoptic" / "panoptic_val2017" / "img_a.png")
    assert seg.dtype == np.int32 and seg.shape == (H, W)
    assert np.array_equal(seg, _segments_image_a())


def test_read_segment_map_rejects_grey(tmp_path: Path):
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "grey.png")
    with pytest.raises(DatasetError, match="RGB"):
        read_segment_map(tmp_path / "grey.png")


def test_load_json_and_iterate(coco_root: Path):
    root = coco_root / "COCO_panoptic"
    images, cats = load_panoptic_json(root / "annotations/panoptic_val2017.json",
                                      root / "val2017", root / "panoptic_val2017")
    assert [im.image_path.name for im in images] == ["img_a.jpg", "img_b.jpg"]
    assert sorted(cats) == [1, 2, 7]
    segs = {s.id: s for s in images[0].segments}
    assert segs[THING_ID].is_thing and not segs[STUFF_ID].is_thing
    assert segs[CROWD_ID].iscrowd and segs[BIG_ID].category == "car"
    it = list(iter_panoptic(root / "annotations/panoptic_val2017.json", root / "val2017",
                            root / "panoptic_val2017"))
    assert it[0][0].name == "img_a.jpg" and np.array_equal(it[0][1], _segments_image_a())


def test_malformed_json(tmp_path: Path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"images": [], "annotations": [{"image_id": 1}],
                               "categories": []}))
    with pytest.raises(DatasetError):
        load_panoptic_json(bad, tmp_path, tmp_path)
    bad.write_text("{not json")
    with pytest.raises(DatasetError):
        load_panoptic_json(bad, tmp_path, tmp_path)


# --- single-object dataset -----------------------------------------------------------------

def test_coco_panoptic_samples(coco_root: Path):
    ds = get_dataset("coco-panoptic", coco_root)
    assert isinstance(ds, CocoPanopticDataset)
    # non-crowd segments only, by image file name then segment id
    assert ds.sample_ids() == ["img_a_3", "img_a_300", "img_a_70000",
                               "img_b_4", "img_b_5", "img_b_6", "img_b_8"]
    s = ds.load(2)
    assert s.meta == {"category": "car", "is_thing": True, "segment_id": BIG_ID,
                      "image_id": 101, "category_id": 7}
    assert s.image.shape == (H, W, 3) and s.image.dtype == np.uint8
    assert np.array_equal(s.target, _segments_image_a() == BIG_ID)
    assert not s.ignore.any()
    stuff = ds.load(1)
    assert stuff.meta["category"] == "sky" and stuff.meta["is_thing"] is False
    d = ds.describe()
    assert d["n_thing"] == 5 and d["n_stuff"] == 2


def test_ignore_crowd_option(coco_root: Path):
    ds = get_dataset("coco-panoptic", coco_root, ignore_crowd=True)
    s = ds.load(0)
    assert np.array_equal(s.ignore, _segments_image_a() == CROWD_ID)
    with pytest.raises(UsageError, match="unknown option"):
        get_dataset("coco-panoptic", coco_root, nope=1)


def test_coco_png_under_annotations(tmp_path: Path):
    _write_split(tmp_path / "COCO_panoptic", "val2017", "annotations/panoptic_val2017",
                 "annotations/panoptic_val2017.json")
    assert len(get_dataset("coco-panoptic", tmp_path)) == 7


def test_missing_layout_names_it(tmp_path: Path):
    with pytest.raises(DatasetError, match="panoptic_val2017.json"):
        get_dataset("coco-panoptic", tmp_path)
    with pytest.raises(DatasetError, match="ade20k_panoptic_val"):
        get_dataset("ade20k-panoptic", tmp_path)
    with pytest.raises(DatasetError):
        CocoPanopticDataset.from_root(None)


def test_segment_without_pixels(coco_root: Path):
    root = coco_root / "COCO_panoptic"
    js = root / "annotations/panoptic_val2017.json"
    data = json.loads(js.read_text())
    data["annotations"][0]["segments_info"].append(
        {"id": 12345, "category_id": 1, "iscrowd": 0, "area": 3, "bbox": [0, 0, 1, 1]})
    js.write_text(json.dumps(data))
    ds = get_dataset("coco-panoptic", coco_root)
    k = ds.sample_ids().index("img_b_12345")
    with pytest.raises(DatasetError, match="no pixel"):
        ds.load(k)


# --- full-image view -------------------------------------------------------------------------

def test_full_image_view(coco_root: Path):
    root = coco_root / "COCO_panoptic"
    images, _ = load_panoptic_json(root / "annotations/panoptic_val2017.json",
                                   root / "val2017", root / "panoptic_val2017")
    a = images[0]
    view = full_image_view(a.segment_map(), a.segments)
    ids = _segments_image_a()
    assert view.regions.dtype == np.int32
    # regions in segments_info order: sky 1, person 2, car 3; crowd and unlabelled -> 0
    assert np.array_equal(view.regions == 1, ids == STUFF_ID)
    assert np.array_equal(view.regions == 2, ids == THING_ID)
    assert np.array_equal(view.regions == 3, ids == BIG_ID)
    assert np.array_equal(view.ignore, (ids == 0) | (ids == CROWD_ID))
    assert view.region_info == {
        1: {"category": "sky", "category_id": 2, "is_thing": False, "segment_id": STUFF_ID},
        2: {"category": "person", "category_id": 1, "is_thing": True, "segment_id": THING_ID},
        3: {"category": "car", "category_id": 7, "is_thing": True, "segment_id": BIG_ID}}


# --- ADE20K panoptic and the scribble benchmark ---------------------------------------------

def test_ade20k_panoptic_layouts(ade_root: Path, tmp_path_factory):
    ds = get_dataset("ade20k-panoptic", ade_root)
    assert isinstance(ds, Ade20kPanopticDataset) and len(ds) == 7
    assert ds.load(0).meta["image_id"] == "img_a"
    other = tmp_path_factory.mktemp("ade2")
    _write_split(other / "ADE20K_panoptic", "images", "panoptic", "panoptic_val.json")
    assert len(get_dataset("ade20k-panoptic", other)) == 7


def test_manifest_counts_and_determinism(ade_root: Path, tmp_path: Path):
    out1 = build_ade20k_scribble_manifest(ade_root, tmp_path / "m1.json", seed=0,
                                          per_category=2)
    out2 = build_ade20k_scribble_manifest(ade_root, tmp_path / "m2.json", seed=0,
                                          per_category=2)
    assert out1.read_text() == out2.read_text()
    rows = read_manifest(out1)
    by_cat: dict[str, int] = {}
    for r in rows:
        by_cat[r["category"]] = by_cat.get(r["category"], 0) + 1
    # person: 4 non-crowd candidates -> 2; sky: 2 -> 2; car: 1 -> 1 (all when fewer)
    assert by_cat == {"person": 2, "sky": 2, "car": 1}
    assert all(r["segment_id"] != CROWD_ID for r in rows)
    data = json.loads(out1.read_text())
    assert data["n_samples"] == 5 and data["n_thing"] == 3 and data["n_stuff"] == 2
    assert data["seed"] == 0 and data["per_category"] == 2
    assert [(r["image"], r["segment_id"]) for r in rows] == sorted(
        (r["image"], r["segment_id"]) for r in rows)
    # all candidates when per_category is large; every seed picks valid person segments
    everything = read_manifest(build_ade20k_scribble_manifest(ade_root, tmp_path / "all.json",
                                                              per_category=5))
    assert len(everything) == 7
    persons = {r["segment_id"] for r in everything if r["category"] == "person"}
    picks = set()
    for seed in range(12):
        m = read_manifest(build_ade20k_scribble_manifest(ade_root, tmp_path / f"s{seed}.json",
                                                         seed=seed, per_category=2))
        chosen = frozenset(r["segment_id"] for r in m if r["category"] == "person")
        assert len(chosen) == 2 and chosen <= persons
        picks.add(chosen)
    assert len(picks) > 1           # the seed matters


def test_manifest_csv_and_dataset(ade_root: Path, tmp_path: Path):
    csv_path = build_ade20k_scribble_manifest(ade_root, tmp_path / "m.csv", per_category=2)
    json_path = build_ade20k_scribble_manifest(ade_root, tmp_path / "m.json", per_category=2)
    assert read_manifest(csv_path) == read_manifest(json_path)
    ds = get_dataset("ade20k-scribble", ade_root, manifest=str(csv_path))
    assert isinstance(ds, Ade20kScribbleDataset) and len(ds) == 5
    for k in range(len(ds)):
        s = ds.load(k)
        seg = read_segment_map(Path(ds.refs[k].paths[1]))
        assert np.array_equal(s.target, seg == s.meta["segment_id"])
        assert isinstance(s.meta["is_thing"], bool) and s.dataset == "ade20k-scribble"
    d = ds.describe()
    assert d["n_thing"] == 3 and d["n_stuff"] == 2


def test_default_manifest_location(ade_root: Path):
    with pytest.raises(DatasetError, match="build it"):
        get_dataset("ade20k-scribble", ade_root)
    path = build_ade20k_scribble_manifest(ade_root)
    assert path == ade_root / "ADEChallengeData2016" / MANIFEST_NAME
    assert len(get_dataset("ade20k-scribble", ade_root)) == 7
    # the ADE folder itself is accepted too
    path2 = build_ade20k_scribble_manifest(ade_root / "ADEChallengeData2016",
                                           ade_root / "x.json")
    assert read_manifest(path2) == read_manifest(path)

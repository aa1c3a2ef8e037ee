"""coco-lvis: RITM's combined COCO + LVIS layout, on fixtures written here, and the
plain-data unpickler that reads its pickles."""

from __future__ import annotations

import pickle
from pathlib import Path

import cv2
import numpy as np
import pytest

from iseg_bench.datasets.coco_lvis import load_plain_pickle, read_packed_masks
from iseg_bench.datasets.registry import get_dataset
from iseg_bench.errors import DatasetError, UsageError

H, W = 6, 8


def layer_png(layer: np.ndarray) -> np.ndarray:
    ok, encoded = cv2.imencode(".png", layer.astype(np.uint8))
    assert ok
    return encoded


def layers() -> tuple[np.ndarray, np.ndarray]:
    """Layer 0: a person (region 1) and a stuff region (2); layer 1: the person's head (1),
    a part overlapping the person."""
    l0 = np.zeros((H, W), np.uint8)
    l0[1:5, 1:4] = 1
    l0[:, 6:] = 2
    l1 = np.zeros((H, W), np.uint8)
    l1[1:2, 1:3] = 1
    return l0, l1


def make_coco_lvis(root: Path, split: str = "train") -> Path:
    d = root / "COCO_LVIS" / split
    (d / "images").mkdir(parents=True)
    (d / "masks").mkdir()
    for image_id in ("000000000009", "000000000002"):
        assert cv2.imwrite(str(d / "images" / f"{image_id}.jpg"), np.full((H, W, 3), 90, np.uint8))
    l0, l1 = layers()
    # instance 0: person (layer 0, id 1); 1: its head (layer 1, id 1); 2: stuff (layer 0, 2)
    packed = ([layer_png(l0), layer_png(l1)], [(0, 1), (1, np.int64(1)), (0, 2)])
    (d / "masks" / "000000000009.pickle").write_bytes(pickle.dumps(packed))
    (d / "masks" / "000000000002.pickle").write_bytes(pickle.dumps(
        ([layer_png(l1)], [(0, 1)])))
    annotation = {
        "000000000009": {"num_instance_masks": 2,
                         "hierarchy": {0: {"parent": None, "children": [1], "node_level": 0},
                                       1: {"parent": 0, "children": [], "node_level": 1},
                                       2: None}},
        "000000000002": {"num_instance_masks": 1, "hierarchy": {0: None}},
    }
    (d / "hannotation.pickle").write_bytes(pickle.dumps(annotation))
    return d


def test_one_sample_per_thing_instance_in_order(tmp_path):
    make_coco_lvis(tmp_path)
    ds = get_dataset("coco-lvis", tmp_path)
    # sorted image ids, then instance ids; stuff instance 2 (>= num_instance_masks) left out
    assert ds.sample_ids() == ["000000000002_0", "000000000009_0", "000000000009_1"]
    l0, l1 = layers()
    person, head = ds.load(1), ds.load(2)
    np.testing.assert_array_equal(person.target, l0 == 1)
    np.testing.assert_array_equal(head.target, l1 == 1)
    assert person.image.shape == (H, W, 3) and person.image.dtype == np.uint8
    assert not head.ignore.any()
    assert head.meta["parent"] == 0 and person.meta["parent"] is None
    assert head.meta["image_id"] == "000000000009" and head.meta["is_thing"]


def test_val_split_option_and_unknown_split(tmp_path):
    make_coco_lvis(tmp_path, "val")
    assert len(get_dataset("coco-lvis", tmp_path, split="val")) == 3
    with pytest.raises(DatasetError, match=r"train/hannotation\.pickle not found"):
        get_dataset("coco-lvis", tmp_path)
    with pytest.raises(UsageError):
        get_dataset("coco-lvis", tmp_path, split="test")


class _RunsCode:
    """Pickles to a call of builtins.print: what an unsafe unpickler would execute."""

    def __reduce__(self):
        return (print, ("pwned",))


def test_a_pickle_naming_code_is_refused_and_nothing_runs(tmp_path, capsys):
    path = tmp_path / "evil.pickle"
    path.write_bytes(pickle.dumps({"a": _RunsCode()}))
    with pytest.raises(DatasetError, match=r"builtins\.print"):
        load_plain_pickle(path)
    assert "pwned" not in capsys.readouterr().out


def test_object_arrays_are_refused(tmp_path):
    path = tmp_path / "objects.pickle"
    path.write_bytes(pickle.dumps(np.array([1, "x"], dtype=object)))
    with pytest.raises(DatasetError, match="dtype object"):
        load_plain_pickle(path)


def test_plain_data_round_trips(tmp_path):
    value = {"k": [1, 2.5, None, ("s", np.arange(4, dtype=np.int16))], "n": np.float32(2)}
    path = tmp_path / "plain.pickle"
    path.write_bytes(pickle.dumps(value))
    got = load_plain_pickle(path)
    np.testing.assert_array_equal(got["k"][3][1], np.arange(4, dtype=np.int16))
    assert got["k"][:3] == [1, 2.5, None] and got["n"] == 2.0


def test_bad_annotation_and_masks_name_the_file(tmp_path):
    d = make_coco_lvis(tmp_path)
    (d / "masks" / "000000000002.pickle").write_bytes(pickle.dumps(([b"png?"], [(0, 1)])))
    ds = get_dataset("coco-lvis", tmp_path)
    with pytest.raises(DatasetError, match="000000000002.pickle"):
        ds.load(0)
    (d / "masks" / "000000000002.pickle").write_bytes(pickle.dumps(
        ([layer_png(layers()[1])], [(3, 1)])))
    with pytest.raises(DatasetError, match=r"\(3, 1\)"):
        read_packed_masks(d / "masks" / "000000000002.pickle")
    (d / "hannotation.pickle").write_bytes(pickle.dumps({"x": {"hierarchy": {}}}))
    with pytest.raises(DatasetError, match="num_instance_masks"):
        get_dataset("coco-lvis", tmp_path)
    (d / "hannotation.pickle").write_bytes(b"\x80\x05truncated")
    with pytest.raises(DatasetError, match="hannotation.pickle is refused"):
        get_dataset("coco-lvis", tmp_path)

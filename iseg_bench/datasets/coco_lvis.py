"""COCO + LVIS in the combined layout of RITM-style training (``coco-lvis``): the training
data of the field's click models since RITM (Sofiiuk et al. 2022; RITM's README: 99k
images, 1.5M instances in the train split).

Facts from the released code (github SamsungLabs/ritm_interactive_segmentation,
isegm/data/datasets/coco_lvis.py and isegm/data/sample.py):

- ``<root>/<split>/hannotation.pickle``: a pickled dict {image id (str): {"hierarchy":
  {instance id (int): None or {"parent": id or None, "children": [ids], ...}},
  "num_instance_masks": int}}; instance ids from ``num_instance_masks`` on are stuff
  regions, which RITM zeroes out by default (its ``stuff_prob`` = 0).
- ``<root>/<split>/images/<image id>.jpg``.
- ``<root>/<split>/masks/<image id>.pickle``: a pickled pair (encoded layers: a list of
  PNG-encoded uint8 arrays, each decoding to one (H, W) layer of region ids; objects
  mapping: a list indexed by instance id of (layer index, region id)). The mask of
  instance i is ``layer[mapping[i][0]] == mapping[i][1]``.

Reading the pickles safely (our choice): RITM distributes these files as pickles, so they
are read as they are, through :func:`load_plain_pickle`, an unpickler that resolves no
global except numpy's array and scalar reconstruction with a non-object dtype. Builtin
containers, numbers, strings and None need no global; any other global (a class, a
function such as ``os.system``) makes the file refused with a DatasetError before anything
is called. The contents are then checked against the shapes above.
"""

from __future__ import annotations

import io
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np

from iseg_bench.datasets.base import SampleRef, read_image
from iseg_bench.datasets.benchmark_base import ClickBenchmark, dataset_dir
from iseg_bench.errors import DatasetError
from iseg_bench.options import option
from iseg_bench.types import Sample

ANNOTATION_FILE = "hannotation.pickle"


def _checked_dtype(*args: Any) -> np.dtype[Any]:
    dtype: np.dtype[Any] = np.dtype(*args)
    if dtype.hasobject:
        raise pickle.UnpicklingError("an array of Python objects (dtype object)")
    return dtype


# numpy 1.x pickles name numpy.core.multiarray, numpy 2.x numpy._core.multiarray.
_NUMPY_GLOBALS: dict[tuple[str, str], Any] = {
    **{(module, name): fn for module in ("numpy.core.multiarray", "numpy._core.multiarray")
       for name, fn in (("_reconstruct", np.zeros(1).__reduce__()[0]),
                        ("scalar", np.int64(0).__reduce__()[0]))},
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): _checked_dtype,
}


class _PlainUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        try:
            return _NUMPY_GLOBALS[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"it needs the global {module}.{name}, which is not "
                                         "plain data") from None


def load_plain_pickle(path: Path) -> Any:
    """Unpickle `path` allowing only plain data: builtin containers, numbers, strings,
    None and numpy arrays / scalars of non-object dtype. No other global is resolved, so no
    code named by the file runs.

    Raises:
        DatasetError: naming the file when it is missing, truncated, not a pickle, or needs
            any other global (the message names it).
    """
    try:
        data = path.read_bytes()
        return _PlainUnpickler(io.BytesIO(data)).load()
    except OSError as err:
        raise DatasetError(f"cannot read {path}: {err}") from err
    except Exception as err:  # noqa: BLE001 -- UnpicklingError, EOFError, ValueError ...
        raise DatasetError(f"{path} is refused: not a plain-data pickle ({err}); only "
                           "containers, numbers, strings and numpy arrays are read") from err


@dataclass(frozen=True)
class CocoLvisOptions:
    """Options of ``coco-lvis``."""

    split: Literal["train", "val"] = option("train", "the split folder to read")


def _instances(path: Path, entry: Any) -> list[tuple[int, int | None]]:
    """[(instance id, parent id or None)] of the thing instances of one annotation entry;
    DatasetError naming `path` when the entry is not of RITM's shape."""
    hierarchy = entry.get("hierarchy") if isinstance(entry, dict) else None
    n_things = entry.get("num_instance_masks") if isinstance(entry, dict) else None
    if not isinstance(hierarchy, dict) or not isinstance(n_things, int):
        raise DatasetError(f"{path}: an entry lacks 'hierarchy' (dict) or "
                           "'num_instance_masks' (int)")
    out = []
    for inst, info in sorted(hierarchy.items()):
        if not isinstance(inst, int) or not (info is None or isinstance(info, dict)):
            raise DatasetError(f"{path}: hierarchy keys must be ints, values None or dicts")
        if inst < n_things:
            out.append((inst, None if info is None else info.get("parent")))
    return out


def read_packed_masks(path: Path) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Read one RITM packed-mask file ``masks/<id>.pickle``.

    Returns:
        ((H, W, L) integer array of L region-id layers, [(layer index, region id)] indexed
        by instance id).

    Raises:
        DatasetError: naming the file when it is unreadable (see load_plain_pickle), a
            layer does not decode as a 2-D image, layers differ in size, or a mapping
            entry is not an (int, int) pair within the layers.
    """
    packed = load_plain_pickle(path)
    if not (isinstance(packed, (tuple, list)) and len(packed) == 2
            and isinstance(packed[0], list) and isinstance(packed[1], list) and packed[0]):
        raise DatasetError(f"{path}: expected a pair (encoded layers, objects mapping)")
    layers: list[np.ndarray] = []
    for encoded in packed[0]:
        layer = (cv2.imdecode(encoded, cv2.IMREAD_UNCHANGED)
                 if isinstance(encoded, np.ndarray) and encoded.dtype == np.uint8 else None)
        if layer is None or layer.ndim != 2 or (layers and layer.shape != layers[0].shape):
            raise DatasetError(f"{path}: a layer is not a PNG of one channel with the size "
                               "of the others")
        layers.append(layer)
    mapping = []
    for pair in packed[1]:
        ok = (isinstance(pair, (tuple, list)) and len(pair) == 2
              and all(isinstance(v, (int, np.integer)) for v in pair)
              and 0 <= int(pair[0]) < len(layers))
        if not ok:
            raise DatasetError(f"{path}: objects mapping entry {pair!r} is not (layer index, "
                               "region id)")
        mapping.append((int(pair[0]), int(pair[1])))
    return np.stack(layers, axis=2), mapping


class CocoLvisDataset(ClickBenchmark):
    """COCO + LVIS, RITM's combined annotations: one sample per thing instance (stuff
    regions are not samples), ordered by image id then instance id; no ignore mask.
    A training set (``evaluation_set`` False)."""

    name = "coco-lvis"
    folder = "COCO_LVIS"
    options_class = CocoLvisOptions
    evaluation_set = False
    layout = ("COCO_LVIS/<split>/images/<id>.jpg      images (LVIS v1.0 = COCO 2017)\n"
              "COCO_LVIS/<split>/masks/<id>.pickle    packed masks: (PNG-encoded layers, "
              "[(layer, region id)] per instance)\n"
              "COCO_LVIS/<split>/hannotation.pickle   {id: {hierarchy, num_instance_masks}}\n"
              "(split: train or val)")
    source = ("LVIS v1.0 images from lvisdataset.org plus RITM's combined annotations "
              "(cocolvis_annotation.tar.gz, a release asset of "
              "github.com/SamsungLabs/ritm_interactive_segmentation), unpacked together")

    @classmethod
    def from_root(cls, data_root: Path | None, **options: Any) -> CocoLvisDataset:
        """Index the thing instances of ``<split>/hannotation.pickle`` (reads that file
        only).

        Raises:
            UsageError: an unknown option or split.
            DatasetError: no data root, a missing split folder or annotation file, an
                annotation refused by load_plain_pickle or not of RITM's shape, or no
                instance at all.
        """
        opts: CocoLvisOptions = cls.parse_options(options)
        root = dataset_dir(cls, data_root)
        split_dir = root / opts.split
        ann = split_dir / ANNOTATION_FILE
        if not ann.is_file():
            raise cls.layout_error(root, f"{opts.split}/{ANNOTATION_FILE} not found")
        entries = load_plain_pickle(ann)
        if not isinstance(entries, dict):
            raise DatasetError(f"{ann}: expected a dict of image id -> annotation")
        refs = [SampleRef(f"{image_id}_{inst}",
                          (split_dir / "images" / f"{image_id}.jpg",
                           split_dir / "masks" / f"{image_id}.pickle"),
                          {"instance_id": inst, "parent": parent, "image_id": str(image_id)})
                for image_id, entry in sorted(entries.items(), key=lambda kv: str(kv[0]))
                for inst, parent in _instances(ann, entry)]
        if not refs:
            raise cls.layout_error(root, f"{opts.split}/{ANNOTATION_FILE} names no instance")
        return cls(refs, root)

    def load(self, index: int) -> Sample:
        """Sample `index`: image (H, W, 3) uint8 RGB, target = (layer == region id) of its
        instance, (H, W) bool; ignore all False.

        Raises:
            DatasetError: naming the file when the image or packed masks are unreadable,
                the instance has no mapping entry, or the target is empty or of another
                size than the image.
        """
        ref = self.refs[index]
        image_path, masks_path = ref.paths
        layers, mapping = read_packed_masks(masks_path)
        inst = ref.meta["instance_id"]
        if inst >= len(mapping):
            raise DatasetError(f"{masks_path}: no mapping entry for instance {inst}")
        layer, region = mapping[inst]
        target = layers[:, :, layer] == region
        image = read_image(image_path)
        return self._sample(ref, image, target, np.zeros(target.shape, dtype=bool), masks_path)

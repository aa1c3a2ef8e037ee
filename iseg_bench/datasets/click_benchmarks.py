"""Loaders for the single-object click benchmarks: GrabCut, Berkeley, DAVIS, COCO-MVal, SBD
and PASCAL VOC, in the folder layouts that the field's public evaluation code (RITM,
FocalClick, SimpleClick) reads.

Every loader yields one Sample per object, ordered by sorted file name, then by instance
id. ``Sample.image`` is (H, W, 3) uint8 RGB, ``Sample.target`` (H, W) bool and
``Sample.ignore`` (H, W) bool; ``Sample.meta`` holds at least ``category`` (str or None)
and ``is_thing`` (True).

Two families share their code:
- folder pairs (GrabCut, Berkeley, DAVIS, COCO-MVal): an image folder and a mask folder
  paired by file stem, one object per image;
- instance lists (SBD, PASCAL VOC): an id list file, an image folder and an instance-id map
  per image, one object per instance id.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import scipy.io
from PIL import Image

from iseg_bench.datasets.base import Dataset, SampleRef, read_image, read_mask
from iseg_bench.errors import DatasetError
from iseg_bench.types import Sample

IMAGE_EXTS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff"})
MASK_EXTS = frozenset({".png", ".bmp", ".tif", ".tiff"})

#: The 20 PASCAL VOC object classes; VOC class index i (1..20) is VOC_CLASSES[i - 1].
VOC_CLASSES = (
    "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
    "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa",
    "train", "tvmonitor",
)

#: VOC palette index for "void" (object boundaries and difficult regions).
VOC_VOID = 255

_COCO_MVAL_STEM = re.compile(r"(?P<category>.+?)(?P<index>\d{2,})_(?P<coco_id>\d+)")


# ---------------------------------------------------------------------------------------
# Mask decoding
# ---------------------------------------------------------------------------------------

def decode_band_mask(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Decode a GrabCut/Berkeley trimap mask.

    Format (GrabCut ``boundary_GT``, as distributed with the RITM evaluation data): 0
    background, 255 object, 128 an unlabelled band around the boundary. As in the field's
    reference loader, 128 is ignored, values above 128 are object, everything else
    background.

    Args:
        mask: (H, W) or (H, W, C) integer array; colour masks are reduced to the maximum
            of their colour channels (grey masks stored as RGB have equal channels).

    Returns:
        (target, ignore): two (H, W) bool arrays, disjoint.
    """
    grey = colour_channels(mask).max(axis=2)
    return grey > 128, grey == 128


def decode_nonzero_mask(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Decode a binary mask where any non-zero colour channel marks the object.

    Format: DAVIS ``gt`` (0 / 128 stored as RGB, or 0 / 1) and COCO-MVal ``gt`` (0 / 255).

    Args:
        mask: (H, W) or (H, W, C) integer array; an alpha channel is not looked at.

    Returns:
        (target, ignore): (H, W) bool object mask and an all-False (H, W) bool ignore mask.
    """
    target = (colour_channels(mask) > 0).any(axis=2)
    return target, np.zeros_like(target)


def colour_channels(mask: np.ndarray) -> np.ndarray:
    """(H, W, C<=3) view of a mask: a channel axis added to grey masks, alpha dropped."""
    return mask[:, :, None] if mask.ndim == 2 else mask[:, :, :3]


def coco_mval_category(stem: str) -> str | None:
    """The COCO category in a COCO-MVal file stem, or None when the stem has no such form.

    COCO-MVal names files ``<category><2-digit index>_<coco image id>``:
    ``"baseball bat03_000000279714"`` -> ``"baseball bat"``.
    """
    match = _COCO_MVAL_STEM.fullmatch(stem)
    return match["category"] if match else None


def read_sbd_instances(path: Path) -> tuple[np.ndarray, dict[int, str | None]]:
    """Read an SBD ``inst/<id>.mat`` file.

    Format (Hariharan et al., Semantic Boundaries Dataset): a MATLAB struct ``GTinst`` with
    ``Segmentation`` (H, W) instance-id map (0 = background) and ``Categories`` (one VOC
    class index 1..20 per instance, in instance-id order).

    Returns:
        ((H, W) int32 instance-id map, {instance id: VOC class name or None}).

    Raises:
        DatasetError: naming the file when it cannot be read or lacks GTinst.Segmentation.
    """
    try:
        gt = scipy.io.loadmat(str(path), squeeze_me=True, struct_as_record=False)["GTinst"]
        seg = np.asarray(gt.Segmentation)
    except Exception as err:  # any failure to parse means the file is unusable
        raise DatasetError(f"cannot read SBD annotation {path}: expected a .mat file with a "
                           f"GTinst struct holding Segmentation ({err})") from err
    if seg.ndim != 2:
        raise DatasetError(f"SBD annotation {path}: GTinst.Segmentation is not a 2-D map")
    classes = np.atleast_1d(np.asarray(getattr(gt, "Categories", []))).ravel()
    names = {i + 1: _voc_class_name(c) for i, c in enumerate(classes)}
    return seg.astype(np.int32), names


def read_palette_indices(path: Path) -> np.ndarray:
    """Read a palette PNG (PASCAL VOC ``SegmentationObject``/``SegmentationClass``) as its
    raw palette indices, (H, W) uint8; a greyscale PNG is read as its values.

    Raises:
        DatasetError: naming the file when it is unreadable or neither palette nor grey.
    """
    try:
        with Image.open(path) as im:
            if im.mode not in ("P", "L"):
                raise DatasetError(f"VOC annotation {path} has mode {im.mode}; expected a "
                                   "palette (P) PNG of indices")
            return np.array(im, dtype=np.uint8)
    except (OSError, ValueError) as err:
        raise DatasetError(f"cannot read VOC annotation {path}: the file is missing, "
                           f"truncated or not an image ({err})") from err


def _voc_class_name(index: Any) -> str | None:
    index = int(index)
    return VOC_CLASSES[index - 1] if 1 <= index <= len(VOC_CLASSES) else None


# ---------------------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------------------

def dataset_dir(cls: type[ClickBenchmark], data_root: Path | None) -> Path:
    """The dataset's folder ``data_root / cls.folder``.

    Raises:
        DatasetError: when data_root is None (asks for --data-root / $ISEG_BENCH_DATA) or
            the folder does not exist (names the expected layout and source).
    """
    if data_root is None:
        raise DatasetError(f"{cls.name}: no data root given; pass --data-root or set "
                           f"ISEG_BENCH_DATA to the folder that holds {cls.folder}/")
    root = Path(data_root) / cls.folder
    if not root.is_dir():
        raise cls.layout_error(root, f"folder {cls.folder}/ not found")
    return root


def _files_by_stem(cls: type[Dataset], root: Path, sub: str,
                   exts: frozenset[str]) -> dict[str, Path]:
    """{stem: path} of the files in root/sub with one of `exts` (case-insensitive)."""
    folder = root / sub
    if not folder.is_dir():
        raise cls.layout_error(root, f"folder {sub}/ not found")
    found: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.suffix.lower() not in exts or not path.is_file():
            continue
        if path.stem in found:
            raise cls.layout_error(root, f"two files in {sub}/ share the stem {path.stem!r}: "
                                         f"{found[path.stem].name} and {path.name}")
        found[path.stem] = path
    return found


def _name_some(names: list[str], limit: int = 5) -> str:
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def _check_unpaired(cls: type[Dataset], root: Path, what: str, missing: list[str]) -> None:
    if missing:
        raise cls.layout_error(root, f"unpaired files: {len(missing)} {what}: "
                                     f"{_name_some(missing)}")


class ClickBenchmark(Dataset):
    """Base of the click-benchmark loaders: data-root handling and sample assembly.

    Class attributes (besides Dataset's): ``folder``, the dataset's folder name under the
    data root.
    """

    folder: ClassVar[str] = ""

    def __init__(self, refs: list[SampleRef], root: Path):
        super().__init__(refs)
        self.root = root

    def describe(self) -> dict:
        return {**super().describe(), "path": str(self.root)}

    def _sample(self, ref: SampleRef, image: np.ndarray, target: np.ndarray,
                ignore: np.ndarray, mask_path: Path) -> Sample:
        """Check sizes and emptiness, then build the Sample (meta from the ref)."""
        if target.shape != image.shape[:2]:
            raise DatasetError(f"{self.name}: mask {mask_path} is {target.shape[1]}x"
                               f"{target.shape[0]} but its image is {image.shape[1]}x"
                               f"{image.shape[0]} (width x height); re-extract both files")
        if not (target & ~ignore).any():
            raise DatasetError(f"{self.name}: mask {mask_path} has no object pixel outside "
                               "the ignore region (empty target)")
        meta = {"category": None, "is_thing": True, **ref.meta}
        return Sample(image=image, target=target, ignore=ignore, sample_id=ref.sample_id,
                      dataset=self.name, meta=meta)


def _reject_options(cls: type[Dataset], options: dict, known: tuple[str, ...] = ()) -> None:
    unknown = sorted(set(options) - set(known))
    if unknown:
        allowed = ", ".join(known) or "none"
        raise DatasetError(f"{cls.name}: unknown option(s) {', '.join(unknown)}; "
                           f"allowed: {allowed}")


# ---------------------------------------------------------------------------------------
# Folder pairs: GrabCut, Berkeley, DAVIS, COCO-MVal
# ---------------------------------------------------------------------------------------

class FolderPairDataset(ClickBenchmark):
    """One object per image; images and masks in two folders, paired by file stem.

    Class attributes: ``image_dir`` and ``mask_dir`` (sub-folders), ``decode`` (mask array
    -> (target, ignore)).
    """

    image_dir: ClassVar[str] = ""
    mask_dir: ClassVar[str] = ""
    decode: ClassVar[Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]]

    @classmethod
    def from_root(cls, data_root: Path | None, **options) -> FolderPairDataset:
        """Scan ``data_root/<folder>``; no options are accepted.

        Raises:
            DatasetError: no data root, a missing folder, no pairs, or unpaired files.
        """
        _reject_options(cls, options)
        root = dataset_dir(cls, data_root)
        images = _files_by_stem(cls, root, cls.image_dir, IMAGE_EXTS)
        masks = _files_by_stem(cls, root, cls.mask_dir, MASK_EXTS)
        if not images and not masks:
            raise cls.layout_error(root, f"no image/mask pairs in {cls.image_dir}/ and "
                                         f"{cls.mask_dir}/")
        _check_unpaired(cls, root, f"mask(s) in {cls.mask_dir}/ without an image",
                        [masks[s].name for s in sorted(masks.keys() - images.keys())])
        _check_unpaired(cls, root, f"image(s) in {cls.image_dir}/ without a mask",
                        [images[s].name for s in sorted(images.keys() - masks.keys())])
        refs = [SampleRef(stem, (images[stem], masks[stem]), cls.stem_meta(stem))
                for stem in sorted(images)]
        return cls(refs, root)

    @classmethod
    def stem_meta(cls, stem: str) -> dict[str, Any]:
        """Metadata read from a file stem (default: no category)."""
        return {"category": None, "is_thing": True}

    def load(self, index: int) -> Sample:
        """Sample `index`: image (H, W, 3) uint8 RGB, target and ignore (H, W) bool.

        Raises:
            DatasetError: naming the file when it is unreadable, when the mask size differs
                from the image's, or when the target is empty.
        """
        ref = self.refs[index]
        image_path, mask_path = ref.paths
        image = read_image(image_path)
        target, ignore = type(self).decode(read_mask(mask_path))
        return self._sample(ref, image, target, ignore, mask_path)


class GrabCutDataset(FolderPairDataset):
    """GrabCut (Rother et al. 2004): 50 images, one object each, with a 128-valued ignore
    band around the boundary (see decode_band_mask)."""

    name = "grabcut"
    folder = "GrabCut"
    image_dir = "data_GT"
    mask_dir = "boundary_GT"
    decode = staticmethod(decode_band_mask)
    layout = ("GrabCut/data_GT/<name>.<jpg|bmp|JPG>   images (mixed extensions)\n"
              "GrabCut/boundary_GT/<name>.bmp        masks: 0 background, 255 object, "
              "128 ignore band")
    source = ("the GrabCut archive linked from the dataset section of the RITM / SimpleClick "
              "GitHub repositories (originally Microsoft Research Cambridge's GrabCut data)")


class BerkeleyDataset(GrabCutDataset):
    """Berkeley (McGuinness & O'Connor 2010): 100 objects on 96 BSDS images; same mask
    coding as GrabCut."""

    name = "berkeley"
    folder = "Berkeley"
    image_dir = "images"
    mask_dir = "masks"
    layout = ("Berkeley/images/<name>.jpg   images\n"
              "Berkeley/masks/<name>.png    masks: 0 background, 255 object, 128 ignore")
    source = ("the Berkeley archive linked from the dataset section of the RITM / SimpleClick "
              "GitHub repositories (objects from the Berkeley Segmentation Dataset)")


class DavisDataset(FolderPairDataset):
    """DAVIS interactive subset: 345 frames, one object each (any non-zero channel)."""

    name = "davis"
    folder = "DAVIS"
    image_dir = "img"
    mask_dir = "gt"
    decode = staticmethod(decode_nonzero_mask)
    layout = ("DAVIS/img/<NNN>.jpg   frames\n"
              "DAVIS/gt/<NNN>.png    masks: any non-zero channel = object")
    source = ("the 345-frame DAVIS archive linked from the dataset section of the RITM / "
              "SimpleClick GitHub repositories (frames from DAVIS 2016/2017)")


class CocoMValDataset(DavisDataset):
    """COCO-MVal: COCO objects (10 per category), category read from the file name."""

    name = "coco-mval"
    folder = "COCO_MVal"
    layout = ("COCO_MVal/img/<category><NN>_<coco id>.jpg   images\n"
              "COCO_MVal/gt/<same stem>.png                 masks: non-zero = object")
    source = ("the COCO_MVal archive linked from the dataset section of the RITM / "
              "SimpleClick GitHub repositories (objects from COCO val2017)")

    @classmethod
    def stem_meta(cls, stem: str) -> dict[str, Any]:
        match = _COCO_MVAL_STEM.fullmatch(stem)
        coco_id = int(match["coco_id"]) if match else None
        return {"category": coco_mval_category(stem), "is_thing": True, "coco_id": coco_id}


# ---------------------------------------------------------------------------------------
# Instance lists: SBD, PASCAL VOC
# ---------------------------------------------------------------------------------------

class InstanceListDataset(ClickBenchmark):
    """One object per instance id of the images named in a split list file.

    Subclasses set ``image_dir``, ``ann_dir``, ``ann_ext``, ``list_file`` (a format string
    with ``{split}``) and implement ``scan_instances`` and ``read_instance_map``.
    """

    image_dir: ClassVar[str] = ""
    ann_dir: ClassVar[str] = ""
    ann_ext: ClassVar[str] = ""
    list_file: ClassVar[str] = ""

    @classmethod
    def from_root(cls, data_root: Path | None, **options) -> InstanceListDataset:
        """Scan the images listed in ``<list_file>``; option ``split`` (default "val").

        An annotation that cannot be read while scanning yields one sample whose load()
        raises the error, so one bad file fails one sample, not the dataset.

        Raises:
            DatasetError: no data root, a missing folder or list, an empty list, or a
                listed id without its image or annotation.
        """
        _reject_options(cls, options, ("split",))
        root = dataset_dir(cls, data_root)
        ids = cls._read_ids(root, cls.list_file.format(split=options.get("split", "val")))
        image_of = {i: root / cls.image_dir / f"{i}.jpg" for i in ids}
        ann_of = {i: root / cls.ann_dir / f"{i}{cls.ann_ext}" for i in ids}
        _check_unpaired(cls, root, f"listed id(s) without an image in {cls.image_dir}/",
                        [i for i in ids if not image_of[i].is_file()])
        _check_unpaired(cls, root, f"listed id(s) without an annotation in {cls.ann_dir}/",
                        [i for i in ids if not ann_of[i].is_file()])
        refs = [ref for i in ids for ref in cls._refs_for(root, i, image_of[i], ann_of[i])]
        return cls(refs, root)

    @classmethod
    def _read_ids(cls, root: Path, rel: str) -> list[str]:
        path = root / rel
        if not path.is_file():
            raise cls.layout_error(root, f"split list {rel} not found")
        ids = sorted({line.strip() for line in path.read_text().splitlines() if line.strip()})
        if not ids:
            raise cls.layout_error(root, f"split list {rel} names no image")
        return ids

    @classmethod
    def _refs_for(cls, root: Path, image_id: str, image: Path, ann: Path) -> list[SampleRef]:
        try:
            categories = cls.scan_instances(root, image_id, ann)
        except DatasetError as err:
            return [SampleRef(image_id, (image, ann), {"instance_id": None, "error": str(err)})]
        return [SampleRef(f"{image_id}_{inst}", (image, ann),
                          {"category": cat, "is_thing": True, "instance_id": inst,
                           "image_id": image_id})
                for inst, cat in sorted(categories.items())]

    @classmethod
    def scan_instances(cls, root: Path, image_id: str, ann: Path) -> dict[int, str | None]:
        """{instance id: category name or None} of one annotation; DatasetError if unreadable."""
        raise NotImplementedError

    @classmethod
    def read_instance_map(cls, ann: Path) -> tuple[np.ndarray, np.ndarray]:
        """((H, W) int instance-id map, (H, W) bool ignore) of one annotation."""
        raise NotImplementedError

    def load(self, index: int) -> Sample:
        """Sample `index`: image (H, W, 3) uint8 RGB, target = (instance map == id) and the
        format's ignore mask, (H, W) bool.

        Raises:
            DatasetError: naming the file when it is unreadable, when the annotation size
                differs from the image's, or when the target is empty.
        """
        ref = self.refs[index]
        if "error" in ref.meta:
            raise DatasetError(ref.meta["error"])
        image_path, ann_path = ref.paths
        image = read_image(image_path)
        instances, ignore = self.read_instance_map(ann_path)
        target = instances == ref.meta["instance_id"]
        return self._sample(ref, image, target, ignore & ~target, ann_path)


class SbdDataset(InstanceListDataset):
    """SBD (Hariharan et al. 2011) instance masks; the field evaluates on its val split
    (one sample per instance). Categories come from GTinst.Categories. No ignore mask."""

    name = "sbd"
    folder = "SBD"
    image_dir = "img"
    ann_dir = "inst"
    ann_ext = ".mat"
    list_file = "{split}.txt"
    layout = ("SBD/img/<id>.jpg    images\n"
              "SBD/inst/<id>.mat   MATLAB struct GTinst with Segmentation (instance ids) "
              "and Categories\n"
              "SBD/val.txt         one image id per line")
    source = ("the Semantic Boundaries Dataset (benchmark.tgz) from the Berkeley vision "
              "group's SBD page; the RITM / SimpleClick repositories link it too")

    @classmethod
    def scan_instances(cls, root: Path, image_id: str, ann: Path) -> dict[int, str | None]:
        instances, names = read_sbd_instances(ann)
        return {int(i): names.get(int(i)) for i in np.unique(instances) if i > 0}

    @classmethod
    def read_instance_map(cls, ann: Path) -> tuple[np.ndarray, np.ndarray]:
        instances, _ = read_sbd_instances(ann)
        return instances, np.zeros(instances.shape, dtype=bool)


class PascalVocDataset(InstanceListDataset):
    """PASCAL VOC 2012 segmentation val: one sample per object instance (1..254), VOC
    void (255) ignored; the category comes from SegmentationClass when present."""

    name = "pascalvoc"
    folder = "PascalVOC"
    image_dir = "JPEGImages"
    ann_dir = "SegmentationObject"
    ann_ext = ".png"
    list_file = "ImageSets/Segmentation/{split}.txt"
    layout = ("PascalVOC/JPEGImages/<id>.jpg                images\n"
              "PascalVOC/SegmentationObject/<id>.png        palette PNG: index = instance id, "
              "255 void\n"
              "PascalVOC/SegmentationClass/<id>.png         (optional) palette PNG: VOC class\n"
              "PascalVOC/ImageSets/Segmentation/val.txt     one image id per line")
    source = ("the VOCtrainval_11-May-2012 archive from the PASCAL VOC 2012 challenge site "
              "(VOCdevkit/VOC2012)")

    @classmethod
    def scan_instances(cls, root: Path, image_id: str, ann: Path) -> dict[int, str | None]:
        objects = read_palette_indices(ann)
        ids = [int(i) for i in np.unique(objects) if 0 < i < VOC_VOID]
        class_png = root / "SegmentationClass" / f"{image_id}.png"
        if not class_png.is_file():
            return {i: None for i in ids}
        classes = read_palette_indices(class_png)
        if classes.shape != objects.shape:
            raise DatasetError(f"{cls.name}: {class_png} and {ann} differ in size")
        return {i: _majority_class(classes[objects == i]) for i in ids}

    @classmethod
    def read_instance_map(cls, ann: Path) -> tuple[np.ndarray, np.ndarray]:
        objects = read_palette_indices(ann)
        return objects.astype(np.int32), objects == VOC_VOID


def _majority_class(values: np.ndarray) -> str | None:
    """The VOC class name most of an instance's pixels carry (void/background excluded)."""
    counts = np.bincount(values.ravel(), minlength=VOC_VOID + 1)[1:VOC_VOID]
    return _voc_class_name(int(counts.argmax()) + 1) if counts.any() else None

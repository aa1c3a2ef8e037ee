"""COCO-panoptic-format annotations (JSON parsing, segment-id maps, single-object and
full-image views) and the single-object datasets ``coco-panoptic`` (COCO panoptic val2017)
and ``ade20k-panoptic`` (ADE20K panoptic val).

Source: Kirillov et al., "Panoptic Segmentation", CVPR 2019, and the COCO panoptic format of
the ``panopticapi`` tools; ADE20K as converted by Mask2Former's
``prepare_ade20k_pan_seg.py``. Format, layouts and samples: ``docs/datasets.md``.

Constants: ``ID_BASE`` = 256 (segment id = R + ID_BASE * G + ID_BASE**2 * B).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import cv2
import numpy as np

from iseg_bench.datasets.base import Dataset, SampleRef, read_image, read_mask
from iseg_bench.errors import DatasetError
from iseg_bench.options import option
from iseg_bench.types import Sample

#: The id multipliers of the RGB encoding: id = R + 256 G + 256^2 B.
ID_BASE = 256


@dataclass(frozen=True)
class SegmentInfo:
    """One entry of ``segments_info``, joined with its category.

    Attributes:
        id: segment id (int, > 0) as encoded in the PNG.
        category_id: int category id.
        category: category name (str).
        is_thing: category's ``isthing`` (bool).
        iscrowd: bool.
        area: pixel count stated in the JSON (int).
        bbox: (x, y, w, h) stated in the JSON (ints/floats, pixels).
    """

    id: int
    category_id: int
    category: str
    is_thing: bool
    iscrowd: bool
    area: int
    bbox: tuple[float, ...]


@dataclass(frozen=True)
class PanopticImage:
    """One annotated image.

    Attributes:
        image_id: the JSON image id (int for COCO, str for ADE20K).
        image_path: path of the RGB image.
        png_path: path of the segment-id PNG.
        segments: SegmentInfo tuple in JSON order.
        height, width: from the JSON ``images`` entry (0 when missing).
    """

    image_id: Any
    image_path: Path
    png_path: Path
    segments: tuple[SegmentInfo, ...]
    height: int = 0
    width: int = 0

    def segment_map(self) -> np.ndarray:
        """The (H, W) int32 segment-id map read from the PNG (see ``read_segment_map``)."""
        return read_segment_map(self.png_path)


@dataclass
class FullImageView:
    """A panoptic image as a full-image (multi-region) target.

    Attributes:
        regions: (H, W) int32 region-id map; 0 = unlabelled (id 0, ids not in the JSON and
            crowd segments), regions numbered 1..R in ``segments_info`` order (non-crowd).
        region_info: {region id: {"category": str, "category_id": int, "is_thing": bool,
            "segment_id": int}}.
        ignore: (H, W) bool, unlabelled pixels and crowd pixels.
    """

    regions: np.ndarray
    region_info: dict[int, dict[str, Any]]
    ignore: np.ndarray


def decode_segment_ids(rgb: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 RGB -> (H, W) int32 ids = R + 256 G + 256^2 B."""
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"a panoptic PNG must be RGB (H, W, 3), got {rgb.shape}")
    c = rgb.astype(np.int32)
    return c[..., 0] + ID_BASE * c[..., 1] + ID_BASE * ID_BASE * c[..., 2]


def encode_segment_ids(ids: np.ndarray) -> np.ndarray:
    """Inverse of ``decode_segment_ids``: (H, W) int ids in [0, 2^24) -> (H, W, 3) uint8 RGB."""
    ids = np.asarray(ids, dtype=np.int64)
    if ids.min(initial=0) < 0 or ids.max(initial=0) >= ID_BASE ** 3:
        raise ValueError("segment ids must lie in [0, 2^24)")
    return np.stack([ids % ID_BASE, (ids // ID_BASE) % ID_BASE, ids // ID_BASE ** 2],
                    axis=-1).astype(np.uint8)


def read_segment_map(path: Path) -> np.ndarray:
    """Read a panoptic PNG as an (H, W) int32 segment-id map.

    Raises:
        DatasetError: naming the file when it is unreadable or not a colour image.
    """
    raw = read_mask(Path(path), cv2.IMREAD_UNCHANGED)
    if raw.ndim != 3 or raw.shape[2] not in (3, 4) or raw.dtype != np.uint8:
        raise DatasetError(f"panoptic PNG {path} is not an 8-bit RGB image (got shape "
                           f"{raw.shape}, {raw.dtype}); segment ids are encoded as "
                           "R + 256*G + 256^2*B")
    return decode_segment_ids(cv2.cvtColor(raw[..., :3], cv2.COLOR_BGR2RGB))


def load_panoptic_json(json_path: Path, image_dir: Path,
                       png_dir: Path) -> tuple[list[PanopticImage], dict[int, dict[str, Any]]]:
    """Parse a COCO-panoptic JSON file.

    Args:
        json_path: the JSON file.
        image_dir: folder of the RGB images (``images[].file_name``).
        png_dir: folder of the segment PNGs (``annotations[].file_name``).

    Returns:
        (images, categories): PanopticImage list sorted by image file name (images without an
        annotation entry are skipped), and {category id: category dict}.

    Raises:
        DatasetError: unreadable JSON, missing keys, unknown category or image ids.
    """
    json_path = Path(json_path)
    try:
        data = json.loads(json_path.read_text())
    except (OSError, ValueError) as exc:
        raise DatasetError(f"cannot read panoptic JSON {json_path}: {exc}") from exc
    for key in ("images", "annotations", "categories"):
        if not isinstance(data.get(key), list):
            raise DatasetError(f"panoptic JSON {json_path} has no list {key!r}; expected the "
                               "COCO panoptic format (images, annotations, categories)")
    try:
        categories = {int(c["id"]): c for c in data["categories"]}
        images = {im["id"]: im for im in data["images"]}
        out = []
        for ann in data["annotations"]:
            im = images.get(ann["image_id"])
            if im is None:
                raise DatasetError(f"panoptic JSON {json_path}: annotation {ann['file_name']} "
                                   f"refers to unknown image id {ann['image_id']!r}")
            segs = []
            for s in ann["segments_info"]:
                cat = categories.get(int(s["category_id"]))
                if cat is None:
                    raise DatasetError(f"panoptic JSON {json_path}: segment {s['id']} of "
                                       f"{ann['file_name']} has unknown category "
                                       f"{s['category_id']}")
                segs.append(SegmentInfo(
                    id=int(s["id"]), category_id=int(s["category_id"]),
                    category=str(cat.get("name", s["category_id"])),
                    is_thing=bool(cat.get("isthing", 0)), iscrowd=bool(s.get("iscrowd", 0)),
                    area=int(s.get("area", 0)), bbox=tuple(s.get("bbox", ()))))
            out.append(PanopticImage(
                image_id=ann["image_id"], image_path=Path(image_dir) / im["file_name"],
                png_path=Path(png_dir) / ann["file_name"], segments=tuple(segs),
                height=int(im.get("height", 0)), width=int(im.get("width", 0))))
    except (KeyError, TypeError, ValueError) as exc:
        raise DatasetError(f"panoptic JSON {json_path} is malformed ({exc!r}); expected the "
                           "COCO panoptic format") from exc
    out.sort(key=lambda p: (p.image_path.name, str(p.image_id)))
    return out, categories


def iter_panoptic(json_path: Path, image_dir: Path,
                  png_dir: Path) -> Iterator[tuple[Path, np.ndarray, tuple[SegmentInfo, ...]]]:
    """Per image, in file-name order: (image path, (H, W) int32 segment-id map, segments)."""
    images, _ = load_panoptic_json(json_path, image_dir, png_dir)
    for entry in images:
        yield entry.image_path, entry.segment_map(), entry.segments


def full_image_view(segment_map: np.ndarray, segments: tuple[SegmentInfo, ...]
                    ) -> FullImageView:
    """A full-image target from a segment map (for the full-image protocol).

    Args:
        segment_map: (H, W) int segment ids.
        segments: the image's SegmentInfo entries.

    Returns:
        FullImageView: regions 1..R for the non-crowd segments in ``segments`` order (a
        listed segment absent from the map keeps its number and has no pixel), 0 elsewhere;
        ignore = unlabelled | crowd pixels.
    """
    segment_map = np.asarray(segment_map)
    regions = np.zeros(segment_map.shape, dtype=np.int32)
    crowd = np.zeros(segment_map.shape, dtype=bool)
    info: dict[int, dict[str, Any]] = {}
    lut_ids, lut_vals = [], []
    next_id = 1
    for s in segments:
        if s.iscrowd:
            crowd |= segment_map == s.id
            continue
        lut_ids.append(s.id)
        lut_vals.append(next_id)
        info[next_id] = {"category": s.category, "category_id": s.category_id,
                         "is_thing": s.is_thing, "segment_id": s.id}
        next_id += 1
    if lut_ids:
        ids = np.array(lut_ids)
        order = np.argsort(ids)
        ids, vals = ids[order], np.array(lut_vals)[order]
        pos = np.clip(np.searchsorted(ids, segment_map), 0, len(ids) - 1)
        hit = ids[pos] == segment_map
        regions[hit] = vals[pos[hit]]
    return FullImageView(regions=regions, region_info=info, ignore=(regions == 0) | crowd)


# ---------------------------------------------------------------------------------------
# Datasets
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PanopticOptions:
    """Options of the single-object panoptic datasets."""

    ignore_crowd: bool = option(False, "mark crowd pixels as ignore in every sample of the "
                                       "image")


class PanopticDataset(Dataset):
    """Single-object samples from a COCO-panoptic-format dataset (one per non-crowd segment).

    Class attributes: ``layouts``, candidate (folder, image dir, PNG dir, JSON file) tuples,
    relative to the data root, tried in order.

    Options: ``PanopticOptions``.
    """

    options_class = PanopticOptions
    layouts: ClassVar[tuple[tuple[str, str, str, str], ...]] = ()

    def __init__(self, refs: list[SampleRef], root: Path, ignore_crowd: bool = False):
        super().__init__(refs)
        self.root = root
        self.ignore_crowd = ignore_crowd

    @classmethod
    def locate(cls, data_root: Path | None) -> tuple[Path, Path, Path, Path]:
        """(dataset folder, image dir, PNG dir, JSON path) of the first complete layout.

        Raises:
            DatasetError: no data root, or no candidate layout is complete.
        """
        if data_root is None:
            raise DatasetError(f"{cls.name}: no data root given; pass --data-root or set "
                               "ISEG_BENCH_DATA")
        data_root = Path(data_root)
        for folder, images, pngs, js in cls.layouts:
            root = data_root / folder
            if (root / images).is_dir() and (root / pngs).is_dir() and (root / js).is_file():
                return root, root / images, root / pngs, root / js
        raise cls.layout_error(data_root, "no complete panoptic layout found")

    @classmethod
    def from_root(cls, data_root: Path | None, **options: Any) -> PanopticDataset:
        """Index every non-crowd segment of the split (reads the JSON only).

        Raises:
            UsageError: an unknown option.
            DatasetError: missing layout or malformed JSON.
        """
        ignore_crowd = cls.parse_options(options).ignore_crowd
        root, image_dir, png_dir, js = cls.locate(data_root)
        images, _ = load_panoptic_json(js, image_dir, png_dir)
        refs = [ref for entry in images for ref in segment_refs(entry)]
        return cls(refs, root, ignore_crowd)

    def describe(self) -> dict[str, Any]:
        things = sum(bool(r.meta.get("is_thing")) for r in self.refs)
        return {**super().describe(), "path": str(self.root), "n_thing": things,
                "n_stuff": len(self.refs) - things, "ignore_crowd": self.ignore_crowd}

    def load(self, index: int) -> Sample:
        """Sample `index`: image (H, W, 3) uint8 RGB, target/ignore (H, W) bool.

        Raises:
            DatasetError: unreadable files, size mismatch, or a segment with no pixel.
        """
        return load_segment_sample(self.refs[index], self.name, self.ignore_crowd)


def segment_refs(entry: PanopticImage) -> list[SampleRef]:
    """One SampleRef per non-crowd segment of `entry`, by segment id.

    ``paths`` = (image, PNG); ``meta`` = category, is_thing, segment_id, image_id,
    category_id and ``crowd_ids`` (the image's crowd segment ids, for ``ignore_crowd``).
    """
    crowd = tuple(s.id for s in entry.segments if s.iscrowd)
    stem = entry.image_path.stem
    return [SampleRef(f"{stem}_{s.id}", (entry.image_path, entry.png_path),
                      {"category": s.category, "is_thing": s.is_thing, "segment_id": s.id,
                       "image_id": entry.image_id, "category_id": s.category_id,
                       "crowd_ids": crowd})
            for s in sorted(entry.segments, key=lambda s: s.id) if not s.iscrowd]


def read_panoptic_pair(image_path: Path, png_path: Path,
                       dataset: str) -> tuple[np.ndarray, np.ndarray]:
    """(image (H, W, 3) uint8 RGB, segment-id map (H, W) int32) of one panoptic image.

    Raises DatasetError naming the file when either cannot be read or their sizes differ."""
    image = read_image(image_path)
    seg = read_segment_map(png_path)
    if seg.shape != image.shape[:2]:
        raise DatasetError(f"{dataset}: panoptic PNG {png_path} is {seg.shape[1]}x"
                           f"{seg.shape[0]} but its image is {image.shape[1]}x"
                           f"{image.shape[0]} (width x height)")
    return image, seg


def load_segment_sample(ref: SampleRef, dataset: str, ignore_crowd: bool = False) -> Sample:
    """Read the single-object Sample of `ref` (see ``segment_refs``)."""
    image_path, png_path = ref.paths
    image, seg = read_panoptic_pair(image_path, png_path, dataset)
    target = seg == int(ref.meta["segment_id"])
    if not target.any():
        raise DatasetError(f"{dataset}: segment {ref.meta['segment_id']} listed in the JSON "
                           f"has no pixel in {ref.paths[1]}")
    ignore = np.zeros_like(target)
    if ignore_crowd and ref.meta.get("crowd_ids"):
        ignore = np.isin(seg, np.array(ref.meta["crowd_ids"]))
    meta = {k: v for k, v in ref.meta.items() if k != "crowd_ids"}
    return Sample(image=image, target=target, ignore=ignore, sample_id=ref.sample_id,
                  dataset=dataset, meta=meta)


def coco_panoptic_layouts(split: str) -> tuple[tuple[str, str, str, str], ...]:
    """The candidate (folder, image dir, PNG dir, JSON file) layouts of a COCO panoptic
    split ("val2017", "train2017"): PNGs beside the images or under annotations/."""
    js = f"annotations/panoptic_{split}.json"
    return (("COCO_panoptic", split, f"panoptic_{split}", js),
            ("COCO_panoptic", split, f"annotations/panoptic_{split}", js))


def coco_panoptic_layout(split: str) -> str:
    """The human-readable layout of a COCO panoptic split, for error messages."""
    return (f"COCO_panoptic/{split}/*.jpg\n"
            f"COCO_panoptic/annotations/panoptic_{split}.json\n"
            f"COCO_panoptic/panoptic_{split}/*.png  (or annotations/panoptic_{split}/*.png)")


class CocoPanopticDataset(PanopticDataset):
    """COCO panoptic val2017 (Kirillov et al. 2019): 5000 images, 80 thing + 53 stuff
    categories; one sample per non-crowd segment."""

    name = "coco-panoptic"
    layouts = coco_panoptic_layouts("val2017")
    layout = coco_panoptic_layout("val2017")
    source = ("https://cocodataset.org/#download (2017 Val images; 2017 Panoptic Train/Val "
              "annotations)")


class CocoPanopticTrainDataset(PanopticDataset):
    """COCO panoptic train2017 (118k images), the training split of the full-image model
    (Agustsson et al., Sec. 5.2-5.3); one sample per non-crowd segment. Used through its
    full-image view ``coco-panoptic-train-full``."""

    name = "coco-panoptic-train"
    evaluation_set = False
    layouts = coco_panoptic_layouts("train2017")
    layout = coco_panoptic_layout("train2017")
    source = ("https://cocodataset.org/#download (2017 Train images; 2017 Panoptic Train/Val "
              "annotations)")


class Ade20kPanopticDataset(PanopticDataset):
    """ADE20K panoptic val (Zhou et al. 2017; 2000 images, 150 categories: 100 things, 50
    stuff) in the COCO panoptic format; one sample per non-crowd segment."""

    name = "ade20k-panoptic"
    layouts = (("ADEChallengeData2016", "images/validation", "ade20k_panoptic_val",
                "ade20k_panoptic_val.json"),
               ("ADE20K_panoptic", "images", "panoptic", "panoptic_val.json"))
    layout = ("ADEChallengeData2016/images/validation/*.jpg\n"
              "ADEChallengeData2016/ade20k_panoptic_val.json\n"
              "ADEChallengeData2016/ade20k_panoptic_val/*.png\n"
              "(as written by Mask2Former's datasets/prepare_ade20k_pan_seg.py), or\n"
              "ADE20K_panoptic/{images/*.jpg, panoptic_val.json, panoptic/*.png}")
    source = ("http://sceneparsing.csail.mit.edu/ (ADEChallengeData2016.zip) converted with "
              "Mask2Former's datasets/prepare_ade20k_pan_seg.py")

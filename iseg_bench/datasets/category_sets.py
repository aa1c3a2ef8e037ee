"""The category-structured test sets of SIIS: ``cosod3k``, ``coca``, ``leeds-butterfly`` and
``fashionpedia``.

Source: Lin et al., "Sequential Interactive Image Segmentation", Sec. 4.1; the datasets'
papers and archives are listed in ``docs/datasets.md`` with their layouts.

Constants: ``OBJECT_THRESHOLD`` = 128 (object-level masks: object where any channel is at
least this), ``LEEDS_SPECIES`` (Leeds Butterfly species code -> scientific name).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np

from iseg_bench.datasets.base import SampleRef, read_image, read_mask
from iseg_bench.datasets.benchmark_base import IMAGE_EXTS, MASK_EXTS, ClickBenchmark, dataset_dir
from iseg_bench.datasets.decoders import colour_channels, decode_nonzero_mask, eight_bit_values
from iseg_bench.errors import DatasetError
from iseg_bench.options import option
from iseg_bench.types import Sample

OBJECT_THRESHOLD = 128  # object-level masks: object where any channel >= this

#: Leeds Butterfly species codes (the dataset's 10 species) -> scientific name.
LEEDS_SPECIES = {
    1: "Danaus plexippus", 2: "Heliconius charitonius", 3: "Heliconius erato",
    4: "Junonia coenia", 5: "Lycaena phlaeas", 6: "Nymphalis antiopa",
    7: "Papilio cresphontes", 8: "Pieris rapae", 9: "Vanessa atalanta", 10: "Vanessa cardui",
}


@dataclass(frozen=True)
class LevelOptions:
    """Options of the category-folder datasets (CoSOD3k, CoCA)."""

    level: Literal["object", "instance"] = option(
        "instance", "instance: one sample per instance of the instance PNG (SIIS counts "
        "instances: CoSOD3k 4874, CoCA 2143); object: the binary mask, one sample per image")


@dataclass(frozen=True)
class FashionpediaOptions:
    """Options of Fashionpedia: the two paths under its folder."""

    annotations: str = option("instances_attributes_val2020.json",
                              "the COCO-format annotation file")
    image_dir: str = option("test", "the folder of the val images")


def decode_object_mask(mask: np.ndarray) -> np.ndarray:
    """(H, W) bool object mask: any colour channel >= OBJECT_THRESHOLD (alpha ignored), on
    the mask's 8-bit values (:func:`~iseg_bench.datasets.decoders.eight_bit_values`).

    mask: (H, W) or (H, W, C) uint8 or uint16 array. Raises ValueError for a 16-bit mask of
    other than 8-bit values (12-bit data)."""
    return np.asarray((colour_channels(eight_bit_values(mask)) >= OBJECT_THRESHOLD).any(axis=2))


def instance_ids(mask: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """Instance map of an instance-level PNG.

    Args:
        mask: (H, W) grey or (H, W, C) colour integer array; 0 / black = background.

    Returns:
        ((H, W) int64 map where each instance has a distinct positive id, sorted ids).
        Grey: the id is the grey value. Colour: the id is R * 65536 + G * 256 + B of the
        channel order as read (cv2 reads BGR; ids are only compared, never interpreted).
    """
    if mask.ndim == 3:
        m = mask[:, :, :3].astype(np.int64)
        ids = (m[..., 0] << 16) | (m[..., 1] << 8) | m[..., 2]
    else:
        ids = mask.astype(np.int64)
    return ids, [int(v) for v in np.unique(ids) if v != 0]


def _find_dir(cls: type[ClickBenchmark], root: Path, candidates: tuple[str, ...],
              what: str) -> Path:
    """The first sub-folder of root whose name matches a candidate (case-insensitive)."""
    subs = {p.name.lower(): p for p in sorted(root.iterdir()) if p.is_dir()}
    for name in candidates:
        if name.lower() in subs:
            return subs[name.lower()]
    raise cls.layout_error(root, f"no {what} folder (looked for {', '.join(candidates)})")


def _stems(folder: Path, exts: frozenset[str]) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for p in sorted(folder.iterdir()):
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in exts:
            out.setdefault(p.stem, p)
    return out


class CategoryFolderDataset(ClickBenchmark):
    """A folder per category of images and masks (CoSOD3k, CoCA) (``docs/datasets.md``).

    Option ``level``: "instance" (default, as SIIS Sec. 4.1 counts them; one sample per
    instance of the instance PNG) or "object" (the binary mask, one sample per image).
    """

    options_class = LevelOptions
    image_dirs: ClassVar[tuple[str, ...]] = ("Image", "image", "images", "img")
    mask_dirs: ClassVar[tuple[str, ...]] = ("GroundTruth", "binary", "gt", "GT")
    instance_dirs: ClassVar[tuple[str, ...]] = ("Instance", "instance")

    @classmethod
    def from_root(cls, data_root: Path | None, **options: Any) -> CategoryFolderDataset:
        """Scan ``data_root/<folder>``.

        Raises:
            DatasetError: no data root, a missing folder, an unknown option, unpaired
                files, or no sample at all.
        """
        level = cls.parse_options(options).level
        root = dataset_dir(cls, data_root)
        img_root = _find_dir(cls, root, cls.image_dirs, "image")
        mask_root = _find_dir(cls, root, cls.instance_dirs if level == "instance"
                              else cls.mask_dirs, f"{level}-mask")
        refs: list[SampleRef] = []
        for cat_dir in sorted(p for p in img_root.iterdir() if p.is_dir()):
            images = _stems(cat_dir, IMAGE_EXTS)
            mdir = mask_root / cat_dir.name
            if not mdir.is_dir():
                raise cls.layout_error(root, f"category {cat_dir.name!r} has images but no "
                                             f"folder {mask_root.name}/{cat_dir.name}/")
            masks = _stems(mdir, MASK_EXTS | {".jpg", ".jpeg"})
            missing = sorted(images.keys() - masks.keys())
            if missing:
                raise cls.layout_error(root, f"{len(missing)} image(s) of {cat_dir.name!r} "
                                             f"without a mask, e.g. {missing[0]}")
            for stem in sorted(images):
                meta = {"category": cat_dir.name, "is_thing": True,
                        "image_id": f"{cat_dir.name}/{stem}"}
                paths = (images[stem], masks[stem])
                if level == "object":
                    refs.append(SampleRef(f"{cat_dir.name}/{stem}", paths, meta))
                    continue
                for inst in instance_ids(read_mask(masks[stem]))[1]:
                    refs.append(SampleRef(f"{cat_dir.name}/{stem}#{inst}", paths,
                                          {**meta, "instance_id": inst}))
        if not refs:
            raise cls.layout_error(root, "no category folder with images")
        return cls(refs, root)

    def load(self, index: int) -> Sample:
        """Sample `index` (``docs/datasets.md``). Raises DatasetError naming a bad file."""
        ref = self.refs[index]
        image_path, mask_path = ref.paths
        image = read_image(image_path)
        raw = read_mask(mask_path)
        if "instance_id" in ref.meta:
            target = instance_ids(raw)[0] == ref.meta["instance_id"]
        else:
            try:
                target = decode_object_mask(raw)
            except ValueError as err:
                raise DatasetError(f"cannot decode mask {mask_path}: {err}") from err
        return self._sample(ref, image, target, np.zeros(target.shape, bool), mask_path)


class CoSOD3kDataset(CategoryFolderDataset):
    """CoSOD3k: 3316 images in 160 categories."""

    name = "cosod3k"
    folder = "CoSOD3k"
    layout = ("CoSOD3k/Image/<category>/<name>.jpg\n"
              "CoSOD3k/GroundTruth/<category>/<name>.png   0 background, 255 object\n"
              "CoSOD3k/Instance/<category>/<name>.png      (level=instance) one grey value "
              "or colour per instance")
    source = ("CoSOD3k (Fan et al., CVPR 2020), download links on "
              "github.com/DengPingFan/CoSOD3k")


class CocaDataset(CategoryFolderDataset):
    """CoCA: 1295 images in 80 categories."""

    name = "coca"
    folder = "CoCA"
    layout = ("CoCA/image/<category>/<name>.jpg\n"
              "CoCA/binary/<category>/<name>.png      0 background, 255 object\n"
              "CoCA/instance/<category>/<name>.png    (level=instance) one grey value or "
              "colour per instance")
    source = "CoCA (Zhang et al., ECCV 2020), the authors' page zhaozhang.net/coca.html"


class LeedsButterflyDataset(ClickBenchmark):
    """Leeds Butterfly: 832 images of 10 species, one butterfly mask each."""

    name = "leeds-butterfly"
    folder = "leedsbutterfly"
    layout = ("leedsbutterfly/images/<sss><nnnn>.png              sss = species 001..010\n"
              "leedsbutterfly/segmentations/<sss><nnnn>_seg0.png  0 background, non-zero "
              "butterfly")
    source = ("Leeds Butterfly Dataset v1.0 (Wang, Markert & Everingham, BMVC 2009), "
              "josiahwang.com/dataset/leedsbutterfly")

    @staticmethod
    def species(stem: str) -> str:
        """Species name of a file stem from its 3-digit code ("0010001" -> Danaus
        plexippus); ``"species<sss>"`` for an unknown code."""
        code = stem[:3]
        if code.isdigit() and int(code) in LEEDS_SPECIES:
            return LEEDS_SPECIES[int(code)]
        return f"species{code}"

    @classmethod
    def from_root(cls, data_root: Path | None, **options: Any) -> LeedsButterflyDataset:
        """Scan images/ and segmentations/; raises DatasetError on a bad layout."""
        cls.parse_options(options)
        root = dataset_dir(cls, data_root)
        for sub in ("images", "segmentations"):
            if not (root / sub).is_dir():
                raise cls.layout_error(root, f"folder {sub}/ not found")
        images = _stems(root / "images", IMAGE_EXTS)
        segs = _stems(root / "segmentations", MASK_EXTS)
        missing = sorted(s for s in images if f"{s}_seg0" not in segs)
        if missing:
            raise cls.layout_error(root, f"{len(missing)} image(s) without "
                                         f"segmentations/<stem>_seg0.png, e.g. {missing[0]}")
        if not images:
            raise cls.layout_error(root, "no image in images/")
        refs = [SampleRef(stem, (images[stem], segs[f"{stem}_seg0"]),
                          {"category": cls.species(stem), "is_thing": True})
                for stem in sorted(images, key=lambda s: (cls.species(s), s))]
        return cls(refs, root)

    def load(self, index: int) -> Sample:
        ref = self.refs[index]
        image_path, mask_path = ref.paths
        image = read_image(image_path)
        target, ignore = decode_nonzero_mask(read_mask(mask_path))
        return self._sample(ref, image, target, ignore, mask_path)


class FashionpediaDataset(ClickBenchmark):
    """Fashionpedia val: one sample per COCO-format annotation."""

    name = "fashionpedia"
    options_class = FashionpediaOptions
    folder = "Fashionpedia"
    layout = ("Fashionpedia/instances_attributes_val2020.json   COCO-format instances\n"
              "Fashionpedia/test/<file_name>                    val images (val_test2020.zip)")
    source = ("Fashionpedia (Jia et al., ECCV 2020), fashionpedia.github.io: "
              "instances_attributes_val2020.json and val_test2020.zip")

    @classmethod
    def from_root(cls, data_root: Path | None, **options: Any) -> FashionpediaDataset:
        """Read the annotation JSON; options ``annotations`` (file name) and ``image_dir``.

        Raises:
            DatasetError: no data root, missing folder/JSON/images, or a malformed JSON.
        """
        opts: FashionpediaOptions = cls.parse_options(options)
        root = dataset_dir(cls, data_root)
        ann_path = root / opts.annotations
        img_dir = root / opts.image_dir
        if not ann_path.is_file():
            raise cls.layout_error(root, f"annotation file {ann_path.name} not found")
        if not img_dir.is_dir():
            raise cls.layout_error(root, f"image folder {img_dir.name}/ not found")
        try:
            data = json.loads(ann_path.read_text(encoding="utf-8"))
            images = {int(im["id"]): im for im in data["images"]}
            names = {int(c["id"]): str(c["name"]) for c in data["categories"]}
            anns = data["annotations"]
        except (ValueError, KeyError, TypeError) as exc:
            raise cls.layout_error(root, f"{ann_path.name} is not COCO-format instances "
                                         f"({type(exc).__name__}: {exc})") from exc
        refs = []
        for ann in sorted(anns, key=lambda a: (images.get(int(a["image_id"]), {})
                                               .get("file_name", ""), int(a["id"]))):
            if ann.get("iscrowd", 0):
                continue
            im = images.get(int(ann["image_id"]))
            if im is None:
                raise cls.layout_error(root, f"annotation {ann['id']} names unknown image "
                                             f"{ann['image_id']}")
            refs.append(SampleRef(f"{im['id']}_{ann['id']}", (img_dir / im["file_name"],),
                                  {"category": names.get(int(ann["category_id"])),
                                   "is_thing": True, "image_id": int(im["id"]),
                                   "annotation_id": int(ann["id"]),
                                   "segmentation": ann["segmentation"],
                                   "height": int(im["height"]), "width": int(im["width"])}))
        if not refs:
            raise cls.layout_error(root, f"{ann_path.name} holds no annotation")
        return cls(refs, root)

    def load(self, index: int) -> Sample:
        """Sample `index`: the annotation decoded with pycocotools. DatasetError on a bad
        file or a segmentation that does not decode."""
        from pycocotools import mask as mask_utils

        ref = self.refs[index]
        (image_path,) = ref.paths
        image = read_image(image_path)
        h, w = ref.meta["height"], ref.meta["width"]
        seg = ref.meta["segmentation"]
        try:
            if isinstance(seg, list):
                rle = mask_utils.merge(mask_utils.frPyObjects(seg, h, w))
            elif isinstance(seg.get("counts"), list):
                rle = mask_utils.frPyObjects(seg, h, w)
            else:
                rle = dict(seg)
                if isinstance(rle["counts"], str):
                    rle["counts"] = rle["counts"].encode("ascii")
            target = mask_utils.decode(rle).astype(bool)
        except Exception as exc:  # any pycocotools failure means a malformed annotation
            raise DatasetError(f"{self.name}: annotation {ref.meta['annotation_id']} does "
                               f"not decode ({type(exc).__name__}: {exc})") from exc
        meta_ref = SampleRef(ref.sample_id, ref.paths,
                             {k: v for k, v in ref.meta.items() if k != "segmentation"})
        return self._sample(meta_ref, image, target, np.zeros(target.shape, bool), image_path)


"""Single-object benchmarks stored as an image folder and a mask folder paired by file stem,
one object per image: GrabCut, Berkeley, DAVIS and COCO-MVal, in the layouts read by the
RITM / FocalClick / SimpleClick evaluation code. Layouts, mask codings and sources:
``docs/datasets.md``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from iseg_bench.datasets.base import SampleRef, read_image, read_mask
from iseg_bench.datasets.benchmark_base import (
    IMAGE_EXTS,
    MASK_EXTS,
    ClickBenchmark,
    check_unpaired,
    dataset_dir,
    files_by_stem,
)
from iseg_bench.datasets.decoders import (
    check_mask_levels,
    decode_band_mask,
    decode_nonzero_mask,
)
from iseg_bench.errors import DatasetError
from iseg_bench.types import Sample

_COCO_MVAL_STEM = re.compile(r"(?P<category>.+?)(?P<index>\d{2,})_(?P<coco_id>\d+)")


def coco_mval_category(stem: str) -> str | None:
    """The COCO category in a COCO-MVal file stem ``<category><2-digit index>_<coco id>``
    (``"baseball bat03_000000279714"`` -> ``"baseball bat"``), None for another form."""
    match = _COCO_MVAL_STEM.fullmatch(stem)
    return match["category"] if match else None


class FolderPairDataset(ClickBenchmark):
    """One object per image; images and masks in two folders, paired by file stem.

    Class attributes: ``image_dir`` and ``mask_dir`` (sub-folders); subclasses implement
    ``decode`` (mask array -> (target, ignore)). Takes no option.
    """

    image_dir: ClassVar[str] = ""
    mask_dir: ClassVar[str] = ""

    @staticmethod
    def decode(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(target, ignore) (H, W) bool of a mask file's array."""
        raise NotImplementedError

    @classmethod
    def from_root(cls, data_root: Path | None, **options: Any) -> FolderPairDataset:
        """Scan ``data_root/<folder>``.

        Raises:
            UsageError: any option.
            DatasetError: no data root, a missing folder, no pairs, or unpaired files.
        """
        cls.parse_options(options)
        root = dataset_dir(cls, data_root)
        images = files_by_stem(cls, root, cls.image_dir, IMAGE_EXTS)
        masks = files_by_stem(cls, root, cls.mask_dir, MASK_EXTS)
        if not images and not masks:
            raise cls.layout_error(root, f"no image/mask pairs in {cls.image_dir}/ and "
                                         f"{cls.mask_dir}/")
        check_unpaired(cls, root, f"mask(s) in {cls.mask_dir}/ without an image",
                       [masks[s].name for s in sorted(masks.keys() - images.keys())])
        check_unpaired(cls, root, f"image(s) in {cls.image_dir}/ without a mask",
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
            DatasetError: naming the file when it is unreadable or cannot be decoded (a
                16-bit trimap of other than 8-bit values, a JPEG-compressed or resampled
                mask, a 12-bit image), when the mask size differs from the image's, or when
                the target is empty.
        """
        ref = self.refs[index]
        image_path, mask_path = ref.paths
        image = read_image(image_path)
        try:
            target, ignore = self.decode(read_mask(mask_path))
        except ValueError as err:
            raise DatasetError(f"cannot decode mask {mask_path}: {err}") from err
        return self._sample(ref, image, target, ignore, mask_path)


class GrabCutDataset(FolderPairDataset):
    """GrabCut (Rother et al. 2004): 50 images, one object each, with a 128-valued ignore
    band around the boundary."""

    name = "grabcut"
    folder = "GrabCut"
    image_dir = "data_GT"
    mask_dir = "boundary_GT"
    layout = ("GrabCut/data_GT/<name>.<jpg|bmp|JPG>   images (mixed extensions)\n"
              "GrabCut/boundary_GT/<name>.bmp        masks: 0 background, 255 object, "
              "128 ignore band")
    source = ("the GrabCut archive linked from the dataset section of the RITM / SimpleClick "
              "GitHub repositories (originally Microsoft Research Cambridge's GrabCut data)")

    @staticmethod
    def decode(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return decode_band_mask(mask)


class BerkeleyDataset(GrabCutDataset):
    """Berkeley (McGuinness & O'Connor 2010): 100 objects on 96 BSDS images; GrabCut's mask
    coding."""

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
    layout = ("DAVIS/img/<NNN>.jpg   frames\n"
              "DAVIS/gt/<NNN>.png    masks: any non-zero channel = object")
    source = ("the 345-frame DAVIS archive linked from the dataset section of the RITM / "
              "SimpleClick GitHub repositories (frames from DAVIS 2016/2017)")

    @staticmethod
    def decode(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        check_mask_levels(mask)
        return decode_nonzero_mask(mask)


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

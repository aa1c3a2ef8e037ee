"""Single-object benchmarks given as a split list, an image folder and an instance-id map
per image, one object per instance id: SBD (Hariharan et al. 2011) and PASCAL VOC 2012.
Layouts, formats and sources: ``docs/datasets.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from iseg_bench.datasets.base import NoOptions, SampleRef, read_image
from iseg_bench.datasets.benchmark_base import ClickBenchmark, check_unpaired, dataset_dir
from iseg_bench.datasets.decoders import (
    VOC_VOID,
    majority_voc_class,
    read_palette_indices,
    read_sbd_instances,
)
from iseg_bench.errors import DatasetError
from iseg_bench.options import option
from iseg_bench.types import Sample


@dataclass(frozen=True)
class SplitOptions:
    """Options of the instance-list datasets."""

    split: str = option("val", "the split list to read (e.g. val, train)")


class InstanceListDataset(ClickBenchmark):
    """One object per instance id of the images named in a split list file.

    Subclasses set ``image_dir``, ``ann_dir``, ``ann_ext``, ``list_file`` (a format string
    with ``{split}``) and implement ``scan_instances`` and ``read_instance_map``.
    """

    options_class: ClassVar[type[Any]] = SplitOptions
    image_dir: ClassVar[str] = ""
    ann_dir: ClassVar[str] = ""
    ann_ext: ClassVar[str] = ""
    list_file: ClassVar[str] = ""

    @classmethod
    def from_root(cls, data_root: Path | None, **options: Any) -> InstanceListDataset:
        """Scan the images listed in ``<list_file>`` (option ``split``, default "val").

        An annotation that cannot be read while scanning yields one sample whose load()
        raises the error, so one bad file fails one sample, not the dataset.

        Raises:
            UsageError: an unknown option.
            DatasetError: no data root, a missing folder or list, an empty list, or a
                listed id without its image or annotation.
        """
        opts: SplitOptions = cls.parse_options(options)
        return cls._scan(data_root, opts.split)

    @classmethod
    def _scan(cls, data_root: Path | None, split: str) -> InstanceListDataset:
        """The dataset of the images listed for `split` (errors as in from_root)."""
        root = dataset_dir(cls, data_root)
        ids = cls._read_ids(root, cls.list_file.format(split=split))
        image_of = {i: root / cls.image_dir / f"{i}.jpg" for i in ids}
        ann_of = {i: root / cls.ann_dir / f"{i}{cls.ann_ext}" for i in ids}
        check_unpaired(cls, root, f"listed id(s) without an image in {cls.image_dir}/",
                       [i for i in ids if not image_of[i].is_file()])
        check_unpaired(cls, root, f"listed id(s) without an annotation in {cls.ann_dir}/",
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
        format's ignore mask minus the target, (H, W) bool.

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
    """SBD instance masks, one sample per instance; categories from GTinst.Categories; no
    ignore mask."""

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


class SbdTrainDataset(SbdDataset):
    """SBD's train split (``SBD/train.txt``, 8,498 images in the official archive), the
    training data of RITM-style recipes (RITM, isegm/data/datasets/sbd.py reads the same
    list); one sample per instance, as ``sbd``. Takes no option: the split is fixed, so
    the name alone says the data is not an evaluation set."""

    name = "sbd-train"
    options_class = NoOptions
    evaluation_set = False
    layout = SbdDataset.layout.replace("SBD/val.txt ", "SBD/train.txt")

    @classmethod
    def from_root(cls, data_root: Path | None, **options: Any) -> InstanceListDataset:
        """Scan the images listed in ``SBD/train.txt``.

        Raises:
            UsageError: any option.
            DatasetError: as ``sbd``.
        """
        cls.parse_options(options)
        return cls._scan(data_root, "train")


class PascalVocDataset(InstanceListDataset):
    """PASCAL VOC 2012 segmentation: one sample per object instance (1..254), void (255)
    ignored; the category comes from SegmentationClass when present."""

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
        return {i: majority_voc_class(classes[objects == i]) for i in ids}

    @classmethod
    def read_instance_map(cls, ann: Path) -> tuple[np.ndarray, np.ndarray]:
        objects = read_palette_indices(ann)
        return objects.astype(np.int32), objects == VOC_VOID

"""Full-image views of the COCO-panoptic-format datasets, one sample per image:
``coco-panoptic-full``, ``coco-panoptic-train-full`` (training) and
``ade20k-panoptic-full``.

Source: the full-image protocol's data, Agustsson, Uijlings and Ferrari, CVPR 2019, Sec. 5
(COCO panoptic val2017). Samples: ``docs/datasets.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from iseg_bench.datasets.base import Dataset, SampleRef
from iseg_bench.datasets.panoptic import (
    Ade20kPanopticDataset,
    CocoPanopticDataset,
    CocoPanopticTrainDataset,
    PanopticDataset,
    full_image_view,
    load_panoptic_json,
    read_panoptic_pair,
)
from iseg_bench.errors import DatasetError
from iseg_bench.types import Sample


class PanopticFullImageDataset(Dataset):
    """One full-image sample per image of a COCO-panoptic-format split.

    Class attribute ``base``: the single-object dataset class whose layouts are used.
    Options: none.
    """

    base: ClassVar[type[PanopticDataset]] = PanopticDataset

    def __init__(self, refs: list[SampleRef], root: Path):
        super().__init__(refs)
        self.root = root

    @classmethod
    def from_root(cls, data_root: Path | None, **options: Any) -> PanopticFullImageDataset:
        """Index the images of the split (reads the JSON only).

        Raises:
            UsageError: any option.
            DatasetError: missing layout or malformed JSON.
        """
        cls.parse_options(options)
        try:
            root, image_dir, png_dir, js = cls.base.locate(data_root)
        except DatasetError as exc:      # name this dataset, not the single-object one
            raise DatasetError(str(exc).replace(f"{cls.base.name}:", f"{cls.name}:", 1)) \
                from exc
        images, _ = load_panoptic_json(js, image_dir, png_dir)
        refs = [SampleRef(e.image_path.stem, (e.image_path, e.png_path),
                          {"segments": e.segments, "image_id": e.image_id})
                for e in images]
        return cls(refs, root)

    def load(self, index: int) -> Sample:
        """Image `index` as a full-image sample.

        Raises:
            DatasetError: unreadable files or a PNG whose size differs from its image.
        """
        ref = self.refs[index]
        image_path, png_path = ref.paths
        image, seg = read_panoptic_pair(image_path, png_path, self.name)
        view = full_image_view(seg, ref.meta["segments"])
        return Sample(image=image, target=view.regions, ignore=view.ignore,
                      sample_id=ref.sample_id, dataset=self.name,
                      meta={"regions": view.region_info, "image_id": ref.meta["image_id"],
                            "full_image": True})

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "path": str(self.root)}


class CocoPanopticFullImageDataset(PanopticFullImageDataset):
    """COCO panoptic val2017 as full images (the paper's Sec. 5.3 data)."""

    name = "coco-panoptic-full"
    base = CocoPanopticDataset
    layout = CocoPanopticDataset.layout
    source = CocoPanopticDataset.source


class CocoPanopticTrainFullImageDataset(PanopticFullImageDataset):
    """COCO panoptic train2017 as full images: the training data of ``ifis``."""

    name = "coco-panoptic-train-full"
    evaluation_set = False
    base = CocoPanopticTrainDataset
    layout = CocoPanopticTrainDataset.layout
    source = CocoPanopticTrainDataset.source


class Ade20kPanopticFullImageDataset(PanopticFullImageDataset):
    """ADE20K panoptic val as full images."""

    name = "ade20k-panoptic-full"
    base = Ade20kPanopticDataset
    layout = Ade20kPanopticDataset.layout
    source = Ade20kPanopticDataset.source

"""The dataset registry (name -> "module:Class", imported on use) and data-root
resolution (``docs/datasets.md``).

Constants: ``DATA_ENV`` = "ISEG_BENCH_DATA", the environment variable of the data root.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from iseg_bench.datasets.base import Dataset
from iseg_bench.errors import DatasetError, UnknownNameError
from iseg_bench.registry import Registry

DATA_ENV = "ISEG_BENCH_DATA"

DATASETS = Registry("dataset", {
    "synthetic": "iseg_bench.datasets.synthetic:SyntheticDataset",
    "grabcut": "iseg_bench.datasets.folder_pairs:GrabCutDataset",
    "berkeley": "iseg_bench.datasets.folder_pairs:BerkeleyDataset",
    "davis": "iseg_bench.datasets.folder_pairs:DavisDataset",
    "coco-mval": "iseg_bench.datasets.folder_pairs:CocoMValDataset",
    "sbd": "iseg_bench.datasets.instance_lists:SbdDataset",
    "sbd-train": "iseg_bench.datasets.instance_lists:SbdTrainDataset",
    "coco-lvis": "iseg_bench.datasets.coco_lvis:CocoLvisDataset",
    "pascalvoc": "iseg_bench.datasets.instance_lists:PascalVocDataset",
    "coco-panoptic": "iseg_bench.datasets.panoptic:CocoPanopticDataset",
    "ade20k-panoptic": "iseg_bench.datasets.panoptic:Ade20kPanopticDataset",
    "ade20k-scribble": "iseg_bench.datasets.ade20k_scribble:Ade20kScribbleDataset",
    "synthetic-panoptic": "iseg_bench.datasets.synthetic_panoptic:SyntheticPanopticDataset",
    "coco-panoptic-full": "iseg_bench.datasets.full_image:CocoPanopticFullImageDataset",
    "coco-panoptic-train-full":
        "iseg_bench.datasets.full_image:CocoPanopticTrainFullImageDataset",
    "ade20k-panoptic-full": "iseg_bench.datasets.full_image:Ade20kPanopticFullImageDataset",
    "synthetic-categories": "iseg_bench.datasets.synthetic_categories:SyntheticCategoriesDataset",
    "cosod3k": "iseg_bench.datasets.category_sets:CoSOD3kDataset",
    "coca": "iseg_bench.datasets.category_sets:CocaDataset",
    "leeds-butterfly": "iseg_bench.datasets.category_sets:LeedsButterflyDataset",
    "fashionpedia": "iseg_bench.datasets.category_sets:FashionpediaDataset",
}, load_error=DatasetError)


#: named suites of ``--dataset suite:NAME`` (docs/datasets.md, "Suites"): "clicks" is the
#: evaluation set of the click papers (RITM Tab. 1, SimpleClick Tab. 1: GrabCut, Berkeley,
#: SBD, DAVIS, PascalVOC, COCO-MVal); "clicks-small" its three smallest, quick members
SUITES: dict[str, tuple[str, ...]] = {
    "clicks": ("grabcut", "berkeley", "sbd", "davis", "pascalvoc", "coco-mval"),
    "clicks-small": ("grabcut", "davis", "coco-mval"),
}
#: prefix of a suite name in ``--dataset``
SUITE_PREFIX = "suite:"


def is_multi_dataset(text: str) -> bool:
    """Whether a ``--dataset`` value names several datasets ("a,b" or "suite:NAME")."""
    return "," in text or text.startswith(SUITE_PREFIX)


def expand_datasets(text: str) -> list[str]:
    """The dataset names of a ``--dataset`` value: "a,b,c" (spaces ignored), "suite:NAME"
    (its members, see ``SUITES``) or one name; each suite and name appears once, in order.

    Raises:
        UnknownNameError: an unknown suite or dataset name (listing the known ones).
    """
    names: list[str] = []
    for part in (p.strip() for p in text.split(",")):
        if part.startswith(SUITE_PREFIX):
            suite = part[len(SUITE_PREFIX):]
            if suite not in SUITES:
                raise UnknownNameError(f"unknown dataset suite {suite!r}; known suites: "
                                       f"{', '.join(sorted(SUITES))}")
            names.extend(SUITES[suite])
        elif part:
            DATASETS.spec(part)
            names.append(part)
    return list(dict.fromkeys(names))


def resolve_data_root(data_root: str | os.PathLike[str] | None) -> Path | None:
    """The data root: the explicit argument, else $ISEG_BENCH_DATA, else None."""
    if data_root:
        return Path(data_root)
    env = os.environ.get(DATA_ENV)
    return Path(env) if env else None


def dataset_class(name: str) -> type[Dataset]:
    """The class registered under `name`; raises UnknownNameError listing the known names."""
    cls: type[Dataset] = DATASETS.resolve(name)
    return cls


def get_dataset(name: str, data_root: str | os.PathLike[str] | None = None,
                **options: Any) -> Dataset:
    """Build dataset `name` from the resolved data root (see resolve_data_root)."""
    return dataset_class(name).from_root(resolve_data_root(data_root), **options)

"""Datasets: the lazily loaded dataset interface, the registry of bundled loaders and the
``iseg-bench datasets`` listing (``docs/datasets.md``)."""

from iseg_bench.datasets.base import Dataset, NoOptions, SampleRef, read_image, read_mask
from iseg_bench.datasets.listing import list_datasets
from iseg_bench.datasets.registry import (
    DATA_ENV,
    DATASETS,
    dataset_class,
    get_dataset,
    resolve_data_root,
)

__all__ = [
    "DATASETS",
    "DATA_ENV",
    "Dataset",
    "NoOptions",
    "SampleRef",
    "dataset_class",
    "get_dataset",
    "list_datasets",
    "read_image",
    "read_mask",
    "resolve_data_root",
]

"""What ``iseg-bench datasets`` prints: every registered dataset and whether it is usable
(``docs/datasets.md``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from iseg_bench.datasets.registry import DATASETS, dataset_class, resolve_data_root
from iseg_bench.errors import DatasetError


def list_datasets(data_root: str | os.PathLike[str] | None = None) -> list[dict[str, Any]]:
    """One row per registered dataset, in registry order.

    Args:
        data_root: the folder holding GrabCut/, DAVIS/, ...; None falls back to
            $ISEG_BENCH_DATA (see registry.resolve_data_root).

    Returns:
        dicts with ``name`` (str), ``found`` (bool: the dataset could be built),
        ``n_samples`` (int, or None when not found), ``path`` (str of the dataset folder,
        or None for generated datasets / no data root) and ``problem`` (the DatasetError
        message when not found, else None).

    Building a dataset only scans its file names (and, for SBD/VOC, its annotations); no
    sample is loaded.
    """
    root = resolve_data_root(data_root)
    return [_describe(name, root) for name in DATASETS.entries()]


def _describe(name: str, root: Path | None) -> dict[str, Any]:
    try:
        cls = dataset_class(name)
    except (DatasetError, ImportError, AttributeError) as err:
        return {"name": name, "found": False, "n_samples": None, "path": None,
                "problem": f"cannot import the loader: {err}"}
    folder = getattr(cls, "folder", "")
    path = str(root / folder) if root is not None and folder else None
    try:
        n_samples = len(cls.from_root(root))
    except DatasetError as err:
        return {"name": name, "found": False, "n_samples": None, "path": path,
                "problem": str(err)}
    return {"name": name, "found": True, "n_samples": n_samples, "path": path,
            "problem": None}

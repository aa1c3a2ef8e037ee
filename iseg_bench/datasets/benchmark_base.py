"""The base class of the on-disk single-object benchmarks and its folder-scanning helpers
(data-root resolution, files paired by stem, unpaired-file errors).

Constants: ``IMAGE_EXTS`` and ``MASK_EXTS``, the file extensions read as images and masks
(matched case-insensitively).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from iseg_bench.datasets.base import Dataset, SampleRef
from iseg_bench.errors import DatasetError, DatasetUsageError
from iseg_bench.types import Sample

IMAGE_EXTS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff"})
MASK_EXTS = frozenset({".png", ".bmp", ".tif", ".tiff"})


class ClickBenchmark(Dataset):
    """Base of the on-disk single-object loaders: data-root handling and sample assembly.

    Class attributes (besides Dataset's): ``folder``, the dataset's folder name under the
    data root.
    """

    folder: ClassVar[str] = ""

    def __init__(self, refs: list[SampleRef], root: Path):
        super().__init__(refs)
        self.root = root

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "path": str(self.root)}

    def _sample(self, ref: SampleRef, image: np.ndarray, target: np.ndarray,
                ignore: np.ndarray, mask_path: Path) -> Sample:
        """The Sample of `ref` (meta from the ref, ``category`` None and ``is_thing`` True
        unless given) after checking that the mask matches the image's size and has an
        object pixel outside `ignore`; DatasetError naming `mask_path` otherwise."""
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


def dataset_dir(cls: type[ClickBenchmark], data_root: Path | None) -> Path:
    """The dataset's folder ``data_root / cls.folder``.

    Raises:
        DatasetUsageError: data_root is None (asks for --data-root / $ISEG_BENCH_DATA).
        DatasetError: the folder does not exist (names the expected layout and source).
    """
    if data_root is None:
        raise DatasetUsageError(f"{cls.name}: no data root given; pass --data-root or set "
                           f"ISEG_BENCH_DATA to the folder that holds {cls.folder}/")
    root = Path(data_root) / cls.folder
    if not root.is_dir():
        raise cls.layout_error(root, f"folder {cls.folder}/ not found")
    return root


def files_by_stem(cls: type[Dataset], root: Path, sub: str,
                  exts: frozenset[str]) -> dict[str, Path]:
    """{stem: path} of the files in root/sub with one of `exts` (case-insensitive), hidden
    files skipped.

    Raises:
        DatasetError: the folder is missing or two files share a stem.
    """
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


def check_unpaired(cls: type[Dataset], root: Path, what: str, missing: list[str]) -> None:
    """Raise a layout DatasetError naming up to five of the `missing` files, if any."""
    if missing:
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise cls.layout_error(root, f"unpaired files: {len(missing)} {what}: "
                                     f"{', '.join(missing[:5])}{more}")

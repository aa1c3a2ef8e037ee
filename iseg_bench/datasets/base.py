"""The dataset interface: an ordered list of sample references that load lazily.

Ordering and laziness are specified in ``docs/datasets.md``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import cv2
import numpy as np

from iseg_bench.errors import DatasetError, DatasetUsageError
from iseg_bench.options import parse_options
from iseg_bench.types import Sample


@dataclass(frozen=True)
class SampleRef:
    """Where one sample lives: its id plus whatever the loader needs to read it."""

    sample_id: str
    paths: tuple[Path, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class NoOptions:
    """The option set of a dataset that takes no option."""


class Dataset(ABC):
    """An ordered, lazily loaded dataset.

    Class attributes:
        name: registry name.
        layout: the expected on-disk layout, quoted in error messages.
        source: where the official archive comes from, quoted in error messages.
        options_class: the frozen dataclass of the options ``from_root`` accepts
            (see ``iseg_bench.options``).
        evaluation_set: True (the default) when the dataset is an evaluation benchmark
            (a val/test split the field reports on); ``iseg-bench train`` refuses such a
            dataset unless told ``--allow-eval-set``. Training splits and generated data
            set it False.
    """

    name: ClassVar[str] = "dataset"
    layout: ClassVar[str] = ""
    source: ClassVar[str] = ""
    options_class: ClassVar[type[Any]] = NoOptions
    evaluation_set: ClassVar[bool] = True

    def __init__(self, refs: list[SampleRef]):
        self.refs = refs

    def __len__(self) -> int:
        return len(self.refs)

    def sample_ids(self) -> list[str]:
        """The sample ids in sample order."""
        return [r.sample_id for r in self.refs]

    @classmethod
    def from_root(cls, data_root: Path | None, **options: Any) -> Dataset:
        """Build the dataset from the data root; registered datasets implement it.

        Raises:
            DatasetError: the folder is missing or malformed (names the expected layout).
            UsageError: an unknown option or a bad option value.
        """
        raise NotImplementedError(f"{cls.name} cannot be built from a data root")

    @classmethod
    def parse_options(cls, options: Mapping[str, Any]) -> Any:
        """The ``options_class`` instance of `options`.

        Raises:
            UsageError: an unknown key (the message lists the allowed keys) or a value of
                the wrong type.
        """
        return parse_options(cls.options_class, options, f"dataset {cls.name}")

    @abstractmethod
    def load(self, index: int) -> Sample:
        """Read sample `index`; raises DatasetError naming the file on unreadable input."""

    def describe(self) -> dict[str, Any]:
        """Settings and counts that identify the dataset (JSON-serialisable)."""
        return {"name": self.name, "n_samples": len(self)}

    @classmethod
    def layout_error(cls, root: Path, problem: str) -> DatasetError:
        """A DatasetError that names the problem, the expected layout and the source."""
        return DatasetError(f"{cls.name}: {problem} (under {root}).\nExpected layout:\n"
                            f"{cls.layout}\nOfficial source: {cls.source}")


_Generated = TypeVar("_Generated", bound="GeneratedDataset")


class GeneratedDataset(Dataset):
    """A dataset generated in memory from its options: it reads no files, so ``from_root``
    ignores the data root. Subclasses parse their options in ``__init__`` and check their
    ranges with :meth:`require`. Generated data is never an evaluation benchmark."""

    layout: ClassVar[str] = "(generated in memory; no files)"
    evaluation_set: ClassVar[bool] = False

    @classmethod
    def from_root(cls: type[_Generated], data_root: Path | None = None,
                  **options: Any) -> _Generated:
        """Build from options; `data_root` is not used (may be None).

        Raises:
            UsageError: an unknown option or a value of the wrong type.
            DatasetUsageError: an option out of range (a DatasetError and a UsageError).
        """
        return cls(**options)

    @classmethod
    def require(cls, ok: bool, need: str, got: Sequence[Any]) -> None:
        """Raise DatasetUsageError "<name>: need <need>; got <got, ...>" unless `ok`."""
        if not ok:
            raise DatasetUsageError(f"{cls.name}: need {need}; got {', '.join(map(str, got))}")


#: a 16-bit image whose maximum is at most this holds 12-bit (or narrower) data in a 16-bit
#: container: its true range is unknown, so it is refused (docs/datasets.md; our choice)
TWELVE_BIT_MAX = 4095


def eight_bit_image(img: np.ndarray, path: Path) -> np.ndarray:
    """`img` (as decoded, any channel count) at 8 bits: uint8 as is; uint16 narrowed as
    image tools do, round(v / 257).

    Raises:
        DatasetError: naming `path`: a 16-bit image whose maximum is <= ``TWELVE_BIT_MAX``
            (12-bit data: narrowing would make it almost black), or another dtype.
    """
    if img.dtype == np.uint8:
        return img
    if img.dtype == np.uint16 and int(img.max(initial=0)) > TWELVE_BIT_MAX:
        return np.rint(img / 257.0).astype(np.uint8)
    what = ("a 16-bit image whose values are all <= 4095 (12-bit data?)"
            if img.dtype == np.uint16 else f"an image of dtype {img.dtype}")
    raise DatasetError(f"cannot read image {path}: {what}; convert it to 8-bit RGB with its "
                       "own value range")


def read_image(path: Path) -> np.ndarray:
    """Read an image file as (H, W, 3) uint8 RGB: grey and palette images become RGB, an
    alpha channel is dropped, 16-bit data is narrowed (:func:`eight_bit_image`).

    Raises:
        DatasetError: naming the file: unreadable, or of a bit depth that cannot be narrowed.
    """
    data = np.fromfile(str(path), dtype=np.uint8) if path.is_file() else None
    img = (cv2.imdecode(data, cv2.IMREAD_COLOR | cv2.IMREAD_ANYDEPTH)
           if data is not None and data.size else None)
    if img is None:
        raise DatasetError(f"cannot read image {path}: the file is missing, truncated or not "
                           "an image; re-extract it from the official archive")
    rgb: np.ndarray = cv2.cvtColor(eight_bit_image(img, path), cv2.COLOR_BGR2RGB)
    return rgb


def read_mask(path: Path, flags: int = cv2.IMREAD_UNCHANGED) -> np.ndarray:
    """Read a mask file without conversion ((H, W) or (H, W, C) integer array); raises
    DatasetError naming the file."""
    data = np.fromfile(str(path), dtype=np.uint8) if path.is_file() else None
    mask: np.ndarray | None = (cv2.imdecode(data, flags) if data is not None and data.size
                               else None)
    if mask is None:
        raise DatasetError(f"cannot read mask {path}: the file is missing, truncated or not an "
                           "image; re-extract it from the official archive")
    return mask

"""The multi-region (full-image) adapter interface and the check of its output.

Source: Agustsson, Uijlings and Ferrari, "Interactive Full Image Segmentation by Considering
All Regions Jointly", CVPR 2019. The interface is specified in ``docs/adapters.md``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from iseg_bench.adapters.base import NoOptions
from iseg_bench.errors import SampleError
from iseg_bench.types import Interaction


class MultiRegionAdapter(ABC):
    """Base class of multi-region (full-image) adapters.

    ``set_image`` once per image, then ``predict`` after the extreme points and after every
    round of scribbles, with the image's whole history.

    Class attributes:
        name: registry name.
        accepts: interaction kinds understood: {"extreme_points", "scribble"}.
        options_class: the dataclass of the keyword options the adapter is built with.
    """

    name: ClassVar[str] = "multi-region"
    accepts: ClassVar[frozenset[str]] = frozenset({"extreme_points", "scribble"})
    options_class: ClassVar[type[Any]] = NoOptions

    @abstractmethod
    def set_image(self, image: np.ndarray) -> None:
        """Start a new image. image: (H, W, 3) uint8 RGB."""

    @abstractmethod
    def predict(self, interactions: Sequence[Interaction], regions: Sequence[int],
                prev: np.ndarray | None) -> np.ndarray:
        """The segmentation of every region after the given annotations.

        Args:
            interactions: the image's whole history, oldest first: one ExtremePoints per
                region, then the scribbles; every item tagged with its region id.
            regions: the N region ids (order of a probability output).
            prev: (H, W) int32 previous region map, None before the first call.

        Returns:
            (H, W) integer region ids (0 = none) or (N, H, W) float probabilities; see
            :func:`to_region_map`.
        """

    def describe(self) -> dict[str, Any]:
        """Settings that identify this adapter (JSON-serialisable)."""
        return {"name": self.name}


def to_region_map(output: Any, regions: Sequence[int], shape: tuple[int, int]) -> np.ndarray:
    """Validate a multi-region model output and return the (H, W) int32 region-id map.

    Args:
        output: (H, W) integer map with values in `regions` or 0, or (N, H, W) float
            probabilities (finite, >= 0) in `regions` order; argmax per pixel, ties to the
            first region, and 0 where every probability is exactly 0.
        regions: the N region ids.
        shape: (H, W).

    Raises:
        SampleError: wrong type, shape, dtype, value or NaN, with what was expected.
    """
    if not isinstance(output, np.ndarray):
        raise SampleError(f"model returned {type(output).__name__}, expected a numpy array")
    ids = np.asarray(list(regions), dtype=np.int32)
    if output.ndim == 2:
        if output.shape != shape or not np.issubdtype(output.dtype, np.integer):
            raise SampleError(f"model returned a {output.shape} {output.dtype} map, expected "
                              f"{shape} integer region ids")
        bad = ~np.isin(output, np.append(ids, 0))
        if bad.any():
            raise SampleError(f"model returned region ids {np.unique(output[bad])[:5]} that "
                              "are not among the image's regions")
        return output.astype(np.int32, copy=False)
    if output.shape != (len(ids), *shape) or not np.issubdtype(output.dtype, np.floating):
        raise SampleError(f"model returned {output.shape} {output.dtype}, expected "
                          f"({len(ids)}, {shape[0]}, {shape[1]}) float probabilities")
    if not np.isfinite(output).all() or output.min() < 0:
        raise SampleError("model returned NaN, inf or negative region probabilities")
    best = output.argmax(axis=0)
    out = ids[best]
    out[output.max(axis=0) <= 0] = 0
    region_map: np.ndarray = out.astype(np.int32)
    return region_map

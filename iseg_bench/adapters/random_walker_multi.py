"""``random-walker-multi``: one multi-label random walk seeded by the annotation maps of all
regions, a classical multi-region model for the full-image protocol.

Source: Grady, "Random Walks for Image Segmentation", TPAMI 2006, via
``skimage.segmentation.random_walker``; annotation maps of Agustsson et al., CVPR 2019,
Sec. 3.2. Specified in ``docs/models/baselines.md``.

Constants: ``RandomWalkerMultiOptions`` defaults beta = 130 (scikit-image's default),
max_side = 320 px, box = True (each region is restricted to the box of its extreme points,
as the paper's RoI model is by construction, Sec. 3.1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
from skimage.segmentation import random_walker

from iseg_bench.adapters.annotation_maps import paint_annotation, region_boxes
from iseg_bench.adapters.base import parse_model_options
from iseg_bench.adapters.multi_region import MultiRegionAdapter
from iseg_bench.adapters.seeds import WorkingResolution
from iseg_bench.errors import AdapterError
from iseg_bench.options import option
from iseg_bench.types import Interaction


@dataclass(frozen=True)
class RandomWalkerMultiOptions:
    """Options of ``random-walker-multi``."""

    beta: float = option(130.0, "random-walker edge weight parameter")
    max_side: int = option(320, "longest side in px of the working resolution")
    box: bool = option(True, "restrict each region to the box of its extreme points "
                             "(probability 0 outside it)")


class RandomWalkerMulti(MultiRegionAdapter):
    """One multi-label random walk seeded by all regions' annotations.

    Options: ``RandomWalkerMultiOptions``.

    Raises:
        UsageError: an unknown option or a value of the wrong type.
    """

    name = "random-walker-multi"
    options_class = RandomWalkerMultiOptions

    def __init__(self, **options: Any):
        opts: RandomWalkerMultiOptions = parse_model_options(self.options_class, options,
                                                             self.name)
        self.beta = opts.beta
        self.max_side = opts.max_side
        self.box = opts.box
        self._work: WorkingResolution | None = None
        self._image: np.ndarray | None = None

    def set_image(self, image: np.ndarray) -> None:
        self._work = WorkingResolution(image.shape[:2], self.max_side)
        self._image = self._work.down(image).astype(np.float64) / 255.0

    def _working(self) -> WorkingResolution:
        if self._work is None:
            raise AdapterError(f"{self.name}: predict called before set_image")
        return self._work

    def seed_labels(self, interactions: Sequence[Interaction],
                    regions: Sequence[int]) -> np.ndarray:
        """(h, w) int32 working-resolution seeds: k + 1 for region regions[k], 0 unseeded;
        later annotations overwrite earlier ones."""
        work = self._working()
        index = {int(r): k for k, r in enumerate(regions)}
        labels = np.zeros(work.work_shape, dtype=np.int32)
        for inter in interactions:
            labels[paint_annotation(inter, work.work_shape, work.scale)] = \
                index[int(cast(int, inter.region))] + 1
        return labels

    def predict(self, interactions: Sequence[Interaction], regions: Sequence[int],
                prev: np.ndarray | None) -> np.ndarray:
        """(N, H, W) float32 per-region probabilities; with ``box``, 0 outside the
        inclusive box of each region's extreme points (a region without extreme points
        keeps its whole map)."""
        out = self._walk(interactions, regions)
        if self.box:
            boxes = region_boxes(interactions)
            for k, rid in enumerate(regions):
                if int(rid) in boxes:
                    y0, x0, y1, x1 = boxes[int(rid)]
                    inside = np.zeros(out.shape[1:], dtype=bool)
                    inside[max(0, y0):y1 + 1, max(0, x0):x1 + 1] = True
                    out[k][~inside] = 0.0
        return out

    def _walk(self, interactions: Sequence[Interaction],
              regions: Sequence[int]) -> np.ndarray:
        """(N, H, W) float32 probabilities of the random walk, unrestricted."""
        labels = self.seed_labels(interactions, regions)
        work = self._working()
        h, w = work.shape
        out = np.zeros((len(regions), h, w), dtype=np.float32)
        present = np.unique(labels[labels > 0])
        if len(present) == 0:
            return out
        if len(present) == 1 or (labels > 0).all():
            for lab in present:
                out[lab - 1] = work.up((labels == lab).astype(np.float32))
            return out
        # random_walker numbers the present labels 1..L in sorted order
        prob = random_walker(self._image, labels, beta=self.beta, mode="bf",
                             channel_axis=-1, return_full_prob=True)
        for j, lab in enumerate(present):
            out[lab - 1] = work.up(prob[j].astype(np.float32))
        return out

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "beta": self.beta, "max_side": self.max_side,
                "box": self.box}

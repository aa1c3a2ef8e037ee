"""Adapter of the interactive full-image segmentation model (``ifis``) for the full-image
protocol: boxes from the extreme points, the annotation maps of the protocol's convention,
the backbone once per image and the mask branch after every round.

Source: Agustsson, Uijlings and Ferrari, CVPR 2019, Sec. 3.1-3.2 and Sec. 1 (only the mask
branch is re-run after a correction). Options, weights and outputs: ``docs/models/ifis.md``.

Constants: none beyond the model's (``models/ifis.py``) and the maps' (``annotation_maps``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from iseg_bench.adapters.annotation_maps import annotation_maps, region_boxes
from iseg_bench.adapters.multi_region import MultiRegionAdapter
from iseg_bench.adapters.torch_models import TorchModel, TorchModelOptions
from iseg_bench.errors import AdapterError
from iseg_bench.types import Interaction


def image_tensor(image: np.ndarray, device: Any) -> Any:
    """(1, 3, H, W) float32 tensor in [0, 1] on `device` of an (H, W, 3) uint8 image."""
    import torch

    chw = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))
    return (chw[None].to(device, torch.float32) / 255.0)


def region_inputs(interactions: Sequence[Interaction], regions: Sequence[int],
                  shape: tuple[int, int], device: Any) -> tuple[Any, Any, Any]:
    """(boxes, pos, neg): the model's per-region inputs.

    boxes: (N, 4) int64 CPU tensor, each region's inclusive extreme-point box (the whole
    image for a region without extreme points); pos, neg: (N, H, W) float32 tensors on
    `device`, the annotation maps S_i and sum_{j != i} S_j (``annotation_maps``).
    """
    import torch

    known = region_boxes(interactions)
    whole = (0, 0, shape[0] - 1, shape[1] - 1)
    boxes = torch.tensor([known.get(int(r), whole) for r in regions], dtype=torch.long)
    pos, neg = annotation_maps(interactions, regions, shape)
    return (boxes, torch.from_numpy(pos).to(device, torch.float32),
            torch.from_numpy(neg).to(device, torch.float32))


class IFISAdapter(TorchModel, MultiRegionAdapter):
    """``ifis``: every region's probability from the region model, per-pixel softmax
    across the regions whose box covers the pixel (0 for every region elsewhere).

    Options: ``TorchModelOptions`` (variant ``ifis`` by default, ``ifis-tiny`` for tests).

    Raises:
        UsageError: an unknown option or a value of the wrong type.
        AdapterError: no usable weights, a checkpoint of another model, or a bad device.
        ImportError: torch is not installed.
    """

    name = "ifis"
    options_class = TorchModelOptions
    model_type = "ifis"
    default_variant = "ifis"

    def __init__(self, **options: Any):
        self.load_torch_model(options)
        self._image: np.ndarray | None = None
        self._feats: Any = None

    def set_image(self, image: np.ndarray) -> None:
        self._image = np.ascontiguousarray(image)
        self._feats = None

    def predict(self, interactions: Sequence[Interaction], regions: Sequence[int],
                prev: np.ndarray | None) -> np.ndarray:
        """(N, H, W) float32 probabilities P of Eq. 1 in `regions` order (see
        :func:`region_inputs` for the boxes and maps)."""
        import torch

        from iseg_bench.models.ifis import paste_logits, region_probabilities
        from iseg_bench.models.runtime import autocast

        if self._image is None:
            raise AdapterError(f"{self.name}: predict called before set_image")
        shape = (int(self._image.shape[0]), int(self._image.shape[1]))
        boxes, pos, neg = region_inputs(interactions, regions, shape, self.device)
        with torch.inference_mode(), autocast(self.device, self.bf16):
            if self._feats is None:
                self._feats = self.model.features(image_tensor(self._image, self.device))
            logits = self.model.region_logits(self._feats, boxes, pos, neg)
            canvas, inside = paste_logits(logits.float(), boxes, shape)
            prob: np.ndarray = region_probabilities(canvas, inside).cpu().numpy()
        return prob.astype(np.float32)

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "variant": self.variant, "weights": self.weights,
                "device": str(self.device), "bf16": self.bf16}

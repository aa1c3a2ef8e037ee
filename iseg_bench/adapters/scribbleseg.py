"""Adapter of the bundled ScribbleSeg models (optional extra ``models``): ``scribbleseg``
(SegFormer-B0) and ``scribbleseg-b3`` (Chen et al., ScribbleSeg, Sec. 3.2 and 4.1).

Scribbles only (``accepts = {"scribble"}``). Inference as Sec. 4.1: the model input is the
image (or, from the second stroke on, the zoom-in box around the previous mask and the
positive strokes, expanded x1.4) resized to input_size x input_size (384). Rules and
constants: ``docs/models/scribbleseg.md``.

Constants: ``ZOOM_FROM_STROKE`` = 2 (zoom-in from the second stroke, Sec. 4.1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from iseg_bench.adapters.torch_models import (
    TorchModelAdapter,
    TorchModelOptions,
)
from iseg_bench.errors import AdapterError
from iseg_bench.geometry import interaction_pixels
from iseg_bench.options import option
from iseg_bench.types import Interaction, Scribble

ZOOM_FROM_STROKE = 2

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class ScribbleSegOptions(TorchModelOptions):
    """Options of ``scribbleseg`` and ``scribbleseg-b3``."""

    zoom_in: bool = option(True, "zoom-in (box x1.4, resized to the input size) from the "
                                 "second stroke (ScribbleSeg Sec. 4.1)")


def scribble_maps(strokes: Sequence[Scribble], shape: tuple[int, int]) -> np.ndarray:
    """(2, H, W) float32 binary maps of the painted positive and negative strokes.

    Every stroke is painted by ``geometry.interaction_pixels`` (its own thickness).
    """
    maps = np.zeros((2, *shape), dtype=np.float32)
    for s in strokes:
        pix = interaction_pixels(s, shape)
        maps[0 if s.is_positive else 1, pix[:, 0], pix[:, 1]] = 1.0
    return maps


def resize_maps(maps: np.ndarray, box: Box, size: int) -> np.ndarray:
    """Crop (C, H, W) binary maps to `box` and resize to (C, size, size), keeping every
    stroke: a pixel is 1 when its area-averaged coverage is above 0 (thin strokes survive
    downscaling). Returns float32."""
    out = np.empty((len(maps), size, size), dtype=np.float32)
    for k, m in enumerate(maps):
        crop = np.ascontiguousarray(m[box[0]:box[1], box[2]:box[3]])
        out[k] = cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA) > 0
    return out


class ScribbleSegAdapter(TorchModelAdapter):
    """ScribbleSeg (SegFormer-B0) on scribbles; options: ``ScribbleSegOptions``.

    Raises (construction):
        UsageError: an unknown option or a value of the wrong type.
        AdapterError: no usable weights (the message says how to get or train them).
        ImportError: torch is not installed.
    """

    name = "scribbleseg"
    accepts = frozenset({"scribble"})
    options_class = ScribbleSegOptions
    model_type = "scribbleseg"
    default_variant = "scribbleseg"

    def __init__(self, **options: Any):
        opts: ScribbleSegOptions = self.load_torch_model(options)
        self.zoom_in = opts.zoom_in
        self.size = int(self.model.config.input_size)

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "variant": self.variant, "weights": self.weights,
                "device": str(self.device), "bf16": self.bf16, "zoom_in": self.zoom_in,
                "input_size": self.size}

    def model_box(self, strokes: Sequence[Scribble], prev_prob: np.ndarray) -> Box:
        """The image box (y0, y1, x0, x1), half-open, that the model sees: the whole image,
        or from the second stroke the zoom-in box of ``models.zoom_in.zoom_in_box`` over
        the previous mask (> 0.5) and the points of the positive strokes."""
        from iseg_bench.models.zoom_in import zoom_in_box

        h, w = prev_prob.shape
        if self.zoom_in and len(strokes) >= ZOOM_FROM_STROKE:
            points = [(y, x, True) for s in strokes if s.is_positive for y, x in s.points]
            box = zoom_in_box(prev_prob, points)
            if box is not None:
                return box
        return 0, h, 0, w

    def predict(self, interactions: Sequence[Interaction], prev_prob: np.ndarray) -> np.ndarray:
        """(H, W) float32 probability after the strokes (``Adapter.predict``).

        Raises:
            AdapterError: an interaction that is not a scribble, or no image set.
        """
        import torch

        from iseg_bench.models.runtime import autocast
        from iseg_bench.models.zoom_in import crop_resize, paste_back

        strokes = []
        for it in interactions:
            if not isinstance(it, Scribble):
                raise AdapterError(f"{self.name} accepts scribbles only, got {it.kind!r}")
            strokes.append(it)
        if self.image is None:
            raise AdapterError("predict called before set_image")
        full = self.image.shape[:2]
        box = self.model_box(strokes, prev_prob)
        shape = (self.size, self.size)
        img = crop_resize(self.image, box, shape).astype(np.float32) / 255.0
        prev = crop_resize(prev_prob.astype(np.float32), box, shape)
        maps = resize_maps(scribble_maps(strokes, full), box, self.size)

        def tensor(a: np.ndarray) -> Any:
            return torch.from_numpy(np.ascontiguousarray(a)).to(self.device)

        with torch.inference_mode(), autocast(self.device, self.bf16):
            out = self.model(tensor(img.transpose(2, 0, 1)[None]), tensor(maps[None]),
                             tensor(prev[None, None]))
            prob = torch.sigmoid(out["ref"].float())[0, 0].cpu().numpy()
        clipped: np.ndarray = np.clip(paste_back(prob, box, full), 0.0, 1.0).astype(np.float32)
        return clipped


class ScribbleSegB3Adapter(ScribbleSegAdapter):
    """ScribbleSeg with SegFormer-B3."""

    name = "scribbleseg-b3"
    default_variant = "scribbleseg-b3"

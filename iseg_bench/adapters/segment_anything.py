"""Adapters ``sam`` and ``sam2``: Segment Anything (Kirillov et al. 2023) and SAM 2 (Ravi et
al. 2024) through HuggingFace transformers (optional extra ``models``). The image encoder
runs once per sample in ``set_image`` (timed by the protocol as encoder seconds); every
interaction runs the prompt encoder and mask decoder on the cached embedding.

Sources: the prompt conventions and pre-/post-processing of the official predictors
(``facebookresearch/segment-anything``, ``segment_anything/predictor.py`` and
``utils/transforms.py``: longest side resized to the input size, ImageNet mean/std on 0..255,
zero padding at the bottom and right, low-resolution logits upsampled, cropped and resized
back; ``facebookresearch/sam2``, ``sam2/sam2_image_predictor.py`` and ``sam2/utils/
transforms.py``: the image resized to the square input, ImageNet mean/std on 0..1, points
scaled per axis). The decisions that change NoC (multi-mask choice, feeding the previous
logits back, threshold) are options with the defaults of the papers (SAM Sec. 3 "Resolving
ambiguity": three masks ranked by predicted IoU for a single prompt, one for several; App.
A: the previous unthresholded logits as the mask prompt; the predictors' threshold 0.0);
each is stated in ``docs/models/sam.md``.

Constants: ``SAM_MEAN``/``SAM_STD`` (0..255 scale) and ``SAM2_MEAN``/``SAM2_STD`` (0..1
scale), the predictors' normalisation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import cv2
import numpy as np

from iseg_bench.adapters.base import Adapter, parse_model_options
from iseg_bench.errors import AdapterError
from iseg_bench.options import option
from iseg_bench.types import Box, Click, Interaction

SAM_MEAN = (123.675, 116.28, 103.53)
SAM_STD = (58.395, 57.12, 57.375)
SAM2_MEAN = (0.485, 0.456, 0.406)
SAM2_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class SamOptions:
    """Options of ``sam`` (``docs/models/sam.md``); ``sam2`` has the same with its sizes."""

    model_type: str = option("vit_h", "size: vit_b|vit_l|vit_h; toy: the small random "
                                      "configuration")
    checkpoint: str | None = option(None, "a folder in transformers' format, an original "
                                          "SAM .pth file (sam only) or a hub name (online)")
    random_init: bool = option(False, "random weights for smoke runs (meaningless predictions)")
    seed: int = option(0, "seed of the random weights of random_init")
    device: str = option("auto", "auto|cpu|cuda|cuda:i")
    multimask: Literal["first", "always", "never"] = option(
        "first", "multi-mask output (the mask with the highest predicted IoU kept) on the "
                 "first click only (first), on every call, or never")
    feed_logits: bool = option(True, "feed the previous call's low-resolution logits back as "
                                     "the mask prompt (kept by the adapter)")
    mask_threshold: float = option(0.0, "logit threshold of the model's mask")
    output: Literal["mask", "sigmoid"] = option(
        "mask", "mask: 1 where logit > mask_threshold else 0 (the predictor's mask, so the "
                "benchmark's probability cut keeps it); sigmoid: sigmoid(logit - threshold)")


@dataclass(frozen=True)
class Sam2Options(SamOptions):
    """Options of ``sam2``: those of ``sam`` with SAM 2's largest size as the default."""

    model_type: str = option("large", "size: tiny|small|base_plus|large; toy: the small "
                                      "random configuration")


class SamFamilyAdapter(Adapter):
    """Shared plumbing of ``sam`` and ``sam2``: options, weights, the cached image embedding,
    the low-resolution logits of the previous call and the prompts. Subclasses set
    ``family``, ``options_class``, ``_pixels`` (image -> input tensor, scale) and
    ``_upsample`` (low-resolution logits -> (H, W) logits).

    Raises:
        UsageError: an unknown option or a bad value.
        AdapterError: no usable weights or an unknown model_type.
        ImportError: torch or transformers is not installed.
    """

    accepts = frozenset({"click", "box"})
    options_class = SamOptions
    family: ClassVar[str] = "sam"

    def __init__(self, **options: Any):
        from iseg_bench.models.runtime import resolve_device
        from iseg_bench.models.segment_anything import load_sam_family

        self.options: SamOptions = parse_model_options(self.options_class, options, self.name)
        self.device = resolve_device(self.options.device)
        self.model, self.weights = load_sam_family(
            self.family, self.options.model_type, self.options.checkpoint,
            self.options.random_init, self.options.seed, self.device)
        self.input_size = int(self.model.config.prompt_encoder_config.image_size)
        self.shape: tuple[int, int] | None = None
        self.embeddings: Any = None
        self.logits: Any = None   # (1, 1, h, w) low-resolution logits of the previous call

    def describe(self) -> dict[str, Any]:
        o = self.options
        return {"name": self.name, "model_type": o.model_type, "weights": self.weights,
                "device": str(self.device), "input_size": self.input_size,
                "multimask": o.multimask, "feed_logits": o.feed_logits,
                "mask_threshold": o.mask_threshold, "output": o.output}

    # -- geometry (subclasses) ------------------------------------------------------------
    def _pixels(self, image: np.ndarray) -> tuple[np.ndarray, tuple[float, float]]:
        """((1, 3, S, S) float32 model input, (row scale, column scale) of coordinates)."""
        raise NotImplementedError

    def _upsample(self, low: Any) -> Any:
        """(1, 1, h, w) low-resolution logits -> (H, W) logits of the original image."""
        raise NotImplementedError

    # -- the protocol ---------------------------------------------------------------------
    def set_image(self, image: np.ndarray) -> None:
        """Encode the image (the expensive part; once per sample) and forget the logits."""
        import torch

        self.shape = image.shape[:2]
        pixels, self.scale = self._pixels(image)
        with torch.no_grad():
            self.embeddings = self.model.get_image_embeddings(
                torch.from_numpy(pixels).to(self.device))
        self.logits = None

    def _prompts(self, interactions: Sequence[Interaction]) -> dict[str, Any]:
        """The model's point, label and box tensors: every click ((x, y) scaled, label 1/0)
        and the last box ((x0, y0, x1, y1) scaled)."""
        import torch

        sy, sx = self.scale
        clicks = [it for it in interactions if isinstance(it, Click)]
        boxes = [it for it in interactions if isinstance(it, Box)]
        if len(clicks) + len(boxes) != len(interactions):
            kinds = sorted({it.kind for it in interactions} - {"click", "box"})
            raise AdapterError(f"{self.name} accepts clicks and boxes only, got {kinds}")
        out: dict[str, Any] = {}
        if clicks:
            pts = [[c.x * sx, c.y * sy] for c in clicks]
            out["input_points"] = torch.tensor([[pts]], dtype=torch.float32, device=self.device)
            out["input_labels"] = torch.tensor([[[int(c.is_positive) for c in clicks]]],
                                               dtype=torch.int64, device=self.device)
        if boxes:
            b = boxes[-1]
            out["input_boxes"] = torch.tensor([[[b.x0 * sx, b.y0 * sy, b.x1 * sx, b.y1 * sy]]],
                                              dtype=torch.float32, device=self.device)
        return out

    def _multimask(self, interactions: Sequence[Interaction]) -> bool:
        mode = self.options.multimask
        first_click = len(interactions) == 1 and isinstance(interactions[0], Click)
        return mode == "always" or (mode == "first" and first_click)

    def predict(self, interactions: Sequence[Interaction], prev_prob: np.ndarray) -> np.ndarray:
        import torch

        if self.embeddings is None or self.shape is None:
            raise AdapterError(f"{self.name}: predict called before set_image")
        prompts = self._prompts(interactions)
        if self.options.feed_logits and self.logits is not None:
            prompts["input_masks"] = self.logits
        with torch.no_grad():
            out = self.model(image_embeddings=self.embeddings,
                             multimask_output=self._multimask(interactions), **prompts)
            low = out.pred_masks[0, 0]                      # (C, h, w)
            best = int(torch.argmax(out.iou_scores[0, 0]))
            self.logits = low[best][None, None]
            logits = self._upsample(self.logits) - self.options.mask_threshold
            prob = (logits > 0).float() if self.options.output == "mask" else logits.sigmoid()
        result: np.ndarray = prob.cpu().numpy().astype(np.float32)
        return result


def _normalised(image: np.ndarray, mean: Sequence[float], std: Sequence[float]) -> np.ndarray:
    out: np.ndarray = ((image.astype(np.float32) - np.asarray(mean, np.float32))
                       / np.asarray(std, np.float32))
    return out


class SamAdapter(SamFamilyAdapter):
    """``sam``: Segment Anything (``SamModel``). The longest image side is resized to the
    input size (1024; toy 256), the image normalised on 0..255 and zero-padded at the bottom
    and right; logits are upsampled to the padded input, cropped and resized back."""

    name = "sam"
    family = "sam"

    def _pixels(self, image: np.ndarray) -> tuple[np.ndarray, tuple[float, float]]:
        h, w = image.shape[:2]
        s = self.input_size / max(h, w)
        nh, nw = int(h * s + 0.5), int(w * s + 0.5)   # the predictor's rounding
        self.resized = (nh, nw)
        resized = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_LINEAR)
        padded = np.zeros((self.input_size, self.input_size, 3), np.float32)
        padded[:nh, :nw] = _normalised(resized, SAM_MEAN, SAM_STD)
        return padded.transpose(2, 0, 1)[None].copy(), (nh / h, nw / w)

    def _upsample(self, low: Any) -> Any:
        import torch.nn.functional as F

        assert self.shape is not None
        size = self.input_size
        full = F.interpolate(low, (size, size), mode="bilinear", align_corners=False)
        nh, nw = self.resized
        return F.interpolate(full[..., :nh, :nw], self.shape, mode="bilinear",
                             align_corners=False)[0, 0]


class Sam2Adapter(SamFamilyAdapter):
    """``sam2``: SAM 2 on single images (``Sam2Model``). The image is resized to the square
    input (1024; toy 256) and normalised on 0..1; logits are resized straight back."""

    name = "sam2"
    family = "sam2"
    options_class = Sam2Options

    def _pixels(self, image: np.ndarray) -> tuple[np.ndarray, tuple[float, float]]:
        h, w = image.shape[:2]
        size = self.input_size
        resized = cv2.resize(image, (size, size), interpolation=cv2.INTER_LINEAR)
        pixels = _normalised(resized.astype(np.float32) / 255.0, SAM2_MEAN, SAM2_STD)
        return pixels.transpose(2, 0, 1)[None].copy(), (size / h, size / w)

    def _upsample(self, low: Any) -> Any:
        import torch.nn.functional as F

        return F.interpolate(low, self.shape, mode="bilinear", align_corners=False)[0, 0]

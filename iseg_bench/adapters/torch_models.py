"""Adapters for the bundled PyTorch click models (optional extra ``models``: torch,
safetensors, transformers): ``emc-click`` and ``emc-click-b3`` (EMC-Click, Du et al., CVPR
2023) and ``acc99net`` (the 99%-accuracy network, Forte et al. 2020).

Options, weights lookup and per-sample state: ``docs/models/emc-click.md`` and
``docs/models/acc99net.md``.

Constants: ``TRAIN_HINT``, the message that says how to get weights.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from iseg_bench.adapters.base import Adapter, parse_model_options
from iseg_bench.errors import AdapterError
from iseg_bench.options import option
from iseg_bench.types import Click, Interaction

Clicks = list[tuple[float, float, bool]]
Box = tuple[int, int, int, int]

TRAIN_HINT = ("train one with `iseg-bench train --model {variant} --dataset <single-object "
              "dataset> --out runs/{variant}` and pass `--checkpoint runs/{variant}`, or put "
              "{variant}.safetensors + {variant}.json in $ISEG_BENCH_WEIGHTS; for a smoke run "
              "with meaningless random weights pass --random-init")


@dataclass(frozen=True)
class TorchClickOptions:
    """Options of the bundled torch click models (``acc99net``'s as they stand)."""

    device: str = option("auto", "auto|cpu|cuda|cuda:i")
    checkpoint: str | None = option(None, "X.safetensors + X.json (give X or the .safetensors "
                                          "path), or a folder with model.safetensors + "
                                          "model.json as written by iseg-bench train")
    random_init: bool = option(False, "random weights for smoke runs (meaningless predictions)")
    bf16: bool = option(False, "bfloat16 autocast on CUDA")
    zoom_in: bool = option(False, "RITM-style zoom-in after the first clicks")
    zoom_size: int = option(400, "long side in px of the zoomed crop (RITM's ZoomIn)")
    short_side: int | None = option(None, "resize the image so its short side has this "
                                          "length before the model (none: full resolution)")
    max_side: int | None = option(None, "cap on the long side in px (none: no cap)")
    variant: str | None = option(None, "the zoo variant to build or expect (default: the "
                                       "model's own), e.g. emc-click-tiny")
    seed: int = option(0, "seed of the random weights of random_init")


@dataclass(frozen=True)
class EMCClickOptions(TorchClickOptions):
    """Options of ``emc-click`` and ``emc-click-b3`` (short side 384 by default, as in the
    EMC-Click evaluation, Du et al. Sec. 4.1)."""

    short_side: int | None = option(384, "resize the image so its short side has this "
                                         "length before the model (none: full resolution)")


def load_model_for_adapter(variant: str, model_type: str, checkpoint: str | None,
                           random_init: bool, device: Any, seed: int = 0) -> tuple[Any, str]:
    """(model in eval mode on `device`, description of where the weights came from).

    Raises:
        AdapterError: a checkpoint of another model type, no weights and no random_init
            (the message says how to train them), or a random_init variant of another type.
    """
    from iseg_bench.models.checkpoint import find_weights, load_checkpoint
    from iseg_bench.models.zoo import build_model, variant_config

    path = checkpoint or find_weights(variant)
    if path:
        model, arch = load_checkpoint(path, device)
        if arch["model_type"] != model_type:
            raise AdapterError(f"checkpoint {path} holds a {arch['model_type']!r} model, not "
                               f"{model_type!r}")
        return model, str(path)
    if not random_init:
        raise AdapterError(f"model {variant!r} has no checkpoint: "
                           + TRAIN_HINT.format(variant=variant))
    if variant_config(variant)[0] != model_type:
        raise AdapterError(f"variant {variant!r} is not a {model_type!r} model")
    warnings.warn(f"{variant}: random weights (--random-init); predictions are meaningless",
                  stacklevel=3)
    return build_model(variant, seed=seed).to(device).eval(), "random-init"


def _clicks(interactions: Sequence[Interaction]) -> Clicks:
    out = []
    for it in interactions:
        if not isinstance(it, Click):
            raise AdapterError(f"the bundled click models accept clicks only, got {it.kind!r}")
        out.append((float(it.y), float(it.x), bool(it.is_positive)))
    return out


class TorchClickAdapter(Adapter):
    """Shared plumbing of the torch click models: options, device, weights, working
    resolution, zoom-in. Subclasses set ``model_type``, ``default_variant`` and ``_run``.

    Raises:
        UsageError: an unknown option or a value of the wrong type.
        AdapterError: no usable weights, or a bad device.
        ImportError: torch is not installed.
    """

    accepts = frozenset({"click"})
    options_class = TorchClickOptions
    model_type = ""
    default_variant = ""

    def __init__(self, **options: Any):
        import torch  # noqa: F401 -- fail early with a clear message when the extra is missing

        from iseg_bench.models.runtime import resolve_device

        opts: TorchClickOptions = parse_model_options(self.options_class, options, self.name)
        self.options = opts
        self.variant = opts.variant or self.default_variant
        self.device = resolve_device(opts.device)
        self.bf16 = opts.bf16
        self.zoom_in = opts.zoom_in
        self.zoom_size = opts.zoom_size
        self.short_side = opts.short_side
        self.max_side = opts.max_side
        self.model, self.weights = load_model_for_adapter(
            self.variant, self.model_type, opts.checkpoint, opts.random_init, self.device,
            opts.seed)
        self.image: np.ndarray | None = None

    # -- geometry -----------------------------------------------------------------------
    def _scale(self, shape: tuple[int, int]) -> float:
        s = 1.0
        if self.short_side:
            s = self.short_side / min(shape)
        if self.max_side and max(shape) * s > self.max_side:
            s = self.max_side / max(shape)
        return s

    @staticmethod
    def _resize(arr: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
        if arr.shape[:2] == tuple(shape):
            return arr
        resized: np.ndarray = cv2.resize(arr, (shape[1], shape[0]),
                                         interpolation=cv2.INTER_LINEAR)
        return resized

    @staticmethod
    def _map_clicks(clicks: Clicks, sy: float, sx: float, oy: float = 0.0,
                    ox: float = 0.0) -> Clicks:
        return [((y - oy + 0.5) * sy - 0.5, (x - ox + 0.5) * sx - 0.5, p) for y, x, p in clicks]

    def _tensor(self, arr: np.ndarray) -> Any:
        import torch

        return torch.from_numpy(np.ascontiguousarray(arr)).to(self.device)

    def _image_tensor(self, image: np.ndarray) -> Any:
        return self._tensor(image.astype(np.float32).transpose(2, 0, 1)[None] / 255.0)

    def set_image(self, image: np.ndarray) -> None:
        self.image = np.ascontiguousarray(image)

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "variant": self.variant, "weights": self.weights,
                "device": str(self.device), "bf16": self.bf16, "zoom_in": self.zoom_in,
                "zoom_size": self.zoom_size, "short_side": self.short_side,
                "max_side": self.max_side}

    def predict(self, interactions: Sequence[Interaction], prev_prob: np.ndarray) -> np.ndarray:
        import torch

        from iseg_bench.models.runtime import autocast
        from iseg_bench.models.zoom_in import (
            ZOOM_SKIP_CLICKS,
            paste_back,
            target_shape,
            zoom_in_box,
        )

        clicks = _clicks(interactions)
        full = self._loaded_image().shape[:2]
        with torch.inference_mode(), autocast(self.device, self.bf16):
            box = None
            if self.zoom_in and len(clicks) > ZOOM_SKIP_CLICKS:
                box = zoom_in_box(prev_prob, clicks)
            if box is None:
                s = self._scale(full)
                shape = (max(1, int(round(full[0] * s))), max(1, int(round(full[1] * s))))
                prob = self._run(clicks, prev_prob, None, shape)
                prob = self._resize(prob, full)
            else:
                shape = target_shape(box, self.zoom_size)
                prob = paste_back(self._run(clicks, prev_prob, box, shape), box, full)
        clipped: np.ndarray = np.clip(prob, 0.0, 1.0).astype(np.float32)
        return clipped

    def _run(self, clicks: Clicks, prev_prob: np.ndarray, box: Box | None,
             shape: tuple[int, int]) -> np.ndarray:  # pragma: no cover - abstract
        """(h, w) float probability of the model on the image (or the zoomed `box`) at
        working shape `shape`."""
        raise NotImplementedError

    def _loaded_image(self) -> np.ndarray:
        if self.image is None:
            raise AdapterError("predict called before set_image")
        return self.image


class EMCClickAdapter(TorchClickAdapter):
    """EMC-Click (Du et al. 2023): base network at click 1, correction network after;
    options: ``EMCClickOptions``."""

    name = "emc-click"
    options_class = EMCClickOptions
    model_type = "emc-click"
    default_variant = "emc-click"

    def set_image(self, image: np.ndarray) -> None:
        super().set_image(image)
        self._cache: dict[str, Any] | None = None

    def _base(self, first_click: tuple[float, float, bool]) -> dict[str, Any]:
        """Run Phi_S on the whole image at working resolution; cache F_t and M_c."""
        import torch

        from iseg_bench.models.click_encodings import disk_maps

        image = self._loaded_image()
        full = image.shape[:2]
        s = self._scale(full)
        shape = (max(1, int(round(full[0] * s))), max(1, int(round(full[1] * s))))
        img = self._image_tensor(self._resize(image, shape))
        c = self._map_clicks([first_click], shape[0] / full[0], shape[1] / full[1])
        disks = self._tensor(disk_maps(c, shape)[None])
        feats, coarse = self.model.encode(img, disks)
        coarse = torch.sigmoid(coarse.float())[0, 0].cpu().numpy()
        return {"first": first_click, "feats": feats, "shape": shape,
                "coarse": self._resize(coarse, full)}

    def _box_features(self, box: Box, shape: tuple[int, int]) -> Any:
        """Resample cached F_t to the feature grid of the zoomed, padded crop."""
        import torch
        import torch.nn.functional as F

        from iseg_bench.models.emc_click import PAD_MULTIPLE

        assert self._cache is not None   # set by _run before any zoomed prediction
        feats = self._cache["feats"]
        full = self._loaded_image().shape[:2]
        ws = self._cache["shape"][0] / full[0], self._cache["shape"][1] / full[1]
        sy, sx = shape[0] / (box[1] - box[0]), shape[1] / (box[3] - box[2])
        ph = -(-shape[0] // PAD_MULTIPLE) * PAD_MULTIPLE
        pw = -(-shape[1] // PAD_MULTIPLE) * PAD_MULTIPLE
        fh, fw = feats.shape[-2:]
        # centre of output cell j in crop pixel edges: 4j + 2 -> image edges -> working edges
        gy = (box[0] + (torch.arange(ph // 4, device=self.device) * 4 + 2) / sy) * ws[0]
        gx = (box[2] + (torch.arange(pw // 4, device=self.device) * 4 + 2) / sx) * ws[1]
        ny = gy / (2.0 * fh) - 1.0  # align_corners=False: edge coordinate e -> 2e/(4 f) - 1
        nx = gx / (2.0 * fw) - 1.0
        grid = torch.stack(torch.meshgrid(nx, ny, indexing="xy"), -1)[None].to(feats.dtype)
        return F.grid_sample(feats, grid, mode="bilinear", padding_mode="border",
                             align_corners=False)

    def _run(self, clicks: Clicks, prev_prob: np.ndarray, box: Box | None,
             shape: tuple[int, int]) -> np.ndarray:
        import torch

        from iseg_bench.models.click_encodings import disk_maps
        from iseg_bench.models.zoom_in import crop_resize

        cache = self._cache
        if cache is None or len(clicks) == 1 or cache["first"] != clicks[0]:
            cache = self._cache = self._base(clicks[0])
        if len(clicks) == 1:
            prev_full = cache["coarse"]  # M^0 = M_c (Sec. 3.2)
        else:
            prev_full = prev_prob.astype(np.float32)
        image = self._loaded_image()
        full = image.shape[:2]
        if box is None:
            img = self._resize(image, shape)
            prev = self._resize(prev_full, shape)
            c = self._map_clicks(clicks, shape[0] / full[0], shape[1] / full[1])
            feats = cache["feats"]
            if tuple(shape) != tuple(cache["shape"]):  # pragma: no cover - same scale rule
                raise AdapterError("internal: working shape changed within a sample")
        else:
            img = crop_resize(image, box, shape)
            prev = crop_resize(prev_full, box, shape)
            c = self._map_clicks(clicks, shape[0] / (box[1] - box[0]),
                                 shape[1] / (box[3] - box[2]), box[0], box[2])
            feats = self._box_features(box, shape)
        inside = [(y, x, p) for y, x, p in c if 0 <= y < shape[0] and 0 <= x < shape[1]]
        clicks_t = torch.tensor([[[y, x, 1.0 if p else 0.0] for y, x, p in (inside or c[:1])]],
                                device=self.device)
        if not inside:
            clicks_t[..., 2] = -1.0  # no click in the crop: no templates from clicks
        logits = self.model.correct(self._image_tensor(img),
                                    self._tensor(disk_maps(c, shape)[None]),
                                    self._tensor(prev[None, None]), feats, clicks_t)
        prob: np.ndarray = torch.sigmoid(logits.float())[0, 0].cpu().numpy()
        return prob


class EMCClickB3Adapter(EMCClickAdapter):
    """EMC-Click with the MiT-b3 base."""

    name = "emc-click-b3"
    default_variant = "emc-click-b3"


class Acc99NetAdapter(TorchClickAdapter):
    """The 99%-accuracy network (Forte et al. 2020): the whole network at every click;
    options: ``TorchClickOptions``."""

    name = "acc99net"
    model_type = "acc99net"
    default_variant = "acc99net"

    def _run(self, clicks: Clicks, prev_prob: np.ndarray, box: Box | None,
             shape: tuple[int, int]) -> np.ndarray:
        from iseg_bench.models.click_encodings import gaussian_maps
        from iseg_bench.models.zoom_in import crop_resize

        image = self._loaded_image()
        full = image.shape[:2]
        prev_prob = prev_prob.astype(np.float32)
        if box is None:
            img, prev = self._resize(image, shape), self._resize(prev_prob, shape)
            c = self._map_clicks(clicks, shape[0] / full[0], shape[1] / full[1])
        else:
            img, prev = crop_resize(image, box, shape), crop_resize(prev_prob, box, shape)
            c = self._map_clicks(clicks, shape[0] / (box[1] - box[0]),
                                 shape[1] / (box[3] - box[2]), box[0], box[2])
        out = self.model(self._image_tensor(img), self._tensor(gaussian_maps(c, shape)[None]),
                         self._tensor(prev[None, None]))
        prob: np.ndarray = out.float()[0, 0].cpu().numpy()
        return prob

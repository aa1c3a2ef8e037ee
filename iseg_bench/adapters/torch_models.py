"""Adapters for the bundled PyTorch click models (optional extra: torch, safetensors,
transformers). Registered names:

* ``emc-click`` -- EMC-Click with the SegFormer MiT-b0 base (Du et al. 2023);
* ``emc-click-b3`` -- EMC-Click with the MiT-b3 base;
* ``acc99net`` -- the 99%-accuracy network of Forte et al. 2020 ("99%AccuracyNet").

Every factory takes the keyword options ``device="auto"`` (auto|cpu|cuda|cuda:i),
``checkpoint=None`` (a checkpoint path: ``X.safetensors`` + ``X.json``, or a folder with
``model.safetensors`` + ``model.json`` as written by ``iseg-bench train``),
``random_init=False`` (random weights for smoke runs; predictions are meaningless),
``bf16=False`` (bfloat16 autocast on CUDA), and model options: ``zoom_in`` (default False),
``zoom_size`` (long side of the zoomed crop, 400 as in RITM's ZoomIn), ``short_side``
(resize the image so its short side has this length before the model; EMC-Click default 384
as in its evaluation, Du et al. Sec. 4.1; acc99net default None = full resolution, Forte et
al. Sec. 3.1), ``max_side`` (cap on the long side, None = no cap), ``variant`` (the zoo
variant to build with ``random_init``, e.g. ``emc-click-tiny``). String values from
``--model-opt`` are coerced.

Without a checkpoint the weights are looked up in ``$ISEG_BENCH_WEIGHTS``; when none is
found and ``random_init`` is not set, building the adapter fails with a message that says
how to train one.

EMC-Click state: the base network's features F_t are computed at the first click of a
sample and cached; from the second click only the mask correction network runs (Du et al.,
Sec. 3.2). With zoom-in, the cached features are resampled (bilinear) to the zoomed box.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np

from iseg_bench.adapters.base import Adapter
from iseg_bench.errors import AdapterError
from iseg_bench.types import Click, Interaction

TRAIN_HINT = ("train one with `iseg-bench train --model {variant} --dataset <single-object dataset> "
              "--out runs/{variant}` and pass `--checkpoint runs/{variant}`, or put "
              "{variant}.safetensors + {variant}.json in $ISEG_BENCH_WEIGHTS; for a smoke run with "
              "meaningless random weights pass --random-init")


def load_model_for_adapter(variant: str, model_type: str, checkpoint: str | None,
                           random_init: bool, device, seed: int = 0):
    """(model in eval mode on `device`, description of where the weights came from)."""
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
        raise AdapterError(f"model {variant!r} has no checkpoint: " + TRAIN_HINT.format(variant=variant))
    if variant_config(variant)[0] != model_type:
        raise AdapterError(f"variant {variant!r} is not a {model_type!r} model")
    warnings.warn(f"{variant}: random weights (--random-init); predictions are meaningless",
                  stacklevel=3)
    return build_model(variant, seed=seed).to(device).eval(), "random-init"


def _clicks(interactions: Sequence[Interaction]) -> list[tuple[float, float, bool]]:
    out = []
    for it in interactions:
        if not isinstance(it, Click):
            raise AdapterError(f"the bundled click models accept clicks only, got {it.kind!r}")
        out.append((float(it.y), float(it.x), bool(it.is_positive)))
    return out


class _TorchClickAdapter(Adapter):
    """Shared plumbing: device, weights, working resolution, zoom-in."""

    accepts = frozenset({"click"})
    model_type = ""
    default_variant = ""
    default_short_side: int | None = None

    def __init__(self, device: str = "auto", checkpoint: str | None = None, random_init: Any = False,
                 bf16: Any = False, zoom_in: Any = False, zoom_size: Any = 400, short_side: Any = "default",
                 max_side: Any = None, variant: str | None = None, seed: Any = 0):
        import torch  # noqa: F401 -- fail early with a clear message when the extra is missing

        from iseg_bench.models.runtime import as_bool, resolve_device

        self.variant = variant or self.default_variant
        self.device = resolve_device(device)
        self.bf16 = as_bool(bf16)
        self.zoom_in = as_bool(zoom_in)
        self.zoom_size = int(zoom_size)
        if short_side == "default":
            short_side = self.default_short_side
        self.short_side = None if short_side in (None, "", "none", "None") else int(short_side)
        self.max_side = None if max_side in (None, "", "none", "None") else int(max_side)
        self.model, self.weights = load_model_for_adapter(
            self.variant, self.model_type, checkpoint, as_bool(random_init), self.device, int(seed))
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
        return cv2.resize(arr, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)

    @staticmethod
    def _map_clicks(clicks, sy: float, sx: float, oy: float = 0.0, ox: float = 0.0):
        return [((y - oy + 0.5) * sy - 0.5, (x - ox + 0.5) * sx - 0.5, p) for y, x, p in clicks]

    def _tensor(self, arr: np.ndarray):
        import torch

        return torch.from_numpy(np.ascontiguousarray(arr)).to(self.device)

    def _image_tensor(self, image: np.ndarray):
        return self._tensor(image.astype(np.float32).transpose(2, 0, 1)[None] / 255.0)

    def set_image(self, image: np.ndarray) -> None:
        self.image = np.ascontiguousarray(image)

    def describe(self) -> dict:
        return {"name": self.name, "variant": self.variant, "weights": self.weights,
                "device": str(self.device), "bf16": self.bf16, "zoom_in": self.zoom_in,
                "zoom_size": self.zoom_size, "short_side": self.short_side, "max_side": self.max_side}

    def predict(self, interactions: Sequence[Interaction], prev_prob: np.ndarray) -> np.ndarray:
        import torch

        from iseg_bench.models.runtime import autocast
        from iseg_bench.models.zoom_in import (
            ZOOM_SKIP_CLICKS,
            paste_back,
            target_shape,
            zoom_in_box,
        )

        if self.image is None:
            raise AdapterError("predict called before set_image")
        clicks = _clicks(interactions)
        full = self.image.shape[:2]
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
        return np.clip(prob, 0.0, 1.0).astype(np.float32)

    def _run(self, clicks, prev_prob, box, shape) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError


class EMCClickAdapter(_TorchClickAdapter):
    """EMC-Click (Du et al. 2023): base network at click 1, correction network after."""

    name = "emc-click"
    model_type = "emc-click"
    default_variant = "emc-click"
    default_short_side = 384

    def set_image(self, image: np.ndarray) -> None:
        super().set_image(image)
        self._cache: dict | None = None

    def _base(self, first_click) -> dict:
        """Run Phi_S on the whole image at working resolution; cache F_t and M_c."""
        import torch

        from iseg_bench.models.click_encodings import disk_maps

        full = self.image.shape[:2]
        s = self._scale(full)
        shape = (max(1, int(round(full[0] * s))), max(1, int(round(full[1] * s))))
        img = self._image_tensor(self._resize(self.image, shape))
        c = self._map_clicks([first_click], shape[0] / full[0], shape[1] / full[1])
        disks = self._tensor(disk_maps(c, shape)[None])
        feats, coarse = self.model.encode(img, disks)
        coarse = torch.sigmoid(coarse.float())[0, 0].cpu().numpy()
        return {"first": first_click, "feats": feats, "shape": shape,
                "coarse": self._resize(coarse, full)}

    def _box_features(self, box, shape):
        """Resample cached F_t to the feature grid of the zoomed, padded crop."""
        import torch
        import torch.nn.functional as F

        from iseg_bench.models.emc_click import PAD_MULTIPLE

        feats = self._cache["feats"]
        full = self.image.shape[:2]
        ws = self._cache["shape"][0] / full[0], self._cache["shape"][1] / full[1]
        sy, sx = shape[0] / (box[1] - box[0]), shape[1] / (box[3] - box[2])
        ph, pw = -(-shape[0] // PAD_MULTIPLE) * PAD_MULTIPLE, -(-shape[1] // PAD_MULTIPLE) * PAD_MULTIPLE
        fh, fw = feats.shape[-2:]
        # centre of output cell j in crop pixel edges: 4j + 2 -> image edges -> working edges
        gy = (box[0] + (torch.arange(ph // 4, device=self.device) * 4 + 2) / sy) * ws[0]
        gx = (box[2] + (torch.arange(pw // 4, device=self.device) * 4 + 2) / sx) * ws[1]
        ny = gy / (2.0 * fh) - 1.0  # align_corners=False: edge coordinate e -> 2e/(4 f) - 1
        nx = gx / (2.0 * fw) - 1.0
        grid = torch.stack(torch.meshgrid(nx, ny, indexing="xy"), -1)[None].to(feats.dtype)
        return F.grid_sample(feats, grid, mode="bilinear", padding_mode="border", align_corners=False)

    def _run(self, clicks, prev_prob, box, shape) -> np.ndarray:
        import torch

        from iseg_bench.models.click_encodings import disk_maps
        from iseg_bench.models.zoom_in import crop_resize

        first_pass = self._cache is None or len(clicks) == 1 or self._cache["first"] != clicks[0]
        if first_pass:
            self._cache = self._base(clicks[0])
        if len(clicks) == 1:
            prev_full = self._cache["coarse"]  # M^0 = M_c (Sec. 3.2)
        else:
            prev_full = prev_prob.astype(np.float32)
        full = self.image.shape[:2]
        if box is None:
            img = self._resize(self.image, shape)
            prev = self._resize(prev_full, shape)
            c = self._map_clicks(clicks, shape[0] / full[0], shape[1] / full[1])
            feats = self._cache["feats"]
            if tuple(shape) != tuple(self._cache["shape"]):  # pragma: no cover - same scale rule
                raise AdapterError("internal: working shape changed within a sample")
        else:
            img = crop_resize(self.image, box, shape)
            prev = crop_resize(prev_full, box, shape)
            c = self._map_clicks(clicks, shape[0] / (box[1] - box[0]), shape[1] / (box[3] - box[2]),
                                 box[0], box[2])
            feats = self._box_features(box, shape)
        inside = [(y, x, p) for y, x, p in c if 0 <= y < shape[0] and 0 <= x < shape[1]]
        clicks_t = torch.tensor([[[y, x, 1.0 if p else 0.0] for y, x, p in (inside or c[:1])]],
                                device=self.device)
        if not inside:
            clicks_t[..., 2] = -1.0  # no click in the crop: no templates from clicks
        logits = self.model.correct(self._image_tensor(img), self._tensor(disk_maps(c, shape)[None]),
                                    self._tensor(prev[None, None]), feats, clicks_t)
        return torch.sigmoid(logits.float())[0, 0].cpu().numpy()


class Acc99NetAdapter(_TorchClickAdapter):
    """The 99%-accuracy network (Forte et al. 2020): the whole network at every click."""

    name = "acc99net"
    model_type = "acc99net"
    default_variant = "acc99net"
    default_short_side = None

    def _run(self, clicks, prev_prob, box, shape) -> np.ndarray:
        from iseg_bench.models.click_encodings import gaussian_maps
        from iseg_bench.models.zoom_in import crop_resize

        full = self.image.shape[:2]
        prev_prob = prev_prob.astype(np.float32)
        if box is None:
            img, prev = self._resize(self.image, shape), self._resize(prev_prob, shape)
            c = self._map_clicks(clicks, shape[0] / full[0], shape[1] / full[1])
        else:
            img, prev = crop_resize(self.image, box, shape), crop_resize(prev_prob, box, shape)
            c = self._map_clicks(clicks, shape[0] / (box[1] - box[0]), shape[1] / (box[3] - box[2]),
                                 box[0], box[2])
        out = self.model(self._image_tensor(img), self._tensor(gaussian_maps(c, shape)[None]),
                         self._tensor(prev[None, None]))
        return out.float()[0, 0].cpu().numpy()


def emc_click(**options: Any) -> EMCClickAdapter:
    """Factory for ``emc-click`` (MiT-b0 base, C = 64)."""
    return EMCClickAdapter(**options)


def emc_click_b3(**options: Any) -> EMCClickAdapter:
    """Factory for ``emc-click-b3`` (MiT-b3 base, C = 96)."""
    options.setdefault("variant", "emc-click-b3")
    adapter = EMCClickAdapter(**options)
    adapter.name = "emc-click-b3"
    return adapter


def acc99net(**options: Any) -> Acc99NetAdapter:
    """Factory for ``acc99net`` (Forte et al. 2020)."""
    return Acc99NetAdapter(**options)

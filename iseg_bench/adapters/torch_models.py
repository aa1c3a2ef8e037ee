"""Adapters for the bundled PyTorch click models (optional extra ``models``: torch,
safetensors, transformers): ``emc-click`` and ``emc-click-b3`` (EMC-Click, Du et al., CVPR
2023) and ``acc99net`` (the 99%-accuracy network, Forte et al. 2020).

Options, weights lookup and per-sample state: ``docs/models/emc-click.md`` and
``docs/models/acc99net.md``.

Constants: ``TRAIN_HINT``, the message that says how to get weights.
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import cv2
import numpy as np

from iseg_bench.adapters.base import Adapter, BatchItem, parse_model_options
from iseg_bench.errors import AdapterError, UsageError
from iseg_bench.options import option
from iseg_bench.types import Click, Interaction

Clicks = list[tuple[float, float, bool]]
Box = tuple[int, int, int, int]

TRAIN_HINT = ("train one with `iseg-bench train --model {variant} --dataset <single-object "
              "dataset> --out runs/{variant}` and pass `--checkpoint runs/{variant}`, or put "
              "{variant}.safetensors + {variant}.json in $ISEG_BENCH_WEIGHTS; for a smoke run "
              "with meaningless random weights pass --random-init")


@dataclass(frozen=True)
class TorchModelOptions:
    """Options every bundled torch model has: device, weights, precision."""

    device: str = option("auto", "auto|cpu|cuda|cuda:i")
    checkpoint: str | None = option(None, "X.safetensors + X.json (give X or the .safetensors "
                                          "path), or a folder with model.safetensors + "
                                          "model.json as written by iseg-bench train")
    random_init: bool = option(False, "random weights for smoke runs (meaningless predictions)")
    bf16: bool = option(False, "bfloat16 autocast on CUDA")
    variant: str | None = option(None, "the zoo variant to build or expect (default: the "
                                       "model's own), e.g. emc-click-tiny")
    seed: int = option(0, "seed of the random weights of random_init")


@dataclass(frozen=True)
class TorchClickOptions(TorchModelOptions):
    """Options of the bundled torch click models (``acc99net``'s as they stand)."""

    zoom_in: bool = option(False, "RITM-style zoom-in after the first clicks")
    zoom_size: int = option(400, "long side in px of the zoomed crop (RITM's ZoomIn)")
    short_side: int | None = option(None, "resize the image so its short side has this "
                                          "length before the model (none: full resolution)")
    max_side: int | None = option(None, "cap on the long side in px (none: no cap)")


@dataclass(frozen=True)
class EMCClickOptions(TorchClickOptions):
    """Options of ``emc-click`` and ``emc-click-b3``. The defaults are the authors'
    evaluation preset (``models.released.EVAL_PRESET``): short side 384 px (576 on DAVIS),
    sides floored to a multiple of 4, horizontal-flip averaging, no zoom-in."""

    short_side: int | None = option(384, "short side in px of the working image (none: full "
                                         "resolution); the preset's 384 becomes 576 on davis")
    flip: bool = option(True, "average the logits with those of the mirrored image")
    dataset: str | None = option(None, "the dataset's name, for the preset's short side "
                                       "(576 px on davis)")


@dataclass(frozen=True)
class Acc99NetOptions(TorchClickOptions):
    """Options of ``acc99net``: the shared ones and the evaluation preset."""

    preset: Literal["released", "plain"] = option(
        "released", "released: the authors' demo.py inference (sides rounded up to a multiple "
                    "of 32, their resizes, forced clicks, removal of regions not connected to "
                    "a positive click); plain: the shared torch pipeline (short_side, "
                    "max_side, zoom_in)")

    def __post_init__(self) -> None:
        if self.preset == "released" and (self.zoom_in or self.short_side or self.max_side):
            raise UsageError("model acc99net: zoom_in, short_side and max_side need "
                             "preset=plain (the released preset fixes its own resizing)")


def load_model_for_adapter(variant: str, model_type: str, checkpoint: str | None,
                           random_init: bool, device: Any, seed: int = 0) -> tuple[Any, str]:
    """(model in eval mode on `device`, description of where the weights came from).
    A checkpoint ending in .pth is read as the authors' released file
    (``models.released.load_released``: EMC-Click or the 99% network).

    Raises:
        AdapterError: a checkpoint of another model type, no weights and no random_init
            (the message says how to train them), or a random_init variant of another type.
    """
    from iseg_bench.models.checkpoint import find_weights, load_checkpoint
    from iseg_bench.models.zoo import build_model, variant_config

    path = checkpoint or find_weights(variant)
    if path and str(path).endswith(".pth"):
        from iseg_bench.models.released import load_released  # the authors' own file

        released, info = load_released(path)
        if variant_config(info["variant"])[0] != model_type:
            raise AdapterError(f"{path} holds the authors' {info['variant']}, not a "
                               f"{model_type!r} model")
        return released.to(device), str(path)
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
                  stacklevel=4)   # the caller of the adapter constructor
    return build_model(variant, seed=seed).to(device).eval(), "random-init"


class TorchModel:
    """Mixin of every bundled torch adapter: the options of ``TorchModelOptions`` turned
    into ``variant``, ``device``, ``bf16``, ``model`` and ``weights``, and the parsed options
    kept as ``options``. Subclasses set ``name``, ``options_class``, ``model_type`` and
    ``default_variant``."""

    name: ClassVar[str]
    options_class: ClassVar[type[Any]]
    model_type: ClassVar[str] = ""
    default_variant: ClassVar[str] = ""
    variant: str
    device: Any
    bf16: bool
    model: Any
    weights: str
    options: Any

    def load_torch_model(self, options: dict[str, Any]) -> Any:
        """Parse `options` with ``options_class``, set the five attributes and return the
        parsed options.

        Raises:
            UsageError: an unknown option or a value of the wrong type.
            AdapterError: no usable weights, or a bad device.
            ImportError: torch is not installed.
        """
        import torch  # noqa: F401 -- fail early with a clear message when the extra is missing

        from iseg_bench.models.runtime import resolve_device

        opts = parse_model_options(self.options_class, options, self.name)
        self.options = opts
        self.variant = opts.variant or self.default_variant
        self.device = resolve_device(opts.device)
        self.bf16 = opts.bf16
        self.model, self.weights = load_model_for_adapter(
            self.variant, self.model_type, opts.checkpoint, opts.random_init, self.device,
            opts.seed)
        return opts


def _clicks(interactions: Sequence[Interaction]) -> Clicks:
    out = []
    for it in interactions:
        if not isinstance(it, Click):
            raise AdapterError(f"the bundled click models accept clicks only, got {it.kind!r}")
        out.append((float(it.y), float(it.x), bool(it.is_positive)))
    return out


class TorchModelAdapter(TorchModel, Adapter):
    """A single-object adapter of a bundled torch model: the attributes of
    :class:`TorchModel` (subclasses call ``load_torch_model`` first in ``__init__``) and the
    image of the current sample, (H, W, 3) uint8, kept by ``set_image``."""

    image: np.ndarray | None = None

    def set_image(self, image: np.ndarray) -> None:
        self.image = np.ascontiguousarray(image)


class TorchClickAdapter(TorchModelAdapter):
    """Shared plumbing of the torch click models: options, device, weights, working
    resolution, zoom-in. Subclasses set ``model_type``, ``default_variant`` and ``_run``.

    Raises:
        UsageError: an unknown option or a value of the wrong type.
        AdapterError: no usable weights, or a bad device.
        ImportError: torch is not installed.
    """

    accepts = frozenset({"click"})
    options_class = TorchClickOptions

    def __init__(self, **options: Any):
        opts: TorchClickOptions = self.load_torch_model(options)
        self.zoom_in = opts.zoom_in
        self.zoom_size = opts.zoom_size
        self.short_side = opts.short_side
        self.max_side = opts.max_side

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
    """EMC-Click (Du et al. 2023) evaluated as the authors' predictor does (released code,
    isegm/inference/predictors/clickatt.py): the base network once per image on the first
    click, the correction network at every click on the model's own previous stride-4
    logits (the loop's ``prev_prob`` is not used), bilinear resizes with align_corners True,
    clicks scaled by the size ratio, flip averaging of the logits. Options:
    ``EMCClickOptions``.

    Raises:
        AdapterError: zoom_in requested (the authors' EMC-Click evaluation does not zoom).
    """

    name = "emc-click"
    #: the authors' evaluation threshold (``models.released.EVAL_PRESET``); the run uses it
    #: unless --prob-threshold is given
    prob_threshold: ClassVar[float] = 0.5
    options_class = EMCClickOptions
    model_type = "emc-click"
    default_variant = "emc-click"

    def __init__(self, **options: Any):
        super().__init__(**options)
        from iseg_bench.models.released import EVAL_PRESET

        self.preset = dict(EVAL_PRESET)
        if not (self.weights.endswith(".pth") or self.weights == "random-init"):
            from iseg_bench.models.checkpoint import read_architecture

            self.preset.update(read_architecture(self.weights)["meta"].get("eval_preset", {}))
        opts: EMCClickOptions = self.options
        if self.zoom_in:
            raise AdapterError("emc-click does not zoom in: the authors' evaluation runs on "
                               "the whole resized image (drop zoom_in)")
        self.flip = opts.flip
        self.dataset = (opts.dataset or "").lower()
        if self.dataset == "davis" and self.short_side == self.preset["short_side"]:
            self.short_side = self.preset["short_side_davis"]
        self._cache: dict[str, Any] | None = None
        self._batch_caches: dict[Hashable, dict[str, Any]] = {}

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "flip": self.flip, "dataset": self.dataset or None,
                "preset": self.preset}

    def set_image(self, image: np.ndarray) -> None:
        super().set_image(image)
        self._cache = None

    def _working_shape(self, full: tuple[int, int]) -> tuple[int, int]:
        """As the released ResizeTrans: round(side * scale) floored to a multiple of 4
        (here at least MIN_SIDE px)."""
        from iseg_bench.models.emc_click import FEATURE_STRIDE, MIN_SIDE

        s = self._scale(full)
        return tuple(max(MIN_SIDE, int(round(n * s)) // FEATURE_STRIDE * FEATURE_STRIDE)
                     for n in full)  # type: ignore[return-value]

    def _start(self, first: tuple[float, float, bool]) -> dict[str, Any]:
        """Resize the image (and its mirror), run Phi_S on the first click; cache."""
        cache, first_disk = self._prepare(self._loaded_image(), first)
        cache["feats"], cache["prev"] = self.model.encode(cache["img"], first_disk)
        return cache

    def _prepare(self, image: np.ndarray, first: tuple[float, float, bool]
                 ) -> tuple[dict[str, Any], Any]:
        """The cache of `image` before Phi_S (working shape, resized image and mirror, size
        ratio) and the first click's positive disk, (V, 1, h, w) for V views."""
        import torch
        import torch.nn.functional as F

        full = image.shape[:2]
        shape = self._working_shape(full)
        img = F.interpolate(self._image_tensor(image), size=shape, mode="bilinear",
                            align_corners=True)
        if self.flip:
            img = torch.cat([img, torch.flip(img, dims=[3])])
        cache: dict[str, Any] = {"shape": shape, "img": img, "clicks": [first],
                                 "ratio": (shape[0] / full[0], shape[1] / full[1])}
        return cache, self._tensor(self._disks([first], cache)[:, :1])

    def _disks(self, clicks: Clicks, cache: dict[str, Any]) -> np.ndarray:
        from iseg_bench.models.click_encodings import disk_maps

        return np.stack([disk_maps(c, cache["shape"]) for c in self._views(clicks, cache)])

    def _views(self, clicks: Clicks, cache: dict[str, Any]) -> list[Clicks]:
        """Clicks in working pixels (y * ratio, as released) and, with flip, mirrored."""
        ry, rx = cache["ratio"]
        c = [(y * ry, x * rx, p) for y, x, p in clicks]
        if not self.flip:
            return [c]
        return [c, [(y, cache["shape"][1] - x - 1, p) for y, x, p in c]]

    def _step(self, cache: dict[str, Any], clicks: Clicks) -> Any:
        """One correction on the cached previous logits; returns working-size logits."""
        return self._steps([(cache, clicks)])[0]

    def _steps(self, work: list[tuple[dict[str, Any], Clicks]]) -> list[Any]:
        """One correction of each (cache, clicks) in one batched Phi_R call (the caches share
        their working shape and click count); each cache's previous logits move on. Returns
        each one's working-size logits, (V, 1, h, w)."""
        import torch

        from iseg_bench.models.emc_click import upsample

        inputs = []
        for cache, clicks in work:
            rows = [[[y, x, 1.0 if p else 0.0] for y, x, p in v]
                    for v in self._views(clicks, cache)]
            inputs.append((cache["img"], self._tensor(self._disks(clicks, cache)),
                           cache["prev"], cache["feats"], torch.tensor(rows, device=self.device)))
        out = self.model.correct(*(torch.cat(part) for part in zip(*inputs)))
        views = len(inputs[0][0])
        logits = []
        for i, (cache, clicks) in enumerate(work):
            cache["prev"] = out[i * views:(i + 1) * views]
            cache["clicks"] = list(clicks)
            logits.append(upsample(cache["prev"].float(), cache["shape"]))
        return logits

    def _probability(self, logits: Any, full: tuple[int, int]) -> np.ndarray:
        """(H, W) float32 probability of working-size `logits` (flip-averaged)."""
        import torch

        from iseg_bench.models.emc_click import upsample

        if self.flip:
            logits = 0.5 * (logits[:1] + torch.flip(logits[1:], dims=[3]))
        prob = upsample(torch.sigmoid(logits), full)[0, 0]
        out: np.ndarray = np.clip(prob.float().cpu().numpy(), 0.0, 1.0).astype(np.float32)
        return out

    def predict(self, interactions: Sequence[Interaction], prev_prob: np.ndarray) -> np.ndarray:
        import torch

        from iseg_bench.models.runtime import autocast

        clicks = _clicks(interactions)
        full = self._loaded_image().shape[:2]
        with torch.inference_mode(), autocast(self.device, self.bf16):
            cache = self._cache
            if cache is None or cache["clicks"] != clicks[:-1] or len(clicks) == 1:
                cache = self._cache = self._start(clicks[0])  # replay a changed history
                for n in range(1, len(clicks)):
                    self._step(cache, clicks[:n])
            return self._probability(self._step(cache, clicks), full)

    def predict_batch(self, items: Sequence[BatchItem]) -> list[np.ndarray]:
        """:meth:`predict` of several samples: the first clicks' Phi_S in one call per
        working shape, then Phi_R in one call per (working shape, click count); each
        sample's features and logits are kept under its key (dropped once the key is absent
        from a call). A sample whose history is not its cached one plus a click is replayed
        alone. As in the released code, Phi_R's template slots are the batch's largest
        positive or negative click count (``models.emc_click.template_scores``), so with
        mixed counts a sample's output can differ slightly from :meth:`predict`'s
        (docs/models/emc-click.md)."""
        import torch

        from iseg_bench.models.runtime import autocast

        old = self._batch_caches
        self._batch_caches = {}
        clicks = [_clicks(it.interactions) for it in items]
        with torch.inference_mode(), autocast(self.device, self.bf16):
            starts: dict[tuple[int, int], list[int]] = {}
            for i, (it, c) in enumerate(zip(items, clicks)):
                cache = old.get(it.key)
                if len(c) == 1:
                    starts.setdefault(self._working_shape(it.image.shape[:2]), []).append(i)
                    continue
                if cache is None or cache["clicks"] != c[:-1]:
                    self.set_image(it.image)       # replay a changed history alone
                    cache = self._start(c[0])
                    for n in range(1, len(c)):
                        self._step(cache, c[:n])
                self._batch_caches[it.key] = cache
            for idx in starts.values():
                prepared = [self._prepare(items[i].image, clicks[i][0]) for i in idx]
                feats, prev = self.model.encode(torch.cat([c["img"] for c, _ in prepared]),
                                                torch.cat([d for _, d in prepared]))
                views = len(prepared[0][0]["img"])
                for j, (i, (cache, _)) in enumerate(zip(idx, prepared)):
                    cache["feats"] = feats[j * views:(j + 1) * views]
                    cache["prev"] = prev[j * views:(j + 1) * views]
                    self._batch_caches[items[i].key] = cache
            groups: dict[tuple[Any, ...], list[int]] = {}
            for i, it in enumerate(items):
                groups.setdefault((self._batch_caches[it.key]["shape"], len(clicks[i])),
                                  []).append(i)
            out: list[np.ndarray] = [np.empty(0, np.float32)] * len(items)
            for idx in groups.values():
                logits = self._steps([(self._batch_caches[items[i].key], clicks[i])
                                      for i in idx])
                for i, lg in zip(idx, logits):
                    out[i] = self._probability(lg, items[i].image.shape[:2])
        return out


class EMCClickB3Adapter(EMCClickAdapter):
    """EMC-Click with the MiT-b3 base."""

    name = "emc-click-b3"
    default_variant = "emc-click-b3"


class EMCClickHR18sAdapter(EMCClickAdapter):
    """EMC-Click with the HRNet-18s+OCR base (the authors' hr18s.pth; models/hrnet.py)."""

    name = "emc-click-hr18s"
    default_variant = "emc-click-hr18s"


class EMCClickHR18Adapter(EMCClickAdapter):
    """EMC-Click with the HRNet-18+OCR base (the authors' hr18.pth; models/hrnet.py)."""

    name = "emc-click-hr18"
    default_variant = "emc-click-hr18"


class EMCClickHR32Adapter(EMCClickAdapter):
    """EMC-Click with the HRNet-32+OCR base (the authors' hr32.pth; models/hrnet.py)."""

    name = "emc-click-hr32"
    default_variant = "emc-click-hr32"


RELEASED_SIDE_MULTIPLE = 32
RELEASED_INFERENCE = {
    "source": "MarcoForte/DeepInteractiveSegmentation ddd7426, demo.py pred()",
    "working_size": "each side rounded up to a multiple of 32",
    "image_resize": "cv2 INTER_LANCZOS4 on float64 RGB in [0, 1]",
    "click_map_resize": "cv2 INTER_NEAREST; Gaussian maps from the resized click pixels",
    "previous_mask": "regions not connected to a positive click removed, then cv2 "
                     "INTER_LANCZOS4",
    "output_resize": "cv2 INTER_LINEAR (the release passes INTER_LANCZOS4 in the dst position "
                     "of cv2.resize, so OpenCV's default bilinear applies)",
    "postprocess": "click pixels forced to 0 / 1, then regions (probability > 0.5, "
                   "8-connected) not containing a positive click set to 0, as is every "
                   "pixel <= 0.5",
}


def remove_unconnected(prob: np.ndarray, positive: np.ndarray) -> np.ndarray:
    """The release's ``remove_non_fg_connected``: with at least one positive click pixel,
    keep the 8-connected components of ``prob > 0.5`` that contain one and set every other
    pixel (including all pixels <= 0.5) to 0; without one, `prob` unchanged.

    Args:
        prob: (H, W) float probability.
        positive: (H, W) positive click pixels (nonzero = clicked).

    Returns:
        (H, W) array of `prob`'s dtype (a new array).
    """
    from iseg_bench.geometry import label_components

    ys, xs = np.nonzero(positive)
    if len(ys) == 0:
        return prob.copy()
    labels = label_components(prob > 0.5, crop=False).labels
    keep = np.unique(labels[ys, xs])
    out: np.ndarray = np.where(np.isin(labels, keep[keep > 0]), prob, 0).astype(prob.dtype)
    return out


class Acc99NetAdapter(TorchClickAdapter):
    """The 99%-accuracy network (Forte et al. 2020): the whole network at every click;
    options: ``Acc99NetOptions``. The default preset ("released") evaluates as the authors'
    ``demo.py`` does (``RELEASED_INFERENCE``, docs/models/acc99net.md); "plain" uses the
    shared pipeline of the torch adapters."""

    name = "acc99net"
    options_class = Acc99NetOptions
    model_type = "acc99net"
    default_variant = "acc99net"

    def __init__(self, **options: Any):
        super().__init__(**options)
        opts: Acc99NetOptions = self.options
        self.preset = opts.preset

    def describe(self) -> dict[str, Any]:
        out = {**super().describe(), "preset": self.preset}
        if self.preset == "released":
            out["inference"] = dict(RELEASED_INFERENCE)
        return out

    def predict(self, interactions: Sequence[Interaction], prev_prob: np.ndarray) -> np.ndarray:
        if self.preset == "plain":
            return super().predict(interactions, prev_prob)
        return self._released_batch([(self._loaded_image(), interactions, prev_prob)])[0]

    def predict_batch(self, items: Sequence[BatchItem]) -> list[np.ndarray]:
        """:meth:`predict` of several samples. The released preset runs the network once per
        working size (each side rounded up to a multiple of 32) on all samples of that
        size; the network has no cross-sample operation (batch norm in eval mode), so a
        sample's output does not depend on its batch-mates. The plain preset (zoom-in crops
        of their own sizes) calls :meth:`predict` per sample."""
        if self.preset == "plain":
            out = []
            for it in items:
                self.set_image(it.image)
                out.append(self.predict(it.interactions, it.prev_prob))
            return out
        groups: dict[tuple[int, int], list[int]] = {}
        for i, it in enumerate(items):
            groups.setdefault(self._released_size(it.image.shape[:2]), []).append(i)
        result: list[np.ndarray] = [np.empty(0, np.float32)] * len(items)
        for idx in groups.values():
            probs = self._released_batch([(items[i].image, items[i].interactions,
                                           items[i].prev_prob) for i in idx])
            for i, prob in zip(idx, probs):
                result[i] = prob
        return result

    @staticmethod
    def _released_size(shape: tuple[int, int]) -> tuple[int, int]:
        """The released working size of an (H, W) image: each side rounded up to a
        multiple of RELEASED_SIDE_MULTIPLE."""
        return (-(-shape[0] // RELEASED_SIDE_MULTIPLE) * RELEASED_SIDE_MULTIPLE,
                -(-shape[1] // RELEASED_SIDE_MULTIPLE) * RELEASED_SIDE_MULTIPLE)

    def _released_batch(self, work: list[tuple[np.ndarray, Sequence[Interaction], np.ndarray]]
                        ) -> list[np.ndarray]:
        """The released inference (RELEASED_INFERENCE) of (image, interactions, prev_prob)
        items of one working size, in one network call."""
        import torch

        from iseg_bench.models.click_encodings import (
            click_pixel_maps,
            clicks_from_pixel_maps,
            gaussian_maps,
        )
        from iseg_bench.models.runtime import autocast

        inputs, posts = [], []
        for image, interactions, prev_prob in work:
            clicks = _clicks(interactions)
            h, w = image.shape[:2]
            hs, ws = self._released_size((h, w))
            pixels = click_pixel_maps(clicks, (h, w))
            prev = remove_unconnected(prev_prob.astype(np.float32), pixels[1])
            img = cv2.resize(image.astype(np.float64) / 255.0, (ws, hs),
                             interpolation=cv2.INTER_LANCZOS4)
            prev = cv2.resize(prev, (ws, hs), interpolation=cv2.INTER_LANCZOS4)
            scaled = cv2.resize(pixels.transpose(1, 2, 0), (ws, hs),
                                interpolation=cv2.INTER_NEAREST
                                ).reshape(hs, ws, 2).transpose(2, 0, 1)
            gauss = gaussian_maps(clicks_from_pixel_maps(scaled), (hs, ws))
            inputs.append((self._tensor(img.astype(np.float32).transpose(2, 0, 1)[None]),
                           self._tensor(gauss[None]), self._tensor(prev[None, None]),
                           self._tensor(scaled[None])))
            posts.append((pixels, (h, w)))
        with torch.inference_mode(), autocast(self.device, self.bf16):
            out = self.model(*(torch.cat(part) for part in zip(*inputs)))
        results = []
        for j, (pixels, (h, w)) in enumerate(posts):
            alpha = cv2.resize(out.float()[j, 0].cpu().numpy(), (w, h),
                               interpolation=cv2.INTER_LINEAR)
            alpha[pixels[0] == 1] = 0.0
            alpha[pixels[1] == 1] = 1.0
            result: np.ndarray = np.clip(remove_unconnected(alpha, pixels[1]), 0.0, 1.0)
            results.append(result.astype(np.float32))
        return results

    def _run(self, clicks: Clicks, prev_prob: np.ndarray, box: Box | None,
             shape: tuple[int, int]) -> np.ndarray:
        from iseg_bench.models.click_encodings import click_pixel_maps, gaussian_maps
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
                         self._tensor(prev[None, None]),
                         self._tensor(click_pixel_maps(c, shape)[None]))
        prob: np.ndarray = out.float()[0, 0].cpu().numpy()
        return prob

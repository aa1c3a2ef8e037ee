"""Backbones built from HuggingFace ``transformers`` configs (no torchvision, no timm):
SegFormer MiT encoders (Xie et al., NeurIPS 2021, Tab. 6); bottleneck ResNet trunks with GN +
WS (transformers BiT); plain BatchNorm ResNets with a dilated last stage (DeepLab); a guarded
transformers import and optional ImageNet-pretrained weight loading
(``docs/models/torch-models.md``).

Constants: ``MIT_CONFIGS`` (b0, b3), ``RESNET_CONFIGS`` (resnet50, resnet101).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from typing import Any

import torch

from iseg_bench.errors import AdapterError

# SegFormer MiT encoders (Xie et al. 2021, Sec. 3 and Tab. 6).
MIT_CONFIGS: dict[str, dict[str, Any]] = {
    "b0": dict(hidden_sizes=[32, 64, 160, 256], depths=[2, 2, 2, 2],
               num_attention_heads=[1, 2, 5, 8], sr_ratios=[8, 4, 2, 1],
               mlp_ratios=[4, 4, 4, 4], decoder_hidden_size=256),
    "b3": dict(hidden_sizes=[64, 128, 320, 512], depths=[3, 4, 18, 3],
               num_attention_heads=[1, 2, 5, 8], sr_ratios=[8, 4, 2, 1],
               mlp_ratios=[4, 4, 4, 4], decoder_hidden_size=768),
}

# ResNet-50/101 bottleneck stages (He et al. 2016, Tab. 1), as BiT configs.
RESNET_CONFIGS: dict[str, dict[str, Any]] = {
    "resnet50": dict(hidden_sizes=[256, 512, 1024, 2048], depths=[3, 4, 6, 3], embedding_size=64,
                     num_groups=32),
    "resnet101": dict(hidden_sizes=[256, 512, 1024, 2048], depths=[3, 4, 23, 3], embedding_size=64,
                      num_groups=32),
}

_CHECKED_TORCHVISION = False


def _hide_broken_torchvision() -> None:
    """Make a broken torchvision look absent before transformers checks for it."""
    global _CHECKED_TORCHVISION
    if _CHECKED_TORCHVISION:
        return
    _CHECKED_TORCHVISION = True
    if "torchvision" in sys.modules:
        return
    try:
        if importlib.util.find_spec("torchvision") is None:
            return
    except (ValueError, ImportError):
        return
    try:
        importlib.import_module("torchvision")
    except Exception:  # noqa: BLE001 -- any failure means "unusable"
        for name in [n for n in sys.modules if n == "torchvision" or n.startswith("torchvision.")]:
            del sys.modules[name]
        sys.modules["torchvision"] = None  # type: ignore[assignment]


def _import_transformers(*modules: str) -> list[Any]:
    """The modules ``transformers.models.<m>`` for each m, imported after hiding a broken
    torchvision.

    Raises:
        AdapterError: transformers is missing or broken, with the fix in the message.
    """
    _hide_broken_torchvision()
    try:
        return [importlib.import_module(f"transformers.models.{m}") for m in modules]
    except Exception as exc:  # noqa: BLE001
        raise AdapterError(
            "the reference models need HuggingFace transformers (5.x) for their backbones: "
            f"`pip install 'iseg-bench[models]'` or `pip install transformers` ({exc})") from exc


def transformers_modules():
    """(modeling_segformer, modeling_bit, SegformerConfig, BitConfig), importing safely.

    Raises:
        AdapterError: transformers is missing or broken, with the fix in the message.
    """
    seg, bit, seg_cfg, bit_cfg = _import_transformers(
        "segformer.modeling_segformer", "bit.modeling_bit", "segformer.configuration_segformer",
        "bit.configuration_bit")
    return seg, bit, seg_cfg.SegformerConfig, bit_cfg.BitConfig


def build_segformer(num_channels: int, **config: Any):
    """A randomly initialised ``SegformerModel`` (encoder only) from config keywords.

    Returns a module whose ``(pixel_values (B, num_channels, H, W), output_hidden_states=True)``
    call gives four hidden states (B, C_i, ceil(H / s_i), ceil(W / s_i)), s = 4, 8, 16, 32.
    """
    seg, _, SegformerConfig, _ = transformers_modules()
    cfg = SegformerConfig(num_channels=num_channels, **config)
    return seg.SegformerModel(cfg)


def build_bit_trunk(num_channels: int, **config: Any):
    """A randomly initialised ``BitBackbone`` (bottleneck, GN + WS) that returns only its last
    stage: with k stages (``len(config["depths"])``) the output stride is 4 * 2 ** (k - 1),
    e.g. the first three ResNet-50 stages ("C4") at stride 16.

    Returns the module; ``module(x).feature_maps[0]`` is (B, hidden_sizes[-1], ~H/s, ~W/s).
    """
    _, bit, _, BitConfig = transformers_modules()
    stages = len(config["depths"])
    cfg = BitConfig(num_channels=num_channels, layer_type="bottleneck", global_padding=None,
                    out_features=[f"stage{stages}"], **config)
    return bit.BitBackbone(cfg)


def copy_expanding(dst: torch.nn.Module, src_state: dict[str, torch.Tensor]) -> list[str]:
    """Copy the tensors of `src_state` whose names `dst` has, in place; a first convolution
    with more input channels gets the source's (RGB) filters and zeros for the rest.

    Returns the names copied. Raises AdapterError on any other shape mismatch, or when no
    name matched.
    """
    own = dst.state_dict()
    copied = []
    for name, value in src_state.items():
        if name not in own:
            continue
        target = own[name]
        if target.shape == value.shape:
            target.copy_(value)
        elif (target.ndim == 4 and value.ndim == 4 and target.shape[0] == value.shape[0]
              and target.shape[2:] == value.shape[2:] and target.shape[1] > value.shape[1]):
            target.zero_()
            target[:, :value.shape[1]].copy_(value)
        else:
            raise AdapterError(f"pretrained tensor {name} has shape {tuple(value.shape)}, "
                               f"the model expects {tuple(target.shape)}: the weights are "
                               "another variant's")
        copied.append(name)
    if not copied:
        raise AdapterError("no pretrained tensor matched the backbone: wrong folder?")
    return copied


def load_pretrained_segformer(encoder, name_or_path: str) -> list[str]:
    """Load ImageNet-pretrained MiT weights into `encoder` (a SegformerModel) in place.

    name_or_path: a local ``save_pretrained`` folder, or a hub name (e.g. "nvidia/mit-b0")
    when online. Returns the tensor names copied.
    """
    seg, _, _, _ = transformers_modules()
    src = seg.SegformerModel.from_pretrained(name_or_path)
    with torch.no_grad():
        return copy_expanding(encoder, src.state_dict())


def resnet_modules():
    """(modeling_resnet, ResNetConfig): HuggingFace's plain (BatchNorm) ResNet.

    Raises:
        AdapterError: transformers is missing or broken, with the fix in the message.
    """
    res, res_cfg = _import_transformers("resnet.modeling_resnet",
                                        "resnet.configuration_resnet")
    return res, res_cfg.ResNetConfig


def build_resnet(output_stride: int = 16, **config: Any):
    """A randomly initialised ``ResNetModel`` (bottleneck, BatchNorm, 3 input channels) whose
    last stage is dilated to reach `output_stride` 16 (DeepLab's "atrous" ResNet).

    At output stride 16 every 3x3 convolution of stage 4 has stride 1; the first block keeps
    dilation 1, the later ones get dilation 2 (the DeepLab v3 convention), and the first
    block's shortcut has stride 1. Run it with :func:`resnet_stages`.

    Raises:
        ValueError: output_stride other than 16 or 32.
    """
    if output_stride not in (16, 32):
        raise ValueError(f"output_stride must be 16 or 32, got {output_stride}")
    res, ResNetConfig = resnet_modules()
    model = res.ResNetModel(ResNetConfig(layer_type="bottleneck", **config))
    if output_stride == 16:
        for i, block in enumerate(model.encoder.stages[-1].layers):
            conv3 = block.layer[1].convolution
            conv3.stride = (1, 1)
            d = 1 if i == 0 else 2
            conv3.dilation, conv3.padding = (d, d), (d, d)
            if i == 0 and not isinstance(block.shortcut, torch.nn.Identity):
                block.shortcut.convolution.stride = (1, 1)
    return model


def resnet_stages(backbone, x: torch.Tensor) -> list[torch.Tensor]:
    """The four stage outputs of a :func:`build_resnet` model.

    x: (B, 3, H, W) float. Returns [(B, C_i, h_i, w_i)] for i = 1..4 at strides 4, 8, 16 and
    16 (output stride 16; 32 for the last at output stride 32), ceil-rounded.
    """
    h = backbone.embedder(x)
    out = []
    for stage in backbone.encoder.stages:
        h = stage(h)
        out.append(h)
    return out


def load_pretrained_resnet(backbone, name_or_path: str) -> list[str]:
    """Load ImageNet-pretrained ResNet weights (e.g. "microsoft/resnet-101" or a local
    ``save_pretrained`` folder of a ResNetModel or ResNetForImageClassification) into
    `backbone` in place. Returns the tensor names copied.

    Raises:
        AdapterError: no tensor matched, or a shape differs (another variant).
    """
    res, _ = resnet_modules()
    src = res.ResNetModel.from_pretrained(name_or_path)
    with torch.no_grad():
        return copy_expanding(backbone, src.state_dict())

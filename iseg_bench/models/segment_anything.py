"""Segment Anything (SAM, Kirillov et al. 2023) and SAM 2 (Ravi et al. 2024) through
HuggingFace transformers' ``SamModel`` and ``Sam2Model``: their configurations by size, the
small random configuration ``toy`` for tests and demos, loading a local folder in
transformers' format (or a hub name when online) and the original SAM ``.pth`` files of
``facebookresearch/segment-anything`` (key names converted here; the ``segment-anything``
package is not needed). Specified in ``docs/models/sam.md``.

Sources: the sizes are those of the official builders (``segment_anything/build_sam.py``:
vit_b 768 wide, 12 blocks, 12 heads, global attention in blocks 2, 5, 8, 11; vit_l 1024, 24,
16, [5, 11, 17, 23]; vit_h 1280, 32, 16, [7, 15, 23, 31]; ``sam2/configs/sam2.1/*.yaml``:
Hiera tiny 96 wide, 1 head, stages [1, 2, 7, 2], global [5, 7, 9]; small [1, 2, 11, 2],
[7, 10, 13]; base_plus 112, 2 heads, [2, 3, 16, 3], [12, 16, 20]; large 144, 2 heads,
[2, 6, 36, 4], [23, 33, 43], windows [8, 4, 16, 8]). The original-to-transformers key names
follow the module names of both code bases (``SAM_KEY_RULES``).

Constants: ``TOY_SIZE`` 256 px input of the toy configurations; ``SAM2_HUB`` the hub names
of the SAM 2.1 checkpoints by size.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Any

import torch

from iseg_bench.errors import AdapterError
from iseg_bench.models.released import _check_keys, read_released

TOY_SIZE = 256

SAM_SIZES = {  # hidden size, blocks, heads, global-attention blocks
    "vit_b": (768, 12, 12, (2, 5, 8, 11)),
    "vit_l": (1024, 24, 16, (5, 11, 17, 23)),
    "vit_h": (1280, 32, 16, (7, 15, 23, 31)),
}
SAM2_SIZES = {  # width, heads, blocks per stage, global-attention blocks, windows
    "tiny": (96, 1, (1, 2, 7, 2), (5, 7, 9), (8, 4, 14, 7)),
    "small": (96, 1, (1, 2, 11, 2), (7, 10, 13), (8, 4, 14, 7)),
    "base_plus": (112, 2, (2, 3, 16, 3), (12, 16, 20), (8, 4, 14, 7)),
    "large": (144, 2, (2, 6, 36, 4), (23, 33, 43), (8, 4, 16, 8)),
}
SAM2_HUB = {size: f"facebook/sam2.1-hiera-{size.replace('_', '-')}" for size in SAM2_SIZES}

#: original SAM key -> transformers ``SamModel`` key, applied in order (regex, replacement).
SAM_KEY_RULES: tuple[tuple[str, str], ...] = (
    (r"^image_encoder\.", "vision_encoder."),
    (r"\.blocks\.", ".layers."),
    (r"\.patch_embed\.proj\.", ".patch_embed.projection."),
    (r"\.neck\.0\.", ".neck.conv1."), (r"\.neck\.1\.", ".neck.layer_norm1."),
    (r"\.neck\.2\.", ".neck.conv2."), (r"\.neck\.3\.", ".neck.layer_norm2."),
    (r"\.norm(\d|_final_attn)\.", r".layer_norm\1."),
    (r"^prompt_encoder\.pe_layer\.positional_encoding_gaussian_matrix$",
     "prompt_encoder.shared_embedding.positional_embedding"),
    (r"^prompt_encoder\.point_embeddings\.", "prompt_encoder.point_embed."),
    (r"\.mask_downscaling\.0\.", ".mask_embed.conv1."),
    (r"\.mask_downscaling\.1\.", ".mask_embed.layer_norm1."),
    (r"\.mask_downscaling\.3\.", ".mask_embed.conv2."),
    (r"\.mask_downscaling\.4\.", ".mask_embed.layer_norm2."),
    (r"\.mask_downscaling\.6\.", ".mask_embed.conv3."),
    (r"\.output_upscaling\.0\.", ".upscale_conv1."),
    (r"\.output_upscaling\.1\.", ".upscale_layer_norm."),
    (r"\.output_upscaling\.3\.", ".upscale_conv2."),
    # the three-layer MLP heads: first layer, middle layer, last layer
    (r"(output_hypernetworks_mlps\.\d+|iou_prediction_head)\.layers\.0\.", r"\1.proj_in."),
    (r"(output_hypernetworks_mlps\.\d+|iou_prediction_head)\.layers\.1\.", r"\1.layers.0."),
    (r"(output_hypernetworks_mlps\.\d+|iou_prediction_head)\.layers\.2\.", r"\1.proj_out."),
)
#: buffers of the original model that transformers keeps in its preprocessing instead
SAM_DROPPED_KEYS = ("pixel_mean", "pixel_std")
#: transformers' copy of the prompt encoder's random Fourier matrix (the same tensor)
SAM_SHARED_PE = ("prompt_encoder.shared_embedding.positional_embedding",
                 "shared_image_embedding.positional_embedding")


def sam_config(model_type: str) -> Any:
    """The ``SamConfig`` of SAM size `model_type` (vit_b, vit_l, vit_h) or of ``toy``: a
    256 px input, 32 channels, 2 encoder blocks (one global), 2 heads.

    Raises:
        AdapterError: an unknown `model_type`.
    """
    from transformers import SamConfig

    if model_type == "toy":
        return SamConfig(
            vision_config={"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
                           "image_size": TOY_SIZE, "global_attn_indexes": [1],
                           "window_size": 4, "output_channels": 32, "mlp_dim": 64,
                           "num_pos_feats": 16, "initializer_range": 0.02},
            prompt_encoder_config={"hidden_size": 32, "image_size": TOY_SIZE},
            mask_decoder_config={"hidden_size": 32, "mlp_dim": 64, "num_attention_heads": 2,
                                 "iou_head_hidden_dim": 32})
    if model_type not in SAM_SIZES:
        raise AdapterError(f"model sam: unknown model_type {model_type!r}; known: "
                           f"{', '.join([*SAM_SIZES, 'toy'])}")
    width, depth, heads, global_attn = SAM_SIZES[model_type]
    return SamConfig(vision_config={"hidden_size": width, "num_hidden_layers": depth,
                                    "num_attention_heads": heads,
                                    "global_attn_indexes": list(global_attn)})


def sam2_config(model_type: str) -> Any:
    """The ``Sam2Config`` of SAM 2 size `model_type` (tiny, small, base_plus, large) or of
    ``toy``: a 256 px input, Hiera 16 wide with stages [1, 1, 2, 1], 32 channels.

    Raises:
        AdapterError: an unknown `model_type`.
    """
    from transformers import Sam2Config

    if model_type == "toy":
        width, heads, blocks, global_attn, windows = 16, 1, (1, 1, 2, 1), (3,), (4, 4, 4, 2)
        size, hidden = TOY_SIZE, 32
        small = {"hidden_size": hidden, "image_size": size}
        decoder = {"hidden_size": hidden, "mlp_dim": 64, "num_attention_heads": 2,
                   "iou_head_hidden_dim": hidden}
    elif model_type in SAM2_SIZES:
        width, heads, blocks, global_attn, windows = SAM2_SIZES[model_type]
        size, hidden = 1024, 256
        small, decoder = {}, {}
    else:
        raise AdapterError(f"model sam2: unknown model_type {model_type!r}; known: "
                           f"{', '.join([*SAM2_SIZES, 'toy'])}")
    dims = [width * 2 ** i for i in range(4)]
    backbone = {"model_type": "sam2_hiera_det_model", "hidden_size": width,
                "image_size": [size, size], "blocks_per_stage": list(blocks),
                "embed_dim_per_stage": dims,
                "num_attention_heads_per_stage": [heads * 2 ** i for i in range(4)]
                if model_type != "toy" else [1, 1, 1, 1],
                "window_size_per_stage": list(windows),
                "global_attention_blocks": list(global_attn)}
    feats = [[size // 4 // 2 ** i] * 2 for i in range(3)]
    return Sam2Config(vision_config={"backbone_config": backbone,
                                     "backbone_channel_list": dims[::-1],
                                     "backbone_feature_sizes": feats,
                                     "fpn_hidden_size": hidden},
                      prompt_encoder_config=small, mask_decoder_config=decoder)


def sam_key(key: str) -> str:
    """The transformers ``SamModel`` name of an original SAM state-dict key."""
    for pattern, repl in SAM_KEY_RULES:
        key = re.sub(pattern, repl, key)
    return key


def convert_sam_state_dict(state: dict[str, torch.Tensor],
                           expected: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Original SAM state dict -> transformers ``SamModel`` names (``SAM_KEY_RULES``),
    ``pixel_mean``/``pixel_std`` dropped and the Fourier matrix copied to both of
    transformers' places. `expected`: the target model's state dict (names and shapes).

    Raises:
        AdapterError: listing every missing key, unexpected key and shape mismatch.
    """
    out = {sam_key(k): v for k, v in state.items() if k not in SAM_DROPPED_KEYS}
    if SAM_SHARED_PE[0] in out:
        out[SAM_SHARED_PE[1]] = out[SAM_SHARED_PE[0]]
    missing = sorted(set(expected) - set(out))
    unexpected = sorted(set(out) - set(expected))
    bad = sorted(f"{k} {tuple(v.shape)} != {tuple(expected[k].shape)}" for k, v in out.items()
                 if k in expected and v.shape != expected[k].shape)
    _check_keys("SAM", missing, unexpected, bad, "shape mismatch")
    return out


def load_sam_family(family: str, model_type: str, checkpoint: str | None, random_init: bool,
                    seed: int, device: torch.device) -> tuple[Any, str]:
    """(``SamModel`` or ``Sam2Model`` in eval mode on `device`, where its weights came from).

    Args:
        family: "sam" or "sam2".
        model_type: the size (``sam_config`` / ``sam2_config``), used for a .pth file and for
            random weights.
        checkpoint: a folder in transformers' format (config.json + model.safetensors), an
            original SAM ``.pth`` file (family "sam"), or a hub name (downloaded by
            transformers when online); None with `random_init`.
        random_init: random weights of `model_type` drawn with `seed` (smoke runs only).

    Raises:
        AdapterError: no checkpoint and no random_init, an unreadable checkpoint, a .pth for
            SAM 2, or a .pth whose keys do not fit `model_type`.
    """
    from transformers import Sam2Model, SamModel

    model_cls, build = (SamModel, sam_config) if family == "sam" else (Sam2Model, sam2_config)
    if checkpoint is None:
        if not random_init:
            hint = ("a SAM .pth file or " if family == "sam" else "") + "a folder in " \
                   "transformers' format or a hub name"
            raise AdapterError(f"model {family}: no weights; pass --checkpoint ({hint}), or "
                               "--random-init --model-opt model_type=toy for a smoke run")
        config = build(model_type)
        warnings.warn(f"{family}: random weights (--random-init); predictions are meaningless",
                      stacklevel=4)
        torch.manual_seed(seed)
        return model_cls(config).to(device).eval(), "random-init"
    if checkpoint.endswith((".pth", ".pt")):
        if family != "sam":
            raise AdapterError(f"{checkpoint}: original SAM 2 files are not read; convert it "
                               "to transformers' format (a folder) or pass a hub name")
        model = model_cls(build(model_type))
        state, _ = read_released(checkpoint)
        model.load_state_dict(convert_sam_state_dict(state, model.state_dict()))
        return model.to(device).eval(), checkpoint
    local = Path(checkpoint).exists()
    try:
        model = model_cls.from_pretrained(checkpoint, local_files_only=local)
    except (OSError, ValueError) as exc:
        raise AdapterError(f"model {family}: cannot load {checkpoint!r} (a folder with "
                           f"config.json + model.safetensors, or a hub name when online): "
                           f"{str(exc).splitlines()[0]}") from exc
    return model.to(device).eval(), checkpoint

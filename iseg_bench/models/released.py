"""Loading the authors' released checkpoints safely (EMC-Click, ``docs/models/emc-click.md``;
the 99% network, ``docs/models/acc99net.md``), mapping their keys onto our modules, and
converting them to our checkpoint format.

A released file is a torch pickle: either RITM-style ``{'config': {'class': ..., 'params':
...}, 'state_dict': {...}}`` or a plain state dict. It is read with
``torch.load(weights_only=True)`` (no code runs; only the globals of torch's weights-only
unpickler plus ``ALLOWED_GLOBALS`` are accepted). Key names follow the authors' code
(github feiaxyt/EMC-Click, isegm/model/is_refine_segformer_model.py,
modeling/segformer/mix_transformer.py, segformer_head.py, is_refine_model.py; the HRNet
files (hr18s/hr18/hr32): is_refine_model.py HRNetRefineModel, modeling/hrnet_ocr.py, whose
names our ``models/hrnet.py`` keeps under ``base.``); the ImageNet MiT files the SegFormer
configs start from (``mit_b0.pth``, ``mit_b3.pth`` of github NVlabs/SegFormer: the released
backbone's names without ``feature_extractor.backbone.``) by ``load_mit_imagenet``. The 99%
network's file (MarcoForte/DeepInteractiveSegmentation, networks/models.py: a plain state
dict loaded with strict=True) carries our names unchanged (keys ``encoder.*``,
``decoder.*``).

The ImageNet-pretrained HRNet files the authors' HRNet configs start from
(``hrnet_w18_small_model_v2.pth``, ``hrnetv2_w18_imagenet_pretrained.pth``,
``hrnetv2_w32_imagenet_pretrained.pth`` of github HRNet/HRNet-Image-Classification, key
names of its lib/models/cls_hrnet.py, which the released hrnet_ocr.py keeps) are read the
same safe way by ``load_hrnet_imagenet``.

Constants: ``ALLOWED_GLOBALS`` (empty: configs are plain dicts, strings and numbers),
``IMAGENET_HEAD_PREFIXES`` (the ImageNet classification head, not loaded),
``RELEASED_FILES`` (in ``models.release_files``), ``IGNORED_KEYS`` (released parameters their
forward pass never uses), ``EVAL_PRESET`` (the authors' evaluation settings).
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from iseg_bench.errors import AdapterError
from iseg_bench.models.emc_click import EMCClick, EMCClickConfig
from iseg_bench.models.hrnet import HRNET_SPECS
from iseg_bench.models.release_files import RELEASED_FILES

ALLOWED_GLOBALS: tuple[Any, ...] = ()
# norm_add: built by the released MiT but only used with side_feature_early_fusion=True,
# which the released models leave False.
IGNORED_KEYS = ("feature_extractor.backbone.norm_add.weight",
                "feature_extractor.backbone.norm_add.bias")
# The released correction network registers one block under three names.
SHARED_ALIASES = ("refiner.corr_conv_pos.", "refiner.corr_conv_neg.")
# scripts/evaluate_model.py + inference/predictors/clickatt.py of the released code.
EVAL_PRESET: dict[str, Any] = {"short_side": 384, "short_side_davis": 576, "flip": True,
                               "prob_threshold": 0.5, "zoom_in": False}

#: cls_hrnet.py's classification head (incre_modules, downsamp_modules, final_layer,
#: classifier): present in the ImageNet files, no counterpart in the segmentation network
IMAGENET_HEAD_PREFIXES = ("incre_modules.", "downsamp_modules.", "final_layer.", "classifier.")
# our HighResolutionNet's segmentation heads, which an ImageNet file does not hold
_SEGMENTATION_HEADS = ("conv3x3_ocr.", "ocr_distri_head.", "cls_head.", "aux_head.")

_BACKBONE = "feature_extractor.backbone."
_BLOCK_RULES = [("norm1.", "layernorm_before."), ("norm2.", "layernorm_after."),
                ("attn.q.", "attention.q_proj."), ("attn.proj.", "attention.o_proj."),
                ("attn.sr.", "attention.sequence_reduction.sequence_reduction."),
                ("attn.norm.", "attention.sequence_reduction.layer_norm."),
                ("mlp.", "mlp.")]


def read_released(path: str | os.PathLike) -> tuple[dict[str, torch.Tensor], dict | None]:
    """(state dict, RITM config or None) of a released file, read with weights_only=True.

    Raises:
        AdapterError: missing file, a pickle needing globals outside the allow-list (the
            message names them), or content that is not a state dict.
    """
    p = Path(path)
    if not p.is_file():
        raise AdapterError(f"released checkpoint {p} does not exist")
    try:
        with torch.serialization.safe_globals(list(ALLOWED_GLOBALS)):
            obj = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 -- UnpicklingError, RuntimeError, EOFError ...
        raise AdapterError(f"{p} cannot be read safely as a torch checkpoint (weights_only; "
                           f"arbitrary code is never run): {exc}") from exc
    config = None
    if isinstance(obj, dict) and "state_dict" in obj:
        config, obj = obj.get("config"), obj["state_dict"]
    if not isinstance(obj, dict) or not obj or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items()):
        raise AdapterError(f"{p} holds no state dict (a dict of name -> tensor)")
    return obj, config if isinstance(config, dict) else None


def _param(config: dict | None, name: str) -> Any:
    if not config:
        return None
    entry = config.get("params", {}).get(name)
    return entry.get("value") if isinstance(entry, dict) else entry


def _hrnet_variant(state: dict[str, torch.Tensor], config: dict | None) -> str:
    """hr18s / hr18 / hr32 of a released HRNet file: from the RITM config's width, ocr_width
    and small when present, else from the state dict (stride-4 branch width, OCR key
    channels, and whether layer1 has 2 (small) or 4 bottlenecks).

    Raises:
        AdapterError: a combination that is none of the released ones.
    """
    width, ocr, small = (_param(config, k) for k in ("width", "ocr_width", "small"))
    fx = "feature_extractor."
    if width is None:
        w = state.get(fx + "transition1.0.0.weight")
        width = None if w is None else int(w.shape[0])
    if ocr is None:
        w = state.get(fx + "ocr_distri_head.object_context_block.f_down.0.weight")
        ocr = None if w is None else int(w.shape[0])
    if small is None:
        small = not any(k.startswith(fx + "layer1.2.") for k in state)
    for name, spec in HRNET_SPECS.items():
        if (spec.width, spec.ocr_width, spec.small) == (width, ocr, bool(small)):
            return name
    raise AdapterError(f"unknown EMC-Click HRNet layout width={width}, ocr_width={ocr}, "
                       f"small={small} (released: hr18s 18/48/small, hr18 18/64, hr32 32/128)")


def infer_config(state: dict[str, torch.Tensor], config: dict | None = None) -> EMCClickConfig:
    """The EMCClickConfig of a released model, from its RITM config when present, else from
    the state dict (HRNet: see _hrnet_variant; SegFormer: stage-1 width 32 -> b0, 64 -> b3).

    Raises:
        AdapterError: an unknown layout.
    """
    cls = str((config or {}).get("class", ""))
    if "HRNet" in cls or any(k.startswith("feature_extractor.conv1.") for k in state):
        cfg = EMCClickConfig.variant(_hrnet_variant(state, config))
        return _refiner_overrides(cfg, config)
    version = _param(config, "model_version")
    if version is None:
        w = state.get(_BACKBONE + "patch_embed1.proj.weight")
        if w is None:
            raise AdapterError("not an EMC-Click SegFormer checkpoint: no "
                               f"{_BACKBONE}patch_embed1.proj.weight")
        version = {32: "b0", 64: "b3"}.get(int(w.shape[0]))
    if version not in ("b0", "b3"):
        raise AdapterError(f"unknown EMC-Click SegFormer version {version!r} (known: b0, b3)")
    return _refiner_overrides(EMCClickConfig.variant(version), config)


def _refiner_overrides(cfg: EMCClickConfig, config: dict | None) -> EMCClickConfig:
    """C and K from the RITM config's refiner_conf (mid_dims, corr_channel) when given."""
    conf = _param(config, "refiner_conf") or {}
    if "mid_dims" in conf:
        cfg.channels = int(conf["mid_dims"])
    if "corr_channel" in conf and int(conf["corr_channel"]) != cfg.channels:
        cfg.num_templates = int(conf["corr_channel"])
    return cfg


def _map_key(key: str) -> str | None:
    """Our name for one released key (the kv split is handled by the caller); None when
    the key has no counterpart."""
    if key.startswith("refiner."):
        return "correction." + key[len("refiner."):]
    if key.startswith(("feature_extractor.", "maps_transform.")) and not key.startswith(
            ("feature_extractor.backbone.", "feature_extractor.decode_head.")):
        return "base." + key  # HRNet variants: the released names under base.
    if key.startswith("feature_extractor.decode_head."):
        rest = key[len("feature_extractor.decode_head."):].replace("linear_fuse.bn.",
                                                                  "linear_fuse.norm.")
        return "base.decode_head." + rest
    if not key.startswith(_BACKBONE):
        return None
    rest = key[len(_BACKBONE):]
    m = re.fullmatch(r"patch_embed_side1\.(proj|norm)\.(\w+)", rest)
    if m:
        return f"base.side_embed.{'proj' if m[1] == 'proj' else 'layer_norm'}.{m[2]}"
    m = re.fullmatch(r"patch_embed(\d)\.(proj|norm)\.(\w+)", rest)
    if m:
        part = "proj" if m[2] == "proj" else "layer_norm"
        return f"base.encoder.stages.{int(m[1]) - 1}.patch_embeddings.{part}.{m[3]}"
    m = re.fullmatch(r"norm(\d)\.(\w+)", rest)
    if m:
        return f"base.encoder.stages.{int(m[1]) - 1}.layer_norm.{m[2]}"
    m = re.fullmatch(r"block(\d)\.(\d+)\.(.+)", rest)
    if m:
        for old, new in _BLOCK_RULES:
            if m[3].startswith(old):
                return (f"base.encoder.stages.{int(m[1]) - 1}.blocks.{m[2]}."
                        + new + m[3][len(old):])
    return None


def _check_keys(model: str, missing: list[str], unexpected: list[str], bad: list[str],
                bad_label: str) -> None:
    """Raise AdapterError listing every missing, unexpected and mismatched key, if any."""
    if missing or unexpected or bad:
        raise AdapterError(f"the file is not the released {model} it claims to be: "
                           f"missing {missing or 'none'}; unexpected {unexpected or 'none'}; "
                           f"{bad_label} {bad or 'none'}")


def map_state_dict(state: dict[str, torch.Tensor],
                   expected: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Released state dict -> ours. `expected`: our model's state dict (names and shapes).

    The fused MiT ``attn.kv`` (2C, C) splits into k_proj (first C rows) and v_proj; the
    correction network's aliases of its shared phi_s block must equal it; IGNORED_KEYS are
    dropped.

    Raises:
        AdapterError: listing every missing key (ours, with no released source), unexpected
            key (released, with no place here) and shape mismatch.
    """
    out: dict[str, torch.Tensor] = {}
    unexpected, bad = [], []
    for key, value in state.items():
        if key in IGNORED_KEYS:
            continue
        alias = next((a for a in SHARED_ALIASES if key.startswith(a)), None)
        if alias is not None:
            twin = state.get("refiner.corr_conv." + key[len(alias):])
            if twin is None or not torch.equal(twin, value):
                bad.append(f"{key} differs from the shared refiner.corr_conv block")
            continue
        m = re.fullmatch(r"(.*)\.attn\.kv\.(\w+)", key)
        if m and key.startswith(_BACKBONE):
            base = _map_key(m[1] + ".attn.q." + m[2])
            assert base is not None
            half = value.shape[0] // 2
            pairs = [(base.replace("q_proj", "k_proj"), value[:half]),
                     (base.replace("q_proj", "v_proj"), value[half:])]
        else:
            ours = _map_key(key)
            pairs = [] if ours is None else [(ours, value)]
        if not pairs:
            unexpected.append(key)
        for ours, v in pairs:
            if ours not in expected:
                unexpected.append(key)
            elif tuple(expected[ours].shape) != tuple(v.shape):
                bad.append(f"{key}: {tuple(v.shape)}, expected {tuple(expected[ours].shape)}")
            else:
                out[ours] = v
    missing = sorted(set(expected) - set(out))
    _check_keys("EMC-Click model", missing, sorted(set(unexpected)), bad, "shape/consistency")
    return out


def _load_emc_click(state: dict[str, torch.Tensor],
                    config: dict | None) -> tuple[torch.nn.Module, str, dict[str, Any]]:
    """(EMCClick with the released weights, variant, evaluation preset)."""
    cfg = infer_config(state, config)
    model = EMCClick(cfg)
    model.load_state_dict(map_state_dict(state, model.state_dict()), strict=True)
    if cfg.hrnet:
        variant = "emc-click-" + next(n for n, s in HRNET_SPECS.items()
                                      if asdict(s) == cfg.hrnet)
    else:
        variant = "emc-click" if cfg.encoder["hidden_sizes"][0] == 32 else "emc-click-b3"
    return model, variant, dict(EVAL_PRESET)


def _load_acc99net(state: dict[str, torch.Tensor]) -> tuple[torch.nn.Module, str, dict[str, Any]]:
    """(Acc99Net with the released weights, "acc99net", evaluation preset): the release's
    names are ours, so every name and shape must match exactly.

    Raises:
        AdapterError: listing every missing, unexpected and wrongly shaped key.
    """
    from iseg_bench.models.acc99net import Acc99Net

    model = Acc99Net()
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    bad = [f"{k}: {tuple(v.shape)}, expected {tuple(expected[k].shape)}"
           for k, v in state.items() if k in expected and v.shape != expected[k].shape]
    _check_keys("99% network", missing, unexpected, bad, "shape")
    model.load_state_dict(state, strict=True)
    return model, "acc99net", {"preset": "released"}


def load_released(path: str | os.PathLike) -> tuple[torch.nn.Module, dict[str, Any]]:
    """(model in eval mode with the released weights, description dict: variant, source file
    name, its sha256, the authors' evaluation preset). The model is told apart by its keys:
    ``feature_extractor.*`` EMC-Click, ``encoder.*``/``decoder.*`` the 99% network.

    Raises:
        AdapterError: unsafe/unreadable file, unsupported model, any key mismatch, or a file
            under one of the authors' names (``RELEASED_FILES``) holding another model.
    """
    state, config = read_released(path)
    if any(k.startswith("feature_extractor.") for k in state):
        model, variant, preset = _load_emc_click(state, config)
    elif all(k.startswith(("encoder.", "decoder.")) for k in state):
        model, variant, preset = _load_acc99net(state)
    else:
        raise AdapterError(f"{path} is neither a released EMC-Click model (feature_extractor.*) "
                           "nor the released 99% network (encoder.*, decoder.*)")
    claimed = RELEASED_FILES.get(Path(path).name, variant)
    if claimed != variant:
        raise AdapterError(f"{Path(path).name} is the authors' name for "
                           f"{claimed or 'an HRNet model'}, but the file holds {variant}")
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    return model.eval(), {"variant": variant, "source": Path(path).name, "sha256": digest,
                          "eval_preset": preset}


def convert(path: str | os.PathLike, out_dir: str | os.PathLike) -> Path:
    """Convert a released file (EMC-Click or the 99% network) into
    ``out_dir/model.safetensors`` + ``model.json`` (models/checkpoint.py format; meta holds
    the source name, its sha256 and the authors' evaluation preset).

    Returns the weights path. Raises AdapterError as load_released.
    """
    from iseg_bench.models.checkpoint import save_checkpoint

    model, info = load_released(path)
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    return save_checkpoint(model, Path(out_dir), variant=info["variant"],
                           meta={k: info[k] for k in ("source", "sha256", "eval_preset")})


def load_hrnet_imagenet(net: torch.nn.Module, path: str | os.PathLike) -> list[str]:
    """Load an ImageNet-pretrained HRNet file into `net` (our ``models.hrnet``
    HighResolutionNet, in place): stem, layer1, transitions and stages 2-4.

    The file (a plain state dict, or one under ``state_dict``) is read with
    ``torch.load(weights_only=True)``; a leading ``model.`` is stripped from its keys (the
    released hrnet_ocr.py load_pretrained_weights does the same); the classification head
    (``IMAGENET_HEAD_PREFIXES``) is skipped; the OCR, class and auxiliary heads keep their
    values. Every other key must match one of ours with the same shape, and every one of
    our backbone tensors must be in the file (BatchNorm ``num_batches_tracked`` counters
    excepted: older files lack them).

    Returns:
        Our tensor names that were loaded, sorted.

    Raises:
        AdapterError: unsafe/unreadable file, or listing every missing, unexpected and
            wrongly shaped key (another width, or not an HRNet file).
    """
    state, _ = read_released(path)
    state = {k[len("model."):] if k.startswith("model.") else k: v for k, v in state.items()}
    expected = {k: v for k, v in net.state_dict().items() if not k.startswith(_SEGMENTATION_HEADS)}
    missing = sorted(k for k in expected
                     if k not in state and not k.endswith("num_batches_tracked"))
    unexpected = sorted(k for k in state
                        if k not in expected and not k.startswith(IMAGENET_HEAD_PREFIXES))
    bad = [f"{k}: {tuple(v.shape)}, expected {tuple(expected[k].shape)}"
           for k, v in state.items() if k in expected and v.shape != expected[k].shape]
    _check_keys(f"HRNet ImageNet backbone for this width ({Path(path).name})", missing,
                unexpected, bad, "shape")
    loaded = sorted(k for k in expected if k in state)
    with torch.no_grad():
        for k in loaded:
            expected[k].copy_(state[k])
    return loaded


def load_mit_imagenet(model: EMCClick, path: str | os.PathLike) -> list[str]:
    """Load an ImageNet-pretrained MiT file (``mit_b0.pth`` / ``mit_b3.pth``: a plain state
    dict in the released backbone's names, plus the ImageNet classifier ``head.*``, which is
    skipped) into `model`'s MiT encoder, in place; read with weights_only=True and mapped
    as the released checkpoints are (``map_state_dict``). The click patch embedding, the
    decoder and the correction network keep their values.

    Returns:
        Our tensor names that were loaded, sorted.

    Raises:
        AdapterError: unsafe/unreadable file, or listing every missing, unexpected and
            wrongly shaped key (another MiT size, or not a MiT file).
    """
    state, _ = read_released(path)
    state = {_BACKBONE + k: v for k, v in state.items() if not k.startswith("head.")}
    expected = {k: v for k, v in model.state_dict().items() if k.startswith("base.encoder.")}
    mapped = map_state_dict(state, expected)
    with torch.no_grad():
        for k, v in mapped.items():
            expected[k].copy_(v)
    return sorted(mapped)

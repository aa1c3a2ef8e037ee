"""Named model variants and ``build_model`` (``docs/models/torch-models.md``).

Constants: ``VARIANTS``, ``TINY_MIT`` (the tiny EMC-Click encoder), ``TINY_HRNET`` (the
tiny EMC-Click HRNet, ``emc-click-hr-tiny``), ``TINY_ACC99`` (the tiny 99%-network widths),
``TINY_BIT_C4`` (the tiny ifis trunk) and ``TINY_RESNET`` (the tiny SIIS backbone);
``scribbleseg-tiny`` is a 64 x 64 ScribbleSeg for tests (``docs/models/scribbleseg.md``).
"""

from __future__ import annotations

from typing import Any

from iseg_bench.errors import AdapterError

TINY_MIT = dict(hidden_sizes=[8, 16, 24, 32], depths=[1, 1, 1, 1], num_attention_heads=[1, 1, 2, 2],
                sr_ratios=[8, 4, 2, 1], mlp_ratios=[2, 2, 2, 2], decoder_hidden_size=32)
TINY_HRNET = dict(width=4, ocr_width=8, small=True)
TINY_BIT_C4 = dict(hidden_sizes=[16, 32, 64], depths=[1, 1, 1], embedding_size=8, num_groups=4)
TINY_RESNET = dict(hidden_sizes=[16, 32, 64, 128], depths=[1, 1, 1, 1], embedding_size=8)
TINY_ACC99 = dict(stem_channels=16, planes=(8, 16, 16, 32), depths=(1, 1, 1, 1), gn_groups=4,
                  interaction_channels=(8, 16, 16, 32, 32, 32), ppm_channels=16,
                  decoder_channels=(32, 32, 16, 16, 8), guide_channels=8)

VARIANTS = ("emc-click", "emc-click-b3", "emc-click-tiny", "emc-click-hr18s", "emc-click-hr18",
            "emc-click-hr32", "emc-click-hr-tiny", "acc99net", "acc99net-tiny", "ifis",
            "ifis-tiny", "scribbleseg", "scribbleseg-b3", "scribbleseg-tiny", "siis",
            "siis-tiny")
MODEL_TYPES = ("emc-click", "acc99net", "ifis", "scribbleseg", "siis")


def variant_config(name: str):
    """(model_type, config dataclass) of a named variant."""
    from iseg_bench.models.acc99net import Acc99NetConfig
    from iseg_bench.models.emc_click import EMCClickConfig
    from iseg_bench.models.ifis import IFISConfig
    from iseg_bench.models.scribbleseg import ScribbleSegConfig
    from iseg_bench.models.siis import SIISConfig

    if name == "ifis":
        return "ifis", IFISConfig()
    if name == "ifis-tiny":
        return "ifis", IFISConfig(backbone=dict(TINY_BIT_C4), feature_channels=16,
                                  head_channels=16, head_convs=4)
    if name in ("scribbleseg", "scribbleseg-b3"):
        return "scribbleseg", ScribbleSegConfig.variant("b3" if name.endswith("b3") else "b0")
    if name == "scribbleseg-tiny":
        return "scribbleseg", ScribbleSegConfig(encoder=dict(TINY_MIT), input_size=64,
                                                pam_hidden=32, crm_channels=8, decoder_groups=4)
    if name == "siis":
        return "siis", SIISConfig()
    if name == "siis-tiny":
        return "siis", SIISConfig(backbone=dict(TINY_RESNET), purified_channels=(4, 8, 8, 16),
                                  encoder_channels=(4, 8, 8, 16), aspp_channels=8,
                                  aspp_rates=(1, 2, 3), decoder_channels=8)
    if name == "emc-click":
        return "emc-click", EMCClickConfig.variant("b0")
    if name == "emc-click-b3":
        return "emc-click", EMCClickConfig.variant("b3")
    if name in ("emc-click-hr18s", "emc-click-hr18", "emc-click-hr32"):
        return "emc-click", EMCClickConfig.variant(name[len("emc-click-"):])
    if name == "emc-click-hr-tiny":
        return "emc-click", EMCClickConfig(channels=16, hrnet=dict(TINY_HRNET))
    if name == "emc-click-tiny":
        return "emc-click", EMCClickConfig(encoder=dict(TINY_MIT), channels=16, decoder_channels=32)
    if name == "acc99net":
        return "acc99net", Acc99NetConfig()
    if name == "acc99net-tiny":
        return "acc99net", Acc99NetConfig(**TINY_ACC99)
    raise AdapterError(f"unknown model variant {name!r}; known: {', '.join(VARIANTS)}")


def model_class(model_type: str):
    """The nn.Module class for a model type (one of ``MODEL_TYPES``)."""
    if model_type == "emc-click":
        from iseg_bench.models.emc_click import EMCClick
        return EMCClick
    if model_type == "acc99net":
        from iseg_bench.models.acc99net import Acc99Net
        return Acc99Net
    if model_type == "ifis":
        from iseg_bench.models.ifis import IFIS
        return IFIS
    if model_type == "scribbleseg":
        from iseg_bench.models.scribbleseg import ScribbleSeg
        return ScribbleSeg
    if model_type == "siis":
        from iseg_bench.models.siis import SIIS
        return SIIS
    raise AdapterError(f"unknown model type {model_type!r}; known: {', '.join(MODEL_TYPES)}")


def config_from_dict(model_type: str, d: dict[str, Any]):
    """Rebuild a config dataclass from its JSON dict."""
    if model_type == "scribbleseg":
        from iseg_bench.models.scribbleseg import ScribbleSegConfig
        return ScribbleSegConfig.from_dict(d)
    if model_type == "emc-click":
        from iseg_bench.models.emc_click import EMCClickConfig
        return EMCClickConfig.from_dict(d)
    if model_type == "acc99net":
        from iseg_bench.models.acc99net import Acc99NetConfig
        return Acc99NetConfig.from_dict(d)
    if model_type == "ifis":
        from iseg_bench.models.ifis import IFISConfig
        return IFISConfig.from_dict(d)
    if model_type == "siis":
        from iseg_bench.models.siis import SIISConfig
        return SIISConfig.from_dict(d)
    raise AdapterError(f"unknown model type {model_type!r}")


def build_model(name: str, seed: int | None = 0, **overrides: Any):
    """A randomly initialised model of variant `name` (seeded), config fields overridable.

    Returns (model, variant name)."""
    import dataclasses

    import torch

    model_type, cfg = variant_config(name)
    if overrides:
        cfg = dataclasses.replace(cfg, **overrides)
    if seed is not None:
        torch.manual_seed(seed)
    return model_class(model_type)(cfg)

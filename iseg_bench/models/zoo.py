"""Named model variants and ``build_model`` (``docs/models/torch-models.md``).

Constants: ``VARIANTS``, ``TINY_MIT``, ``TINY_BIT`` and ``TINY_RESNET`` (the tiny test
variants' encoders).
"""

from __future__ import annotations

from typing import Any

from iseg_bench.errors import AdapterError

TINY_MIT = dict(hidden_sizes=[8, 16, 24, 32], depths=[1, 1, 1, 1], num_attention_heads=[1, 1, 2, 2],
                sr_ratios=[8, 4, 2, 1], mlp_ratios=[2, 2, 2, 2], decoder_hidden_size=32)
TINY_BIT = dict(hidden_sizes=[16, 32, 64, 128], depths=[1, 1, 1, 1], embedding_size=8, num_groups=4)
TINY_RESNET = dict(hidden_sizes=[16, 32, 64, 128], depths=[1, 1, 1, 1], embedding_size=8)

VARIANTS = ("emc-click", "emc-click-b3", "emc-click-tiny", "acc99net", "acc99net-tiny", "siis",
            "siis-tiny")


def variant_config(name: str):
    """(model_type, config dataclass) of a named variant."""
    from iseg_bench.models.acc99net import Acc99NetConfig
    from iseg_bench.models.emc_click import EMCClickConfig
    from iseg_bench.models.siis import SIISConfig

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
    if name == "emc-click-tiny":
        return "emc-click", EMCClickConfig(encoder=dict(TINY_MIT), channels=16, decoder_groups=4)
    if name == "acc99net":
        return "acc99net", Acc99NetConfig()
    if name == "acc99net-tiny":
        return "acc99net", Acc99NetConfig(backbone=dict(TINY_BIT),
                                          interaction_channels=(8, 16, 16, 16, 16, 16),
                                          ppm_channels=8,
                                          decoder_channels=(32, 32, 32, 16, 16, 8),
                                          gn_groups=4)
    raise AdapterError(f"unknown model variant {name!r}; known: {', '.join(VARIANTS)}")


def model_class(model_type: str):
    """The nn.Module class for a model type ('emc-click', 'acc99net' or 'siis')."""
    if model_type == "emc-click":
        from iseg_bench.models.emc_click import EMCClick
        return EMCClick
    if model_type == "acc99net":
        from iseg_bench.models.acc99net import Acc99Net
        return Acc99Net
    if model_type == "siis":
        from iseg_bench.models.siis import SIIS
        return SIIS
    raise AdapterError(f"unknown model type {model_type!r}; known: emc-click, acc99net, siis")


def config_from_dict(model_type: str, d: dict[str, Any]):
    """Rebuild a config dataclass from its JSON dict."""
    if model_type == "emc-click":
        from iseg_bench.models.emc_click import EMCClickConfig
        return EMCClickConfig.from_dict(d)
    if model_type == "acc99net":
        from iseg_bench.models.acc99net import Acc99NetConfig
        return Acc99NetConfig.from_dict(d)
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

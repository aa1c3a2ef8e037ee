"""Protocol registry: names -> "module:Class", imported on use."""

from __future__ import annotations

import importlib

from iseg_bench.config import RunConfig

PROTOCOLS: dict[str, str] = {
    "single-object": "iseg_bench.protocols.single_object:SingleObjectProtocol",
    "full-image": "iseg_bench.protocols.full_image:FullImageProtocol",
    "sequential": "iseg_bench.protocols.sequential:SequentialProtocol",
}


def build_protocol(config: RunConfig):
    """The protocol object for ``config.protocol``; raises ValueError listing known names."""
    if config.protocol not in PROTOCOLS:
        raise ValueError(f"unknown protocol {config.protocol!r}; known: "
                         f"{', '.join(sorted(PROTOCOLS))}")
    module, _, attr = PROTOCOLS[config.protocol].partition(":")
    return getattr(importlib.import_module(module), attr)(config)

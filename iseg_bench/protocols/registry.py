"""Protocol registry: names -> "module:Class", imported on use."""

from __future__ import annotations

from iseg_bench.config import RunConfig
from iseg_bench.imports import load_object

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
    return load_object(PROTOCOLS[config.protocol])(config)

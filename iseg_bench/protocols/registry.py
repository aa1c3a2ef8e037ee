"""Protocol registry: names -> "module:Class", imported on use."""

from __future__ import annotations

from iseg_bench.config import RunConfig
from iseg_bench.imports import load_object

PROTOCOLS: dict[str, str] = {
    "single-object": "iseg_bench.protocols.single_object:SingleObjectProtocol",
    "full-image": "iseg_bench.protocols.full_image:FullImageProtocol",
    "sequential": "iseg_bench.protocols.sequential:SequentialProtocol",
}


def protocol_class(name: str):
    """The protocol class registered as `name`; raises ValueError listing known names."""
    if name not in PROTOCOLS:
        raise ValueError(f"unknown protocol {name!r}; known: {', '.join(sorted(PROTOCOLS))}")
    return load_object(PROTOCOLS[name])


def build_protocol(config: RunConfig):
    """The protocol object for ``config.protocol``; raises ValueError listing known names."""
    return protocol_class(config.protocol)(config)

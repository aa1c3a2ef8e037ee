"""Protocol registry: names -> "module:Class", imported on use."""

from __future__ import annotations

from typing import Any

from iseg_bench.config import RunConfig
from iseg_bench.registry import Registry

PROTOCOLS = Registry("protocol", {
    "single-object": "iseg_bench.protocols.single_object:SingleObjectProtocol",
    "full-image": "iseg_bench.protocols.full_image:FullImageProtocol",
    "sequential": "iseg_bench.protocols.sequential:SequentialProtocol",
})


def protocol_class(name: str) -> Any:
    """The protocol class registered as `name`; raises UnknownNameError listing known names."""
    return PROTOCOLS.resolve(name)


def build_protocol(config: RunConfig) -> Any:
    """The protocol object for ``config.protocol``; raises UnknownNameError for an unknown name."""
    return protocol_class(config.protocol)(config)

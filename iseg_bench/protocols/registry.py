"""Protocol registry: names -> "module:Class", imported on use."""

from __future__ import annotations

from iseg_bench.config import RunConfig
from iseg_bench.protocols.base import Protocol
from iseg_bench.registry import Registry

PROTOCOLS = Registry("protocol", {
    "single-object": "iseg_bench.protocols.single_object:SingleObjectProtocol",
    "full-image": "iseg_bench.protocols.full_image:FullImageProtocol",
    "sequential": "iseg_bench.protocols.sequential:SequentialProtocol",
})


def protocol_class(name: str) -> type[Protocol]:
    """The protocol class registered as `name`.

    Raises:
        UnknownNameError: `name` is not registered (the message lists the known names).
    """
    cls: type[Protocol] = PROTOCOLS.resolve(name)
    return cls


def build_protocol(config: RunConfig) -> Protocol:
    """The protocol object for ``config.protocol``.

    Raises:
        UnknownNameError: an unknown protocol name.
        UsageError: an unknown or invalid protocol option.
    """
    return protocol_class(config.protocol)(config)

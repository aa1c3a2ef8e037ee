"""Robot registry: names -> "module:Class" (imported on use); built with keyword options."""

from __future__ import annotations

from typing import Any

from iseg_bench.registry import Registry

ROBOTS = Registry("robot", {
    "clicker": "iseg_bench.robots.clicker:CenterOfErrorClicker",
    "dios-clicker": "iseg_bench.robots.clicker:LargestRegionCenterClicker",
    "scribbler": "iseg_bench.robots.scribbler:MedialAxisScribbler",
})


def build_robot(name: str, **options: Any) -> Any:
    """Build robot `name` with keyword `options`; raises UnknownNameError for an unknown name."""
    return ROBOTS.resolve(name)(**options)

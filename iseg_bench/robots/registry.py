"""Robot registry: names -> "module:Class" (imported on use); built with keyword options."""

from __future__ import annotations

from typing import Any

from iseg_bench.imports import load_object

ROBOTS: dict[str, str] = {
    "clicker": "iseg_bench.robots.clicker:CenterOfErrorClicker",
    "dios-clicker": "iseg_bench.robots.clicker:LargestRegionCenterClicker",
    "scribbler": "iseg_bench.robots.scribbler:MedialAxisScribbler",
}


def build_robot(name: str, **options: Any):
    """Build robot `name`; raises ValueError listing the known names."""
    if name not in ROBOTS:
        raise ValueError(f"unknown robot {name!r}; known: {', '.join(sorted(ROBOTS))}")
    return load_object(ROBOTS[name])(**options)

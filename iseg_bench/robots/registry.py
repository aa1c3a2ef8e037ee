"""Robot registry: names -> "module:Class" (imported on use); built with keyword options."""

from __future__ import annotations

import importlib
from typing import Any

ROBOTS: dict[str, str] = {
    "clicker": "iseg_bench.robots.clicker:CenterOfErrorClicker",
    "dios-clicker": "iseg_bench.robots.clicker:LargestRegionCenterClicker",
    "scribbler": "iseg_bench.robots.scribbler:MedialAxisScribbler",
}


def build_robot(name: str, **options: Any):
    """Build robot `name`; raises ValueError listing the known names."""
    if name not in ROBOTS:
        raise ValueError(f"unknown robot {name!r}; known: {', '.join(sorted(ROBOTS))}")
    module, _, attr = ROBOTS[name].partition(":")
    return getattr(importlib.import_module(module), attr)(**options)

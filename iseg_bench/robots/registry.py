"""Robot registry: names -> "module:Class" (imported on use), built from checked options."""

from __future__ import annotations

from typing import Any

from iseg_bench.registry import Registry
from iseg_bench.robots.base import Robot

ROBOTS = Registry("robot", {
    "clicker": "iseg_bench.robots.clicker:CenterOfErrorClicker",
    "dios-clicker": "iseg_bench.robots.clicker:LargestRegionCenterClicker",
    "scribbler": "iseg_bench.robots.scribbler:MedialAxisScribbler",
    "acc99-clicker": "iseg_bench.robots.acc99_clicker:Acc99Clicker",
    "box": "iseg_bench.robots.box:BoxRobot",
    "box+clicks": "iseg_bench.robots.box:BoxClicksRobot",
    "replay": "iseg_bench.robots.replay:ReplayRobot",
})


def build_robot(name: str, **options: Any) -> Robot:
    """Robot `name` built with `options`, checked and converted by its ``options_class``.

    Raises:
        UnknownNameError: an unknown robot name.
        UsageError: an unknown option or a bad value (the message names the robot).
    """
    robot: Robot = ROBOTS.resolve(name)(**options)
    return robot

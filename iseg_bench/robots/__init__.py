"""Simulated users (robots): their policies, built on ``iseg_bench.geometry``."""

from iseg_bench.robots.base import NoOptions, Robot
from iseg_bench.robots.registry import ROBOTS, build_robot

__all__ = ["NoOptions", "ROBOTS", "Robot", "build_robot"]

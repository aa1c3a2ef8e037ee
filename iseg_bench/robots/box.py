"""Box robots: ``box`` (one bounding box of the target, optionally jittered) and
``box+clicks`` (that box, then the reference clicker's corrective clicks).

Source: the box prompt of Segment Anything (Kirillov et al. 2023, Sec. 3, "Promptable
segmentation task") and SAM 2 (Ravi et al. 2024), whose interactive evaluations start from a
box or from clicks. The tight box, the seeded jitter and the clicks after the box are
specified in ``docs/robots/box.md``; the jitter's distribution is our choice (the papers do
not define a box robot for evaluation).

Constants: jitter 0 px (the tight box) and seed 0 by default.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from iseg_bench.errors import SampleError, UsageError
from iseg_bench.options import option
from iseg_bench.robots.base import Robot
from iseg_bench.robots.clicker import CenterOfErrorClicker
from iseg_bench.types import Box, Interaction


@dataclass(frozen=True)
class BoxOptions:
    """Options of the box robots; a negative jitter raises UsageError."""

    jitter: int = option(0, "largest shift in px of each box side, drawn uniformly from "
                            "-jitter..jitter per side (0: the tight box)")
    seed: int = option(0, "seed of the jitter (combined with a checksum of the target)")

    def __post_init__(self) -> None:
        if self.jitter < 0:
            raise UsageError(f"robot box: jitter must be >= 0 px, got {self.jitter}")


def tight_box(target: np.ndarray, ignore: np.ndarray) -> Box:
    """The smallest Box holding every target pixel outside `ignore` (ends included).

    Args:
        target, ignore: (H, W) bool.

    Raises:
        SampleError: no target pixel outside the ignore mask.
    """
    ys, xs = np.nonzero(target & ~ignore)
    if len(ys) == 0:
        raise SampleError("the box robot needs a target pixel outside the ignore mask")
    return Box(int(ys.min()), int(xs.min()), int(ys.max()), int(xs.max()))


def jittered_box(box: Box, shape: tuple[int, int], jitter: int,
                 rng: np.random.Generator) -> Box:
    """`box` with each side moved by an integer drawn uniformly from -jitter..jitter (in the
    order y0, x0, y1, x1), clipped to the image; sides that cross are swapped.

    Args:
        shape: (H, W) of the image; jitter: px >= 0; rng: the source of the shifts.
    """
    d = rng.integers(-jitter, jitter + 1, size=4)
    h, w = shape
    y0, y1 = sorted((int(np.clip(box.y0 + d[0], 0, h - 1)), int(np.clip(box.y1 + d[2], 0, h - 1))))
    x0, x1 = sorted((int(np.clip(box.x0 + d[1], 0, w - 1)), int(np.clip(box.x1 + d[3], 0, w - 1))))
    return Box(y0, x0, y1, x1)


class BoxRobot(Robot):
    """One bounding box of the target (``docs/robots/box.md``): the tight box of the target
    outside the ignore mask, each side shifted by the seeded jitter. The jitter's generator
    is seeded with (``seed``, CRC-32 of the target's packed bits), so a sample's box does not
    depend on the order of the samples. Every later step repeats the same box.

    Returns ``Box(y0, x0, y1, x1)`` with int pixel coordinates.
    """

    name = "box"
    kind = "box"
    options_class = BoxOptions

    def box(self, target: np.ndarray, ignore: np.ndarray) -> Box:
        """The robot's box for this target (the same on every call)."""
        box = tight_box(target, ignore)
        if self.options.jitter == 0:
            return box
        checksum = zlib.crc32(np.packbits(target.astype(bool)).tobytes())
        rng = np.random.default_rng([self.options.seed, checksum])
        return jittered_box(box, target.shape, self.options.jitter, rng)

    def next_interaction(self, target: np.ndarray, ignore: np.ndarray, pred: np.ndarray,
                         history: Sequence[Interaction]) -> Interaction:
        return self.box(target, ignore)


class BoxClicksRobot(BoxRobot):
    """``box+clicks``: the box of :class:`BoxRobot` first, then at every later step the
    reference center-of-error clicker's click on the current prediction
    (``docs/robots/clicker.md``). Options as ``box``."""

    name = "box+clicks"
    kinds = frozenset({"box", "click"})

    def next_interaction(self, target: np.ndarray, ignore: np.ndarray, pred: np.ndarray,
                         history: Sequence[Interaction]) -> Interaction:
        if not history:
            return self.box(target, ignore)
        return CenterOfErrorClicker().next_interaction(target, ignore, pred, history)

"""A fault-injection test adapter: a fast deterministic toy model that misbehaves on chosen
samples (issue 6, "A fault-injection test adapter (raises, NaN, wrong shape, sleeps) drives
whole runs").

The toy model: the probability map starts at 0 and every interaction, oldest first, paints
its pixels -- a disk of ``radius`` px around a click, the stroke pixels of a scribble, the
four points of extreme points -- with 1.0 (positive) or 0.0 (negative). It is cheap and
deterministic, so it also serves the runner's determinism and resume tests.

Which sample misbehaves is chosen from the image alone, so the choice is the same in every
process, in any order and after a resume: u = crc32(image bytes) / 2**32 is a uniform number
in [0, 1) per sample, and ``faults="raise:0.2,nan:0.1"`` gives "raise" to the samples with
u in [0, 0.2), "nan" to those in [0.2, 0.3), and no fault to the rest (fractions are laid
end to end in the order given). ``fault_for(image)`` tells which fault a sample gets.

Faults (triggered at interaction ``at`` of the sample, 1-based; never when the sample has
fewer interactions):

=========  ===================================================================
raise      raises RuntimeError("injected fault")
nan        returns a map containing NaN
inf        returns a map containing +inf
shape      returns a map of shape (H + 1, W)
dtype      returns a uint8 map
range      returns values in [0, 2]
none       returns None instead of an array
sleep      sleeps ``sleep_seconds`` (default 3600) before answering
exit       the process exits at once (``os._exit(3)``), as a crash would; with
           ``once_dir`` set it does so only the first time for a sample (a marker
           file in that folder remembers), so a retry succeeds
=========  ===================================================================

``delay`` (seconds, default 0) is slept on every prediction, to slow a run down for
interruption tests.
"""

from __future__ import annotations

import os
import time
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from iseg_bench.adapters.base import Adapter
from iseg_bench.masks import disk
from iseg_bench.types import Click, Interaction

FAULTS = ("raise", "nan", "inf", "shape", "dtype", "range", "none", "sleep", "exit")


def parse_faults(spec: str | dict | None) -> list[tuple[str, float]]:
    """"kind:fraction,..." (or a dict) -> [(kind, fraction)]; raises ValueError on an unknown
    kind, a fraction outside [0, 1] or fractions summing above 1."""
    if not spec:
        return []
    items = (spec.items() if isinstance(spec, dict)
             else (part.split(":", 1) if ":" in part else (part, "1")
                   for part in str(spec).split(",") if part.strip()))
    out = []
    for kind, frac in items:
        kind, frac = str(kind).strip(), float(frac)
        if kind not in FAULTS:
            raise ValueError(f"unknown fault {kind!r}; known: {', '.join(FAULTS)}")
        if not 0.0 <= frac <= 1.0:
            raise ValueError(f"fault fraction must be in [0, 1], got {frac} for {kind!r}")
        out.append((kind, frac))
    if sum(f for _, f in out) > 1.0 + 1e-9:
        raise ValueError(f"fault fractions sum to more than 1: {spec!r}")
    return out


def sample_key(image: np.ndarray) -> int:
    """crc32 of the image bytes: a per-sample number, the same in every process."""
    return zlib.crc32(np.ascontiguousarray(image).tobytes())


class FaultyAdapter(Adapter):
    """Toy model with injected faults (see the module docstring).

    Args:
        faults: "kind:fraction,..." (e.g. "raise:0.2,nan:0.1") or {kind: fraction}.
        at: interaction (1-based) at which the fault fires.
        radius: click disk radius in px of the toy model.
        delay: seconds slept on every prediction.
        sleep_seconds: how long the "sleep" fault sleeps.
        once_dir: folder of marker files making the "exit" fault fire once per sample.

    Raises:
        ValueError: on a bad `faults` spec or `at` < 1.
    """

    name = "faulty"
    accepts = frozenset({"click", "scribble", "extreme_points"})

    def __init__(self, faults: str | dict | None = None, at: int = 1, radius: float = 12.0,
                 delay: float = 0.0, sleep_seconds: float = 3600.0,
                 once_dir: str | None = None):
        self.faults = parse_faults(faults)
        if int(at) < 1:
            raise ValueError(f"at must be >= 1, got {at}")
        self.at = int(at)
        self.radius = float(radius)
        self.delay = float(delay)
        self.sleep_seconds = float(sleep_seconds)
        self.once_dir = once_dir
        self._shape: tuple[int, int] | None = None
        self._key = 0
        self._fault: str | None = None

    def fault_for(self, image: np.ndarray) -> str | None:
        """The fault sample `image` gets, or None."""
        u = sample_key(image) / 2.0 ** 32
        lo = 0.0
        for kind, frac in self.faults:
            if lo <= u < lo + frac:
                return kind
            lo += frac
        return None

    def set_image(self, image: np.ndarray) -> None:
        self._shape = tuple(image.shape[:2])
        self._key = sample_key(image)
        self._fault = self.fault_for(image)

    def _toy(self, interactions: Sequence[Interaction]) -> np.ndarray:
        prob = np.zeros(self._shape, np.float32)
        for inter in interactions:
            if isinstance(inter, Click):
                area = disk(self._shape, inter.y, inter.x, self.radius)
            else:
                px = inter.pixels(self._shape)
                area = np.zeros(self._shape, bool)
                area[px[:, 0], px[:, 1]] = True
            prob[area] = 1.0 if inter.is_positive else 0.0
        return prob

    def predict(self, interactions: Sequence[Interaction], prev_prob: np.ndarray):
        if self.delay:
            time.sleep(self.delay)
        prob = self._toy(interactions)
        if self._fault is None or len(interactions) != self.at:
            return prob
        return self._misbehave(prob)

    def _misbehave(self, prob: np.ndarray):
        fault = self._fault
        if fault == "raise":
            raise RuntimeError("injected fault")
        if fault in ("nan", "inf"):
            prob[0, 0] = np.nan if fault == "nan" else np.inf
            return prob
        if fault == "shape":
            return np.zeros((prob.shape[0] + 1, prob.shape[1]), np.float32)
        if fault == "dtype":
            return prob.astype(np.uint8)
        if fault == "range":
            return prob * 2.0
        if fault == "none":
            return None
        if fault == "sleep":
            time.sleep(self.sleep_seconds)
            return prob
        if fault == "exit":
            if self.once_dir is not None:
                marker = Path(self.once_dir) / f"exit-{self._key:08x}"
                if marker.exists():
                    return prob
                marker.parent.mkdir(parents=True, exist_ok=True)
                marker.touch()
            os._exit(3)
        return prob

    def describe(self) -> dict:
        return {"name": self.name, "faults": self.faults, "at": self.at, "radius": self.radius}

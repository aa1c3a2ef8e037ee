"""``faulty``: a fast deterministic toy model that misbehaves on chosen samples, to drive
whole runs through failures, crashes and timeouts in tests. The toy model, the per-sample
fault choice and every fault: ``docs/models/baselines.md``.

Constants: ``FAULTS``, the fault kinds; ``GATE_POLL_SECONDS`` (0.02), how often a
prediction waiting for its ``wait_for`` file looks.
"""

from __future__ import annotations

import os
import signal
import sys
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from iseg_bench.adapters.base import Adapter, parse_model_options
from iseg_bench.geometry import interaction_pixels
from iseg_bench.masks import disk
from iseg_bench.options import option
from iseg_bench.types import Click, Interaction

#: how often a prediction waiting for the `wait_for` file looks for it
GATE_POLL_SECONDS = 0.02
FAULTS = ("raise", "nan", "inf", "shape", "dtype", "range", "none", "sleep", "exit",
          "sys_exit", "segv")


def parse_faults(spec: str | dict[str, Any] | None) -> list[tuple[str, float]]:
    """"kind:fraction,..." (or a dict) -> [(kind, fraction)]; a kind without a fraction
    gets 1. Raises ValueError on an unknown kind, a fraction outside [0, 1] or fractions
    summing above 1."""
    if not spec:
        return []
    items: Any = (spec.items() if isinstance(spec, dict)
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


@dataclass(frozen=True)
class FaultyOptions:
    """Options of ``faulty``."""

    faults: str | dict[str, Any] = option(
        "", '"kind:fraction,..." (e.g. "raise:0.2,nan:0.1", "none" is a fault kind) or '
            '{kind: fraction}; empty: no fault')
    at: int = option(1, "interaction (1-based) at which the fault fires")
    radius: float = option(12.0, "click disk radius in px of the toy model")
    delay: float = option(0.0, "seconds slept on every prediction")
    sleep_seconds: float = option(3600.0, 'how long the "sleep" fault sleeps')
    once_dir: str | None = option(None, 'folder of marker files making the "exit" fault '
                                        'fire once per sample')
    wait_for: str | None = option(None, "a file path: every prediction waits until this file "
                                        "exists (holds a run at a known point in tests)")


class FaultyAdapter(Adapter):
    """Toy model with injected faults; options: ``FaultyOptions``.

    Raises:
        UsageError: an unknown option or a value of the wrong type.
        ValueError: a bad `faults` spec or `at` < 1.
    """

    name = "faulty"
    accepts = frozenset({"click", "scribble", "extreme_points"})
    options_class = FaultyOptions

    def __init__(self, **options: Any):
        opts: FaultyOptions = parse_model_options(self.options_class, options, self.name)
        self.faults = parse_faults(opts.faults)
        if opts.at < 1:
            raise ValueError(f"at must be >= 1, got {opts.at}")
        self.at = opts.at
        self.radius = opts.radius
        self.delay = opts.delay
        self.sleep_seconds = opts.sleep_seconds
        self.once_dir = opts.once_dir
        self.wait_for = opts.wait_for
        self._shape: tuple[int, int] = (0, 0)
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
        self._shape = (int(image.shape[0]), int(image.shape[1]))
        self._key = sample_key(image)
        self._fault = self.fault_for(image)

    def _toy(self, interactions: Sequence[Interaction]) -> np.ndarray:
        prob = np.zeros(self._shape, np.float32)
        for inter in interactions:
            if isinstance(inter, Click):
                area = disk(self._shape, inter.y, inter.x, self.radius)
            else:
                px = interaction_pixels(inter, self._shape)
                area = np.zeros(self._shape, bool)
                area[px[:, 0], px[:, 1]] = True
            prob[area] = 1.0 if inter.is_positive else 0.0
        return prob

    def predict(self, interactions: Sequence[Interaction], prev_prob: np.ndarray) -> Any:
        if self.delay:
            time.sleep(self.delay)
        while self.wait_for is not None and not Path(self.wait_for).exists():
            time.sleep(GATE_POLL_SECONDS)
        prob = self._toy(interactions)
        if self._fault is None or len(interactions) != self.at:
            return prob
        return self._misbehave(prob)

    def _misbehave(self, prob: np.ndarray) -> Any:
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
        if fault == "sys_exit":
            sys.exit(0)
        if fault == "segv":
            os.kill(os.getpid(), signal.SIGSEGV)
        return prob

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "faults": self.faults, "at": self.at, "radius": self.radius}

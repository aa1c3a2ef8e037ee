"""The single-object adapter interface (how a model sees the session loop), its optional
hooks and the check of a model's output. Specified in ``docs/adapters.md``.

Constants: ``OPTIONAL_HOOKS``, the hook names the loop looks for.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from iseg_bench.errors import SampleError
from iseg_bench.options import parse_options
from iseg_bench.types import Interaction

OPTIONAL_HOOKS = ("propose_click", "learn", "predict_batch", "set_category")


@dataclass(frozen=True)
class NoOptions:
    """The option set of a model that takes no option."""


def parse_model_options(options_class: type[Any], options: Mapping[str, Any],
                        name: str) -> Any:
    """The `options_class` instance of a model's keyword options.

    Args:
        options_class: the model's option dataclass (its factory's ``options_class``).
        options: key -> value (``--model-opt`` strings or typed values).
        name: the model's registry name, for messages.

    Raises:
        UsageError: an unknown key (the message names the model and lists the allowed
            keys), a value of the wrong type or one the option class rejects.
    """
    return parse_options(options_class, options, f"model {name}")


class Adapter(ABC):
    """Base class for single-object model adapters.

    Class attributes:
        name: registry name.
        accepts: interaction kinds understood, a subset of {"click", "scribble", "box",
            "extreme_points"}.
        options_class: the dataclass of the keyword options the adapter is built with.
    """

    name: ClassVar[str] = "adapter"
    accepts: ClassVar[frozenset[str]] = frozenset({"click"})
    options_class: ClassVar[type[Any]] = NoOptions

    @abstractmethod
    def set_image(self, image: np.ndarray) -> None:
        """Start a new sample. image: (H, W, 3) uint8 RGB."""

    @abstractmethod
    def predict(self, interactions: Sequence[Interaction], prev_prob: np.ndarray) -> np.ndarray:
        """Return the foreground probability map after the given interactions.

        Args:
            interactions: the whole history of this sample, oldest first (>= 1 item).
            prev_prob: (H, W) float32 in [0, 1], the previous output (zeros before the first).

        Returns:
            (H, W) float32 in [0, 1]. The loop validates shape, dtype and range and records a
            failure for the sample when they are wrong.
        """

    def describe(self) -> dict[str, Any]:
        """Settings that identify this adapter in a run's configuration (JSON-serialisable)."""
        return {"name": self.name}


@dataclass(frozen=True)
class BatchItem:
    """One sample's part of a ``predict_batch`` call (``docs/adapters.md``).

    Attributes:
        key: the sample's key, unique among the samples in flight; an adapter may keep
            per-sample state (e.g. cached image features) under it and may drop the state
            of a key that is absent from a call (that sample has finished).
        image: (H, W, 3) uint8 RGB.
        interactions: the sample's whole history, oldest first (>= 1 item).
        prev_prob: (H, W) float32 in [0, 1], the sample's previous output.
    """

    key: Hashable
    image: np.ndarray
    interactions: Sequence[Interaction]
    prev_prob: np.ndarray


def has_hook(adapter: object, hook: str) -> bool:
    """True when `adapter` offers the optional hook `hook` (one of OPTIONAL_HOOKS)."""
    if hook not in OPTIONAL_HOOKS:
        raise ValueError(f"unknown hook {hook!r}; known: {OPTIONAL_HOOKS}")
    return callable(getattr(adapter, hook, None))


def validate_probability(prob: Any, shape: tuple[int, int]) -> np.ndarray:
    """Check a model output: (H, W) floating array, finite, within [0, 1].

    Returns it as float32. Raises SampleError saying what is wrong.
    """
    if not isinstance(prob, np.ndarray):
        raise SampleError(f"model returned {type(prob).__name__}, expected a numpy array")
    if prob.shape != shape:
        raise SampleError(f"model returned shape {prob.shape}, expected {shape}")
    if not np.issubdtype(prob.dtype, np.floating):
        raise SampleError(f"model returned dtype {prob.dtype}, expected float32 probabilities")
    lo, hi = float(prob.min()), float(prob.max())   # NaN and inf propagate into these
    if not (np.isfinite(lo) and np.isfinite(hi)):
        raise SampleError("model returned NaN or inf probabilities")
    if lo < 0.0 or hi > 1.0:
        raise SampleError(f"model returned values in [{lo:.4g}, {hi:.4g}], expected [0, 1]")
    return prob.astype(np.float32, copy=False)

"""The one session loop of every protocol: robot -> timed model call -> validate -> score ->
record, and the single-object step that the single-object and sequential protocols share.

Source: the evaluation loop of the field's reference code (RITM, repository
``SamsungLabs/ritm_interactive_segmentation``, ``isegm/inference/evaluation.py``,
``evaluate_sample``); the exact loop is in ``docs/protocols/single-object.md``.

Per-sample state is a plain object (:class:`ObjectState`, or the full-image ``ImageState``)
that :func:`step` advances one model call at a time, so a batched loop can advance many
samples in lockstep.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

import numpy as np

from iseg_bench.adapters.base import validate_probability
from iseg_bench.errors import SampleError
from iseg_bench.geometry import interaction_pixels
from iseg_bench.masks import iou
from iseg_bench.robots.corrective import corrective_accuracy
from iseg_bench.types import Click, Interaction, Sample

T = TypeVar("T")
P = TypeVar("P")


class SessionState(Protocol):
    """What the loop needs of a per-sample state: the interaction history, oldest first."""

    history: list[Interaction]


S = TypeVar("S", bound=SessionState)


def timed(call: Callable[[], T]) -> tuple[T, float]:
    """(``call()``, its wall-clock duration in seconds by ``time.perf_counter``)."""
    t0 = time.perf_counter()
    out = call()
    return out, time.perf_counter() - t0


class Session(ABC, Generic[S, P]):
    """How one protocol advances one sample's state `S` by one model call.

    `P` is the validated prediction. :func:`step` calls, in this order: :meth:`interact`
    (the robot, on the state before the step), the model through :meth:`predict` (timed),
    :meth:`validate` (outside the timing) and :meth:`score` (records the step's rows and
    moves the state on). The steps are separate methods so that a batched loop can call
    :meth:`interact` on many states, make one batched model call, then :meth:`validate` and
    :meth:`score` each state.
    """

    @abstractmethod
    def interact(self, state: S) -> list[Interaction]:
        """The robot's interactions of this step (before they join ``state.history``)."""

    @abstractmethod
    def predict(self, state: S) -> Any:
        """The model's raw output for ``state.history`` (the history includes this step)."""

    @abstractmethod
    def validate(self, state: S, raw: Any) -> P:
        """The checked prediction of `raw`. Raises SampleError when it is malformed."""

    @abstractmethod
    def score(self, state: S, new: Sequence[Interaction], pred: P, seconds: float) -> float:
        """Score `pred`, append this step's record rows to the state and move it on.

        Returns the figure compared with ``stop_at_iou`` by :func:`run`."""


def step(session: Session[S, P], state: S,
         interactions: Sequence[Interaction] | None = None) -> float:
    """Advance `state` by one model call; returns the step's score.

    Args:
        interactions: given interactions to apply instead of asking the robot (an accepted
            proposal of the sequential protocol), or None.
    """
    new = session.interact(state) if interactions is None else list(interactions)
    state.history.extend(new)
    raw, seconds = timed(lambda: session.predict(state))
    return session.score(state, new, session.validate(state, raw), seconds)


def run(session: Session[S, P], state: S, steps: int, stop_at: float | None = None) -> None:
    """Up to `steps` robot steps; stops after the first whose score is >= `stop_at`."""
    for _ in range(steps):
        score = step(session, state)
        if stop_at is not None and score >= stop_at:
            break


@dataclass
class ObjectState:
    """The evolving state of one single-object session.

    Attributes:
        sample: the sample.
        target: (H, W) bool object mask.
        prob: (H, W) float32 previous probability map (zeros before the first step).
        pred: (H, W) bool current prediction (all False before the first step).
        history: interactions so far, oldest first.
        records: one record row per step.
    """

    sample: Sample
    target: np.ndarray
    prob: np.ndarray
    pred: np.ndarray
    history: list[Interaction] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def start(cls, sample: Sample) -> ObjectState:
        """The state before the first interaction.

        Raises:
            SampleError: the target is empty outside the ignore mask.
        """
        target = sample.target.astype(bool)
        if not (target & ~sample.ignore).any():
            raise SampleError(f"sample {sample.sample_id}: empty target outside the ignore mask")
        return cls(sample, target, np.zeros(sample.shape, np.float32),
                   np.zeros(sample.shape, bool))


def interaction_row(inter: Interaction, shape: tuple[int, int]) -> dict[str, Any]:
    """Record columns describing an interaction: kind, is_positive, pixels (int count) and
    y, x for a click or points (list of [y, x]) and thickness (px) for a stroke."""
    row: dict[str, Any] = {"kind": inter.kind, "is_positive": bool(inter.is_positive)}
    if isinstance(inter, Click):
        row.update(y=int(inter.y), x=int(inter.x), pixels=1)
    else:
        d = inter.to_json()
        row.update(points=d["points"], thickness=d.get("thickness"),
                   pixels=int(len(interaction_pixels(inter, shape))))
    return row


@dataclass
class ObjectSession(Session[ObjectState, tuple[np.ndarray, np.ndarray]]):
    """One robot driving one single-object model; the prediction is ``prob >
    prob_threshold`` (strictly) and each step is scored by IoU and corrective accuracy.

    Attributes:
        adapter: the model (``predict(history, prev_prob)``).
        robot: the robot (``next_interaction(target, ignore, pred, history)``).
        prob_threshold: foreground threshold on the probability (0.49 in a RunConfig).
    """

    adapter: Any
    robot: Any
    prob_threshold: float

    def interact(self, state: ObjectState) -> list[Interaction]:
        s = state.sample
        return [self.robot.next_interaction(state.target, s.ignore, state.pred, state.history)]

    def predict(self, state: ObjectState) -> Any:
        return self.adapter.predict(list(state.history), state.prob)

    def validate(self, state: ObjectState, raw: Any) -> tuple[np.ndarray, np.ndarray]:
        prob = validate_probability(raw, state.sample.shape)
        return prob, prob > self.prob_threshold

    def score(self, state: ObjectState, new: Sequence[Interaction],
              pred: tuple[np.ndarray, np.ndarray], seconds: float) -> float:
        (inter,) = new
        prob, mask = pred
        s = state.sample
        value = iou(state.target, mask, s.ignore)
        state.records.append({
            "sample_id": s.sample_id, "interaction": len(state.history),
            **interaction_row(inter, s.shape), "iou": value,
            "corrective_accuracy": corrective_accuracy(state.target, s.ignore, state.pred,
                                                       mask, inter),
            "model_seconds": seconds})
        state.prob, state.pred = prob, mask
        return value

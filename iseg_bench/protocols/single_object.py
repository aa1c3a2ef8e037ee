"""Single-object protocol: one robot drives one model on one object per sample (the click
protocol of the literature); ``docs/protocols/single-object.md``.

Source: Xu et al. 2016 "Deep Interactive Object Selection" (the click protocol); the
reference loop of RITM (``SamsungLabs/ritm_interactive_segmentation``,
``isegm/inference/evaluation.py``, ``evaluate_sample``): foreground is probability > 0.49.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Sequence
from typing import Any

import pandas as pd

from iseg_bench.adapters.base import BatchItem
from iseg_bench.protocols.base import Protocol, Unit, WorkerContext
from iseg_bench.protocols.figures import ENCODER_SECONDS
from iseg_bench.protocols.lockstep import run_lockstep
from iseg_bench.protocols.session import ObjectSession, ObjectState, run, timed
from iseg_bench.protocols.single_object_figures import (
    SingleObjectSummary,
    single_object_summary,
)
from iseg_bench.types import Interaction, Sample


def run_session(sample: Sample, ctx: WorkerContext) -> list[dict[str, Any]]:
    """Run one sample's whole session; its record rows, one per interaction, with the
    sample's ``category``, ``is_thing`` (None when unknown) and ``encoder_seconds`` (the
    timed ``set_image`` call, once per sample).

    Raises:
        SampleError: an empty target or an invalid model output.
    """
    cfg = ctx.config
    state = ObjectState.start(sample)
    ctx.robot.start_sample(sample)
    _, encoder = timed(lambda: ctx.adapter.set_image(sample.image))
    run(ObjectSession(ctx.adapter, ctx.robot, cfg.prob_threshold), state,
        cfg.max_interactions, cfg.stop_at_iou)
    return session_records(state, encoder)


def session_records(state: ObjectState, encoder: float | None) -> list[dict[str, Any]]:
    """A finished session's record rows with the sample's ``category``, ``is_thing`` and
    ``encoder_seconds`` (`encoder`: the timed ``set_image`` call; None in the lockstep loop,
    which does not call it)."""
    meta = state.sample.meta
    extra = {"category": meta.get("category"), "is_thing": meta.get("is_thing"),
             ENCODER_SECONDS: encoder}
    return [{**r, **extra} for r in state.records]


def _predict_batch(adapter: Any, batch: list[tuple[Hashable, ObjectState]]) -> list[Any]:
    """The adapter's ``predict_batch`` on the samples in flight."""
    out: list[Any] = adapter.predict_batch(
        [BatchItem(key, st.sample.image, list(st.history), st.prob) for key, st in batch])
    return out


def run_sessions_lockstep(units: Sequence[Unit], ctx: WorkerContext, batch_size: int
                          ) -> Iterator[tuple[Unit, list[dict[str, Any]] | BaseException]]:
    """The sessions of `units` (one sample each) in the lockstep loop
    (:func:`~iseg_bench.protocols.lockstep.run_lockstep`), `batch_size` at a time, through
    the adapter's ``predict_batch`` hook.

    Yields:
        (unit, its record rows as :func:`run_session` gives them) or (unit, the exception
        that failed it), in completion order.
    """
    cfg = ctx.config
    by_id = {u.unit_id: u for u in units}
    starts = [(u.unit_id, lambda i=u.indices[0]: ObjectState.start(ctx.dataset.load(i)))
              for u in units]
    session = _SharedRobotSession(ctx.adapter, ctx.robot, cfg.prob_threshold)
    for key, out in run_lockstep(session, lambda b: _predict_batch(ctx.adapter, b), starts,
                                 batch_size, cfg.max_interactions, cfg.stop_at_iou):
        yield by_id[str(key)], out if isinstance(out, BaseException) else session_records(out, None)


class _SharedRobotSession(ObjectSession):
    """The session of the lockstep loop, whose samples in flight share one robot: each
    robot call is preceded by ``start_sample`` of its sample (a robot that keeps per-sample
    state, such as the replay robot, follows the sample it is asked about)."""

    def interact(self, state: ObjectState) -> list[Interaction]:
        self.robot.start_sample(state.sample)
        return super().interact(state)


class SingleObjectProtocol(Protocol):
    """Clicks or scribbles on one object at a time; one unit per sample.

    Raises:
        UsageError: any protocol option is given (it takes none), at construction.
    """

    name = "single-object"

    def evaluate(self, unit: Unit, ctx: WorkerContext) -> list[dict[str, Any]]:
        (index,) = unit.indices
        return run_session(ctx.dataset.load(index), ctx)

    def evaluate_batch(self, units: Sequence[Unit], ctx: WorkerContext, batch_size: int
                       ) -> Iterator[tuple[Unit, list[dict[str, Any]] | BaseException]]:
        """:meth:`evaluate` of every unit in the lockstep loop (:func:`run_sessions_lockstep`)."""
        return run_sessions_lockstep(units, ctx, batch_size)

    def summarize(self, records: pd.DataFrame) -> SingleObjectSummary:
        cfg = self.config
        return single_object_summary(records, cfg.max_interactions, cfg.iou_thresholds,
                                     cfg.compat, cfg.stop_at_iou)

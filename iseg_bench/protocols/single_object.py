"""Single-object protocol: one robot drives one model on one object per sample (the click
protocol of the literature); ``docs/protocols/single-object.md``.

Source: Xu et al. 2016 "Deep Interactive Object Selection" (the click protocol); the
reference loop of RITM (``SamsungLabs/ritm_interactive_segmentation``,
``isegm/inference/evaluation.py``, ``evaluate_sample``): foreground is probability > 0.49.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from iseg_bench.protocols.base import Protocol, Unit, WorkerContext
from iseg_bench.protocols.figures import ENCODER_SECONDS
from iseg_bench.protocols.session import ObjectSession, ObjectState, run, timed
from iseg_bench.protocols.single_object_figures import (
    SingleObjectSummary,
    single_object_summary,
)
from iseg_bench.types import Sample


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
    meta = {"category": sample.meta.get("category"), "is_thing": sample.meta.get("is_thing"),
            ENCODER_SECONDS: encoder}
    return [{**r, **meta} for r in state.records]


class SingleObjectProtocol(Protocol):
    """Clicks or scribbles on one object at a time; one unit per sample.

    Raises:
        UsageError: any protocol option is given (it takes none), at construction.
    """

    name = "single-object"

    def evaluate(self, unit: Unit, ctx: WorkerContext) -> list[dict[str, Any]]:
        (index,) = unit.indices
        return run_session(ctx.dataset.load(index), ctx)

    def summarize(self, records: pd.DataFrame) -> SingleObjectSummary:
        cfg = self.config
        return single_object_summary(records, cfg.max_interactions, cfg.iou_thresholds,
                                     cfg.compat, cfg.stop_at_iou)

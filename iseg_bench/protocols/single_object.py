"""Single-object protocol: one robot drives one model on one object per sample.

The session loop (DESIGN.md): before the first interaction the prediction is all False and
the previous probability map all zeros; after each interaction the model returns a
probability map, the prediction is ``prob > prob_threshold`` (0.49, strictly, as in the
field's reference code, RITM ``evaluate_sample``), and the interaction is scored. Every
sample runs ``max_interactions`` interactions unless ``stop_at_iou`` is set.

Per-sample state lives in a plain :class:`SessionState` so that a later batched loop can
advance several samples in lockstep with one model call.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from iseg_bench import metrics
from iseg_bench.adapters.base import validate_probability
from iseg_bench.errors import SampleError
from iseg_bench.masks import iou
from iseg_bench.protocols.base import Protocol, Unit, WorkerContext
from iseg_bench.robots.corrective import corrective_accuracy
from iseg_bench.types import Interaction, Sample

SPLIT_NAMES = {True: "thing", False: "stuff"}


@dataclass
class SessionState:
    """The evolving state of one sample's session."""

    sample: Sample
    target: np.ndarray
    prob: np.ndarray
    pred: np.ndarray
    history: list[Interaction] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def start(cls, sample: Sample) -> SessionState:
        target = sample.target.astype(bool)
        if not (target & ~sample.ignore).any():
            raise SampleError(f"sample {sample.sample_id}: empty target outside the ignore mask")
        return cls(sample, target, np.zeros(sample.shape, np.float32),
                   np.zeros(sample.shape, bool))


def interaction_row(inter: Interaction, shape: tuple[int, int]) -> dict[str, Any]:
    """Record columns describing an interaction (click coordinates or stroke points)."""
    row: dict[str, Any] = {"kind": inter.kind, "is_positive": bool(inter.is_positive)}
    if inter.kind == "click":
        row.update(y=int(inter.y), x=int(inter.x), pixels=1)
    else:
        d = inter.to_json()
        row.update(points=d["points"], thickness=d.get("thickness"),
                   pixels=int(len(inter.pixels(shape))))
    return row


def step(state: SessionState, ctx: WorkerContext) -> float:
    """Advance one interaction: robot -> model -> score. Returns the new IoU."""
    cfg, s = ctx.config, state.sample
    inter = ctx.robot.next_interaction(state.target, s.ignore, state.pred, state.history)
    state.history.append(inter)
    t0 = time.perf_counter()
    raw = ctx.adapter.predict(list(state.history), state.prob)
    seconds = time.perf_counter() - t0
    prob = validate_probability(raw, s.shape)
    pred = prob > cfg.prob_threshold
    score = iou(state.target, pred, s.ignore)
    row = {"sample_id": s.sample_id, "interaction": len(state.history),
           **interaction_row(inter, s.shape), "iou": score,
           "corrective_accuracy": corrective_accuracy(state.target, s.ignore, state.pred,
                                                      pred, inter),
           "model_seconds": seconds}
    state.records.append(row)
    state.prob, state.pred = prob, pred
    return score


def run_session(sample: Sample, ctx: WorkerContext) -> list[dict[str, Any]]:
    """Run one sample's whole session and return its record rows (one per interaction)."""
    state = SessionState.start(sample)
    ctx.adapter.set_image(sample.image)
    cfg = ctx.config
    for _ in range(cfg.max_interactions):
        score = step(state, ctx)
        if cfg.stop_at_iou is not None and score >= cfg.stop_at_iou:
            break
    meta = {"category": sample.meta.get("category"), "is_thing": sample.meta.get("is_thing")}
    return [{**r, **meta} for r in state.records]


class SingleObjectProtocol(Protocol):
    """Clicks or scribbles on one object at a time (the click protocol of the literature)."""

    name = "single-object"

    def evaluate(self, unit: Unit, ctx: WorkerContext) -> list[dict[str, Any]]:
        (index,) = unit.indices
        return run_session(ctx.dataset.load(index), ctx)

    def summarize(self, records: pd.DataFrame) -> dict[str, Any]:
        summary = curve_figures(records, self.config)
        if "is_thing" in records and records["is_thing"].notna().any() \
                and records["is_thing"].nunique() > 1:
            summary["splits"] = {SPLIT_NAMES[bool(k)]: curve_figures(g, self.config)
                                 for k, g in records.groupby("is_thing")}
        return summary


        return single_object_plots(summary, out_dir)


def curve_figures(records: pd.DataFrame, cfg) -> dict[str, Any]:
    """NoC/NoF, mIoU@k, AuC, proportion-above, corrective accuracy and timing figures."""
    k = cfg.max_interactions
    groups = [g.sort_values("interaction") for _, g in records.groupby("sample_id", sort=False)]
    ious = metrics.fill_curves([g["iou"].to_numpy() for g in groups], k)
    secs = metrics.fill_curves([g["model_seconds"].to_numpy() for g in groups], k)
    if cfg.stop_at_iou is not None:  # stopped samples spend no more time
        for i, g in enumerate(groups):
            secs[i, len(g):] = 0.0
    out: dict[str, Any] = {"n_samples": len(groups), "max_interactions": k,
                           "interaction": records["kind"].iloc[0] if len(records) else None}
    nocs = {t: metrics.noc(ious, t, cfg.compat) for t in cfg.iou_thresholds}
    out["noc"] = {f"{t:.2f}": float(v.mean()) for t, v in nocs.items()}
    out["nof"] = {f"{t:.2f}": metrics.nof(ious, t, cfg.compat) for t in cfg.iou_thresholds}
    out["miou"] = metrics.miou_curve(ious).tolist()
    out["auc"] = metrics.auc(ious)
    out["proportion_above"] = {str(kk): {f"{t:.2f}": v for t, v in row.items()}
                               for kk, row in metrics.proportion_above(ious).items()}
    acc = records.groupby("interaction")["corrective_accuracy"]
    out["corrective_accuracy"] = [None if np.isnan(v) else float(v) for v in acc.mean()]
    out["corrective_accuracy_n"] = acc.count().astype(int).tolist()
    out["seconds_per_click"] = {"first": float(records.loc[records.interaction == 1,
                                                          "model_seconds"].mean()),
                                "later": float(records.loc[records.interaction > 1,
                                                          "model_seconds"].mean())
                                if (records.interaction > 1).any() else None}
    out["seconds_to_reach"] = {f"{t:.2f}": metrics.seconds_to_reach(secs, v)
                               for t, v in nocs.items()}
    return out

"""Figures of the single-object protocol: records -> :class:`ClickCurves` ->
:class:`SingleObjectSummary` (NoC/NoF, mIoU@k, AuC, proportion above, corrective accuracy,
timing; ``docs/figures.md``).

Sources: Xu et al. 2016 (NoC), RITM ``compute_noc_metric`` (NoC, NoF), Forte et al. 2020
"Getting to 99%" Sec. 4 (AuC, proportion above), EMC-Click (Du et al. 2023) Tab. 2 (time
to reach a threshold); the confidence intervals: :mod:`iseg_bench.protocols.intervals`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from iseg_bench import metrics
from iseg_bench.protocols.curves import click_curves
from iseg_bench.protocols.figures import (
    SecondsPerClick,
    labelled,
    seconds_per_click,
    split_by_thing,
)
from iseg_bench.protocols.intervals import ClickIntervals, click_intervals


@dataclass(frozen=True)
class ClickFigures:
    """The figures of a set of single-object sessions.

    Attributes:
        n_samples: S, the number of sessions.
        max_interactions: K.
        interaction: the kind of the first record ("click", "scribble") or None.
        noc: {t: mean NoC@t}; nof: {t: NoF@t (int count)}.
        miou: (K,) mIoU@k for k = 1..K; auc: mean of miou, in [0, 1].
        proportion_above: {k: {t: share of sessions with IoU > t after k interactions}}.
        corrective_accuracy: per interaction index, mean corrective accuracy (None where
            undefined everywhere); corrective_accuracy_n: how many rows define it.
        seconds_per_click: mean model seconds of the first and later interactions.
        seconds_to_reach: {t: mean model seconds up to and including the NoC@t click}.
        intervals: bootstrap 95 % intervals of NoC@t, mIoU@k and AuC (None: no session).
    """

    n_samples: int
    max_interactions: int
    interaction: str | None
    noc: dict[float, float]
    nof: dict[float, int]
    miou: list[float]
    auc: float
    proportion_above: dict[int, dict[float, float]]
    corrective_accuracy: list[float | None]
    corrective_accuracy_n: list[int]
    seconds_per_click: SecondsPerClick
    seconds_to_reach: dict[float, float]
    intervals: ClickIntervals | None

    def to_json(self) -> dict[str, Any]:
        """The summary.json dict (threshold keys labelled by ``threshold_label``)."""
        return {"n_samples": self.n_samples, "max_interactions": self.max_interactions,
                "interaction": self.interaction, "noc": labelled(self.noc),
                "nof": labelled(self.nof), "miou": list(self.miou), "auc": self.auc,
                "proportion_above": {str(k): labelled(row)
                                     for k, row in self.proportion_above.items()},
                "corrective_accuracy": list(self.corrective_accuracy),
                "corrective_accuracy_n": list(self.corrective_accuracy_n),
                "seconds_per_click": self.seconds_per_click.to_json(),
                "seconds_to_reach": labelled(self.seconds_to_reach),
                **({"ci": self.intervals.to_json()} if self.intervals else {})}


@dataclass(frozen=True)
class SingleObjectSummary:
    """The summary of a single-object run: the figures of all sessions and, when both
    things and stuff are present, of each (``splits``, keyed "stuff", "thing")."""

    figures: ClickFigures
    splits: dict[str, ClickFigures]

    def to_json(self) -> dict[str, Any]:
        """The summary.json dict: the figures' keys, plus ``splits`` when there are any."""
        out = self.figures.to_json()
        if self.splits:
            out["splits"] = {name: figs.to_json() for name, figs in self.splits.items()}
        return out


def click_figures(records: pd.DataFrame, k: int, thresholds: Sequence[float],
                  compat: str | None, stop_at_iou: float | None) -> ClickFigures:
    """The figures of single-object records over K = `k` interactions (``docs/figures.md``).

    Raises:
        ValueError: an unknown `compat` mode.
    """
    curves = click_curves(records, k, stop_at_iou)
    nocs = {t: metrics.noc(curves.iou, t, compat) for t in thresholds}
    acc = records.groupby("interaction")["corrective_accuracy"]
    return ClickFigures(
        n_samples=len(curves.keys), max_interactions=k,
        interaction=records["kind"].iloc[0] if len(records) else None,
        noc={t: float(v.mean()) for t, v in nocs.items()},
        nof={t: metrics.nof(curves.iou, t, compat) for t in thresholds},
        miou=metrics.miou_curve(curves.iou).tolist(), auc=metrics.auc(curves.iou),
        proportion_above=metrics.proportion_above(curves.iou),
        corrective_accuracy=[None if np.isnan(v) else float(v) for v in acc.mean()],
        corrective_accuracy_n=acc.count().astype(int).tolist(),
        seconds_per_click=seconds_per_click(records),
        seconds_to_reach={t: metrics.seconds_to_reach(curves.seconds, v)
                          for t, v in nocs.items()},
        intervals=click_intervals(curves.iou, thresholds, compat))


def single_object_summary(records: pd.DataFrame, k: int, thresholds: Sequence[float],
                          compat: str | None, stop_at_iou: float | None) -> SingleObjectSummary:
    """The summary of single-object records; ``splits`` only when both things and stuff
    are present."""
    parts = split_by_thing(records)
    splits = ({name: click_figures(parts[name], k, thresholds, compat, stop_at_iou)
               for name in sorted(parts)} if len(parts) > 1 else {})
    return SingleObjectSummary(click_figures(records, k, thresholds, compat, stop_at_iou),
                               splits)

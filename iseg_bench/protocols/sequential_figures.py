"""Figures of the sequential protocol: per-session user-click curves -> NoC/NoF, rates and
the learning curve, each as mean and standard deviation over orders, Delta NoC between the
arms, and the typed :class:`SequentialSummary` (``docs/figures.md``).

Source: Lin et al., "Sequential Interactive Image Segmentation" (SIIS), Sec. 4.1 (NoC, the
mean of 5 experiments), Tab. 1 (its four rows and Delta NoC), Fig. 4a (NoC when learning
stops after the first m samples) and, as an extra, NoC against the stream position.

Constants: ``TAB1_ROWS`` (Tab. 1's rows (a)-(d) as arms), ``MAIN_ARM_PREFERENCE``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from iseg_bench import metrics
from iseg_bench.protocols.curves import session_curves, user_noc
from iseg_bench.protocols.figures import (
    SecondsPerClick,
    labelled,
    mean_or_none,
    mean_std,
    seconds_per_click,
)
from iseg_bench.protocols.streams import Arm
from iseg_bench.thresholds import threshold_label

Stat = float | None

TAB1_ROWS = {"a": Arm(False, 0), "b": Arm(True, 0), "c": Arm(False, None), "d": Arm(True, None)}
MAIN_ARM_PREFERENCE = (Arm(True, None), Arm(False, None), Arm(True, 0), Arm(False, 0))


def _noc_column(t: float) -> str:
    return f"noc_{threshold_label(t)}"


def _fail_column(t: float) -> str:
    return f"fail_{threshold_label(t)}"


def session_table(records: pd.DataFrame, k: int, thresholds: Sequence[float],
                  compat: str | None) -> tuple[pd.DataFrame, np.ndarray]:
    """(one row per session: session, order, category, position, made, accepted,
    learn_seconds and, per threshold, its user-click NoC and whether it failed; the
    (S, K + 1) curves of :func:`~iseg_bench.protocols.curves.session_curves`)."""
    keys, curves = session_curves(records, k)
    first = records.groupby("session", sort=False).first().loc[keys]
    table = pd.DataFrame({"session": keys, "order": first["order"].to_numpy(),
                          "category": first["category"].astype(str).to_numpy(),
                          "position": first["position"].to_numpy(),
                          "made": first["proposal_made"].astype(bool).to_numpy(),
                          "accepted": first["proposal_accepted"].astype(bool).to_numpy(),
                          "learn_seconds": pd.to_numeric(first["learn_seconds"],
                                                         errors="coerce").to_numpy()})
    for t in thresholds:
        table[_noc_column(t)] = user_noc(curves, t, compat)
        table[_fail_column(t)] = ~(curves >= metrics.effective_threshold(t, compat)).any(1)
    return table, curves


@dataclass(frozen=True)
class OrderStats:
    """NoC@t and NoF@t (count per order), proposal rate (proposed / samples) and acceptance
    rate (accepted / proposed): each the mean over orders and its population std."""

    noc: dict[float, Stat]
    noc_std: dict[float, Stat]
    nof: dict[float, Stat]
    nof_std: dict[float, Stat]
    proposal_rate: Stat
    proposal_rate_std: Stat
    acceptance_rate: Stat
    acceptance_rate_std: Stat

    def to_json(self) -> dict[str, Any]:
        return {"noc": labelled(self.noc), "noc_std": labelled(self.noc_std),
                "nof": labelled(self.nof), "nof_std": labelled(self.nof_std),
                "proposal_rate": self.proposal_rate,
                "proposal_rate_std": self.proposal_rate_std,
                "acceptance_rate": self.acceptance_rate,
                "acceptance_rate_std": self.acceptance_rate_std}


def order_stats(table: pd.DataFrame, thresholds: Sequence[float]) -> OrderStats:
    """The :class:`OrderStats` of a session table."""
    by_order = table.groupby("order")
    noc, noc_std, nof, nof_std = {}, {}, {}, {}
    for t in thresholds:
        noc[t], noc_std[t] = mean_std(by_order[_noc_column(t)].mean())
        nof[t], nof_std[t] = mean_std(by_order[_fail_column(t)].sum())
    made = by_order["made"].sum()
    acc = by_order["accepted"].sum()
    proposal = mean_std(made / by_order.size())
    acceptance = mean_std([a / m if m else None for a, m in zip(acc, made)])
    return OrderStats(noc, noc_std, nof, nof_std, *proposal, *acceptance)


@dataclass(frozen=True)
class LearningCurve:
    """NoC@t and the accepted share at each stream position (1-based): the mean over the
    categories having that position within an order, then mean and std over orders
    (Fig. 4a); n_streams: streams per order having the position."""

    position: list[int]
    noc: dict[float, list[Stat]]
    noc_std: dict[float, list[Stat]]
    n_streams: list[int]
    accepted_share: list[Stat]

    def to_json(self) -> dict[str, Any]:
        return {"position": list(self.position), "noc": labelled(self.noc),
                "noc_std": labelled(self.noc_std), "n_streams": list(self.n_streams),
                "accepted_share": list(self.accepted_share)}


def learning_curve(table: pd.DataFrame, thresholds: Sequence[float]) -> LearningCurve:
    """The :class:`LearningCurve` of a session table."""
    positions = sorted(int(p) for p in table["position"].unique())
    n_orders = max(table["order"].nunique(), 1)
    noc, noc_std = {}, {}
    for t in thresholds:
        per = table.groupby(["position", "order"])[_noc_column(t)].mean()
        stats = [mean_std(per.loc[p].to_numpy()) for p in positions]
        noc[t] = [s[0] for s in stats]
        noc_std[t] = [s[1] for s in stats]
    acc = table.groupby(["position", "order"])["accepted"].mean()
    return LearningCurve(
        positions, noc, noc_std,
        [int((table["position"] == p).sum() // n_orders) for p in positions],
        [mean_std(acc.loc[p].to_numpy())[0] for p in positions])


@dataclass(frozen=True)
class ArmFigures:
    """Every figure of one arm (with or without proposals).

    Attributes:
        n_samples, n_sessions, n_orders, n_categories, max_interactions: counts.
        stats: NoC/NoF and rates over orders.
        miou: (K,) mIoU after user clicks 1..K; auc: its mean (None without sessions).
        miou_after_proposal: mean of column 0 of the curves (None without sessions).
        seconds_per_click: first / later user click; proposal_prediction: the model call
            on an accepted proposal; propose_click: the ``propose_click`` call (seconds).
        learn_seconds_per_sample(_std): mean learning time, std of the order means.
        per_category: {category: (its OrderStats, samples per order)}.
        learning_curve: the Fig. 4a curve.
    """

    n_samples: int
    n_sessions: int
    n_orders: int
    n_categories: int
    max_interactions: int
    stats: OrderStats
    miou: list[float]
    auc: float | None
    miou_after_proposal: float | None
    seconds_per_click: SecondsPerClick
    proposal_prediction: float | None
    propose_click: float | None
    learn_seconds_per_sample: float | None
    learn_seconds_per_sample_std: float | None
    per_category: dict[str, tuple[OrderStats, int]]
    learning_curve: LearningCurve

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"n_samples": self.n_samples, "n_sessions": self.n_sessions,
                               "n_orders": self.n_orders, "n_categories": self.n_categories,
                               "max_interactions": self.max_interactions,
                               "interaction": "click"}
        out.update(self.stats.to_json())
        out["miou"] = list(self.miou)
        out["auc"] = self.auc
        out["miou_after_proposal"] = self.miou_after_proposal
        out["seconds_per_click"] = {**self.seconds_per_click.to_json(),
                                    "proposal_prediction": self.proposal_prediction,
                                    "propose_click": self.propose_click}
        out["learn_seconds_per_sample"] = self.learn_seconds_per_sample
        out["learn_seconds_per_sample_std"] = self.learn_seconds_per_sample_std
        out["per_category"] = {cat: {**stats.to_json(), "n_samples": n}
                               for cat, (stats, n) in self.per_category.items()}
        out["learning_curve"] = self.learning_curve.to_json()
        return out


def arm_figures(records: pd.DataFrame, table: pd.DataFrame, curves: np.ndarray, k: int,
                thresholds: Sequence[float]) -> ArmFigures:
    """The figures of one arm's records, given its :func:`session_table`."""
    user = curves[:, 1:]
    secs, it = records["model_seconds"], records["interaction"]
    prop_secs = pd.to_numeric(records.groupby("session")["proposal_seconds"].first(),
                              errors="coerce")
    ls = table["learn_seconds"]
    learns = bool(ls.notna().any())
    per_category = {}
    for cat, g in table.groupby("category", sort=True):
        per_category[str(cat)] = (order_stats(g, thresholds),
                                  int(len(g) // max(g["order"].nunique(), 1)))
    return ArmFigures(
        n_samples=int(records["sample_id"].nunique()), n_sessions=len(table),
        n_orders=int(table["order"].nunique()), n_categories=int(table["category"].nunique()),
        max_interactions=k, stats=order_stats(table, thresholds),
        miou=metrics.miou_curve(user).tolist() if len(user) else [],
        auc=metrics.auc(user) if len(user) else None,
        miou_after_proposal=float(curves[:, 0].mean()) if len(curves) else None,
        seconds_per_click=seconds_per_click(records),
        proposal_prediction=mean_or_none(secs[it == 0]),
        propose_click=float(prop_secs.mean()) if prop_secs.notna().any() else None,
        learn_seconds_per_sample=float(ls.mean()) if learns else None,
        learn_seconds_per_sample_std=(mean_std(table.groupby("order")["learn_seconds"]
                                               .mean())[1] if learns else None),
        per_category=per_category, learning_curve=learning_curve(table, thresholds))


def delta_noc(off: pd.DataFrame, on: pd.DataFrame, thresholds: Sequence[float]
              ) -> tuple[dict[float, Stat], dict[float, Stat]]:
    """Delta NoC@t = NoC(without proposals) - NoC(with) per order, as (mean, std) over
    orders, from the two arms' session tables (Tab. 1)."""
    mean, std = {}, {}
    for t in thresholds:
        col = _noc_column(t)
        d = off.groupby("order")[col].mean() - on.groupby("order")[col].mean()
        mean[t], std[t] = mean_std(d.dropna().to_numpy())
    return mean, std


@dataclass(frozen=True)
class Tab1Row:
    """One row of Tab. 1 that ran: its arm, whether proposals were asked and whether the
    model learned (it has a ``learn`` hook and the arm teaches), NoC@t over orders."""

    arm: str
    proposals: bool
    learning: bool
    noc: dict[float, Stat]
    noc_std: dict[float, Stat]

    def to_json(self) -> dict[str, Any]:
        return {"arm": self.arm, "proposals": self.proposals, "learning": self.learning,
                "noc": labelled(self.noc), "noc_std": labelled(self.noc_std)}


@dataclass(frozen=True)
class LearnStopCurve:
    """Fig. 4a: NoC@t over the whole dataset (mean and std over orders) of the arms with the
    main arm's proposal setting, by m, the number of first samples of each stream that are
    learned (0: no learning; None: every sample)."""

    m: list[int | None]
    arms: list[str]
    noc: dict[float, list[Stat]]
    noc_std: dict[float, list[Stat]]

    def to_json(self) -> dict[str, Any]:
        return {"m": list(self.m), "arms": list(self.arms), "noc": labelled(self.noc),
                "noc_std": labelled(self.noc_std)}


def tab1_rows(figs: dict[str, ArmFigures]) -> dict[str, Tab1Row]:
    """The rows of Tab. 1 (keys "a"-"d") whose arms ran."""
    out = {}
    for key, arm in TAB1_ROWS.items():
        f = figs.get(arm.name)
        if f is not None:
            out[key] = Tab1Row(arm.name, arm.proposals,
                               f.learn_seconds_per_sample is not None, f.stats.noc,
                               f.stats.noc_std)
    return out


def learn_stop_curve(figs: dict[str, ArmFigures], main: Arm) -> LearnStopCurve | None:
    """The :class:`LearnStopCurve` of the arms sharing `main`'s proposal setting; None when
    the model did not learn or fewer than two values of m ran."""
    if figs[main.name].learn_seconds_per_sample is None:
        return None
    arms = sorted((a for a in map(Arm.from_name, figs) if a.proposals == main.proposals),
                  key=lambda a: float("inf") if a.learn_limit is None else a.learn_limit)
    if len(arms) < 2:
        return None
    thresholds = list(figs[main.name].stats.noc)
    return LearnStopCurve([a.learn_limit for a in arms], [a.name for a in arms],
                          {t: [figs[a.name].stats.noc[t] for a in arms] for t in thresholds},
                          {t: [figs[a.name].stats.noc_std[t] for a in arms]
                           for t in thresholds})


@dataclass(frozen=True)
class SequentialSummary:
    """The summary of a sequential run.

    Attributes:
        arms: {arm name: figures}, in record order. The top level of ``to_json()`` is the
            figures of ``main_arm``: the first of ``MAIN_ARM_PREFERENCE`` that ran (with
            proposals and learning when they ran), else the first arm.
        delta_noc, delta_noc_std: Delta NoC@t over orders between the arms without and with
            proposals at the main arm's learning setting (0.0 when only one of them ran).
        tab1: the rows of Tab. 1 that ran, keyed "a"-"d".
        learn_stops: Fig. 4a (None without learning or without a second m).
        protocol_options: the protocol's options as JSON.
    """

    arms: dict[str, ArmFigures]
    main_arm: str
    delta_noc: dict[float, Stat]
    delta_noc_std: dict[float, Stat]
    tab1: dict[str, Tab1Row]
    learn_stops: LearnStopCurve | None
    protocol_options: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        """The summary.json dict; ``splits`` holds every other arm under its label (e.g.
        "without proposals"), so reports add its row."""
        top = self.arms[self.main_arm].to_json()
        top["arms"] = {a: f.to_json() for a, f in self.arms.items()}
        top["main_arm"] = self.main_arm
        top["proposal_hook"] = any(Arm.from_name(a).proposals for a in self.arms)
        top["delta_noc"] = labelled(self.delta_noc)
        top["delta_noc_std"] = labelled(self.delta_noc_std)
        top["tab1"] = {k: r.to_json() for k, r in self.tab1.items()}
        top["learn_stops"] = None if self.learn_stops is None else self.learn_stops.to_json()
        others = {Arm.from_name(a).label(): f.to_json() for a, f in self.arms.items()
                  if a != self.main_arm}
        if others:
            top["splits"] = others
        top["protocol_options"] = dict(self.protocol_options)
        return top


def sequential_summary(records: pd.DataFrame, k: int, thresholds: Sequence[float],
                       compat: str | None, protocol_options: dict[str, Any]
                       ) -> SequentialSummary:
    """The summary of sequential records (every arm, order and category)."""
    arms = {str(a): g for a, g in records.groupby("arm", sort=False)}
    tables = {a: session_table(g, k, thresholds, compat) for a, g in arms.items()}
    figs = {a: arm_figures(arms[a], table, curves, k, thresholds)
            for a, (table, curves) in tables.items()}
    main = next((a for a in MAIN_ARM_PREFERENCE if a.name in figs), Arm.from_name(next(iter(figs))))
    off, on = Arm(False, main.learn_limit).name, Arm(True, main.learn_limit).name
    if on in figs and off in figs:
        delta, delta_std = delta_noc(tables[off][0], tables[on][0], thresholds)
    else:
        delta = {t: 0.0 for t in thresholds}
        delta_std = {t: 0.0 for t in thresholds}
    return SequentialSummary(figs, main.name, delta, delta_std, tab1_rows(figs),
                             learn_stop_curve(figs, main), protocol_options)

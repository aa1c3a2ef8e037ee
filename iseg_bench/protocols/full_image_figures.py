"""Figures of the full-image protocol: the Fig. 5 curve (mean IoU per region against
scribbles per region, round by round), the scribbles and rounds to reach a mean IoU, and
the typed :class:`FullImageSummary` (``docs/figures.md``).

Source: Agustsson, Uijlings and Ferrari, "Interactive Full Image Segmentation by Considering
All Regions Jointly", CVPR 2019, Sec. 5.3 and Fig. 5. Constant: ``REACH_THRESHOLDS`` (85 %
and 88 % are quoted in Sec. 5.3, 90 % is the headline).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from iseg_bench.protocols.figures import labelled, mean_or_none, split_by_thing

REACH_THRESHOLDS = (0.85, 0.88, 0.90)


def first_reach(values: Sequence[float], t: float) -> int | None:
    """The index of the first value >= `t`, or None when none is."""
    hit = [i for i, v in enumerate(values) if v >= t]
    return hit[0] if hit else None


@dataclass(frozen=True)
class RegionCurve:
    """The Fig. 5 curve of a set of region rows: every region weighs the same.

    Attributes:
        n_regions: regions (rows of the first round).
        rounds: (R + 1,) round numbers 0..R (0 = after the extreme points).
        scribbles_per_region: (R + 1,) mean scribbles received per region up to each round.
        miou: (R + 1,) mean IoU per region after each round.
        rounds_to_reach: {t: the first round whose mean IoU is >= t, or None}.
        scribbles_to_reach: {t: scribbles per region at that round, or None}.
    """

    n_regions: int
    rounds: list[int]
    scribbles_per_region: list[float]
    miou: list[float]
    rounds_to_reach: dict[float, int | None]
    scribbles_to_reach: dict[float, float | None]

    def to_json(self) -> dict[str, Any]:
        """The summary.json dict: ``curve`` (round, scribbles_per_region, miou),
        ``miou_extreme_points`` (round 0), ``miou`` (rounds 1..R) and the reach figures."""
        return {"n_regions": self.n_regions,
                "curve": {"round": list(self.rounds),
                          "scribbles_per_region": list(self.scribbles_per_region),
                          "miou": list(self.miou)},
                "miou_extreme_points": self.miou[0], "miou": list(self.miou[1:]),
                "rounds_to_reach": labelled(self.rounds_to_reach),
                "scribbles_to_reach": labelled(self.scribbles_to_reach)}


def region_curve(records: pd.DataFrame, thresholds: Sequence[float]) -> RegionCurve:
    """The curve of region rows (columns round, iou, scribbles; one row per region per
    round), with the reach figures for `thresholds`."""
    by_round = records.groupby("round")
    miou = by_round["iou"].mean()
    spr = by_round["scribbles"].mean()
    rounds = [int(r) for r in miou.index]
    values = [float(v) for v in miou]
    reach = {t: first_reach(values, t) for t in thresholds}
    return RegionCurve(
        n_regions=int((records["round"] == rounds[0]).sum()), rounds=rounds,
        scribbles_per_region=[float(v) for v in spr], miou=values,
        rounds_to_reach={t: (None if i is None else rounds[i]) for t, i in reach.items()},
        scribbles_to_reach={t: (None if i is None else float(spr.iloc[i]))
                            for t, i in reach.items()})


@dataclass(frozen=True)
class SecondsPerRound:
    """Mean model seconds of an image's round-0 call (extreme points) and of its later
    rounds (scribbles; None without any)."""

    extreme_points: float
    scribbles: float | None

    def to_json(self) -> dict[str, Any]:
        return {"extreme_points": self.extreme_points, "scribbles": self.scribbles}


@dataclass(frozen=True)
class FullImageSummary:
    """The summary of a full-image run.

    Attributes:
        curve: the curve over all regions of all images.
        n_samples: images.
        allocation, rounds, reach_thresholds, robots: the protocol's settings (robots: the
            ``describe()`` of the two simulated annotators and the rounds).
        seconds_per_round: None when the records carry no ``model_seconds``.
        scribbles_given: scribbles given over all images.
        splits: the curves of things and of stuff ("thing", "stuff"; either may be absent).
    """

    curve: RegionCurve
    n_samples: int
    allocation: str
    rounds: int
    reach_thresholds: tuple[float, ...]
    robots: dict[str, Any]
    seconds_per_round: SecondsPerRound | None
    scribbles_given: int
    splits: dict[str, RegionCurve]

    def to_json(self) -> dict[str, Any]:
        """The summary.json dict; the split curves are also copied into ``curve`` as
        ``miou_<split>`` and ``scribbles_per_region_<split>``."""
        out = self.curve.to_json()
        out.update(n_samples=self.n_samples, interaction="scribble",
                   allocation=self.allocation, rounds=self.rounds,
                   reach_thresholds=list(self.reach_thresholds), robots=self.robots)
        if self.seconds_per_round is not None:
            out["seconds_per_round"] = self.seconds_per_round.to_json()
        out["scribbles_given"] = self.scribbles_given
        if self.splits:
            out["splits"] = {name: c.to_json() for name, c in self.splits.items()}
            for name, c in self.splits.items():
                out["curve"][f"miou_{name}"] = list(c.miou)
                out["curve"][f"scribbles_per_region_{name}"] = list(c.scribbles_per_region)
        return out


def full_image_summary(records: pd.DataFrame, thresholds: Sequence[float], allocation: str,
                       rounds: int, robots: dict[str, Any]) -> FullImageSummary:
    """The summary of full-image records (one row per region per round)."""
    per_image = records.drop_duplicates(["sample_id", "round"])
    seconds = None
    if "model_seconds" in per_image:   # absent when records come without timings.csv
        first = per_image["round"] == 0
        seconds = SecondsPerRound(
            float(per_image.loc[first, "model_seconds"].mean()),
            mean_or_none(per_image.loc[~first, "model_seconds"]))
    return FullImageSummary(
        curve=region_curve(records, thresholds),
        n_samples=int(records["sample_id"].nunique()), allocation=allocation, rounds=rounds,
        reach_thresholds=tuple(thresholds), robots=robots, seconds_per_round=seconds,
        scribbles_given=int(per_image.groupby("sample_id")["image_scribbles"].max().sum()),
        splits={name: region_curve(part, thresholds)
                for name, part in split_by_thing(records).items()})

"""Figure helpers shared by every protocol: the thing/stuff split, seconds per click, mean and
standard deviation over repetitions, and summary keys labelled through
:mod:`iseg_bench.thresholds`.

The definitions are in ``docs/figures.md``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from iseg_bench.thresholds import threshold_label

V = TypeVar("V")

THING, STUFF = "thing", "stuff"


def labelled(values: Mapping[float, V]) -> dict[str, V]:
    """`values` keyed by threshold label ("0.85", "0.995") instead of the float threshold."""
    return {threshold_label(t): v for t, v in values.items()}


def split_by_thing(records: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """{"thing": rows with ``is_thing`` True, "stuff": rows with it False}, in that order,
    leaving out an empty part; {} when the records carry no ``is_thing`` information.
    Rows keep their order; rows whose ``is_thing`` is None are in neither part."""
    if "is_thing" not in records or not records["is_thing"].notna().any():
        return {}
    parts = {THING: records[records["is_thing"] == True],  # noqa: E712 (element-wise)
             STUFF: records[records["is_thing"] == False]}  # noqa: E712
    return {name: part for name, part in parts.items() if len(part)}


def mean_or_none(values: pd.Series) -> float | None:
    """The mean of `values` as a float, or None when there are none."""
    return float(values.mean()) if len(values) else None


@dataclass(frozen=True)
class SecondsPerClick:
    """Mean model seconds of the first interaction and of the later ones (None: none)."""

    first: float | None
    later: float | None

    def to_json(self) -> dict[str, Any]:
        return {"first": self.first, "later": self.later}


def seconds_per_click(records: pd.DataFrame) -> SecondsPerClick:
    """Mean ``model_seconds`` of the rows with ``interaction`` == 1 and of those with
    ``interaction`` > 1 (seconds; None where there is no such row)."""
    secs, it = records["model_seconds"], records["interaction"]
    return SecondsPerClick(mean_or_none(secs[it == 1]), mean_or_none(secs[it > 1]))


def mean_std(values: Iterable[float | None]) -> tuple[float | None, float | None]:
    """(mean, population standard deviation, ddof = 0) of the finite values, (None, None)
    when there are none."""
    arr = np.asarray([v for v in values if v is not None and np.isfinite(v)], np.float64)
    if arr.size == 0:
        return None, None
    return float(arr.mean()), float(arr.std())

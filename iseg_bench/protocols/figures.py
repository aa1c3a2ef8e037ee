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


#: the leading sessions whose timings are left out (lazy initialisation, first allocations)
WARM_UP_SESSIONS = 1
#: the per-sample encoder column (``set_image`` seconds), repeated on every row of a sample
ENCODER_SECONDS = "encoder_seconds"


@dataclass(frozen=True)
class SecondsPerClick:
    """Timing of the interactions (seconds; None where there is no such row).

    Attributes:
        first: mean model seconds of the first interaction (without the encoder share).
        later: mean model seconds of the later interactions.
        encoder: mean ``set_image`` seconds per session (the image encoder); None when the
            records carry no ``encoder_seconds``.
        first_with_encoder: mean of model + encoder seconds of the first interaction.
        warm_up_excluded: how many leading sessions were left out of every mean above.
    """

    first: float | None
    later: float | None
    encoder: float | None = None
    first_with_encoder: float | None = None
    warm_up_excluded: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"first": self.first, "later": self.later, "encoder": self.encoder,
                "first_with_encoder": self.first_with_encoder,
                "warm_up_excluded": self.warm_up_excluded}


def seconds_per_click(records: pd.DataFrame) -> SecondsPerClick:
    """Mean ``model_seconds`` of the rows with ``interaction`` == 1 and of those with
    ``interaction`` > 1, and the encoder share (``docs/figures.md``). The first
    ``WARM_UP_SESSIONS`` sessions in record order (key ``session``, else ``sample_id``) are
    left out when more sessions remain."""
    key = "session" if "session" in records else "sample_id"
    if key in records and records[key].nunique() > WARM_UP_SESSIONS:
        warm = records[key].drop_duplicates().iloc[:WARM_UP_SESSIONS]
        records, excluded = records[~records[key].isin(warm)], WARM_UP_SESSIONS
    else:
        excluded = 0
    secs, it = records["model_seconds"], records["interaction"]
    encoder = with_encoder = None
    if ENCODER_SECONDS in records:
        enc = pd.to_numeric(records[ENCODER_SECONDS], errors="coerce")
        encoder = mean_or_none(enc[it == 1].dropna())
        with_encoder = mean_or_none((secs + enc)[it == 1].dropna())
    return SecondsPerClick(mean_or_none(secs[it == 1]), mean_or_none(secs[it > 1]), encoder,
                           with_encoder, excluded)


def mean_std(values: Iterable[float | None]) -> tuple[float | None, float | None]:
    """(mean, population standard deviation, ddof = 0) of the finite values, (None, None)
    when there are none."""
    arr = np.asarray([v for v in values if v is not None and np.isfinite(v)], np.float64)
    if arr.size == 0:
        return None, None
    return float(arr.mean()), float(arr.std())

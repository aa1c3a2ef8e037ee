"""Bootstrap statistics of the click figures: 95 % confidence intervals of NoC@t, mIoU@k and
AuC over samples, and the paired bootstrap test of two runs (``docs/figures.md``).

Every one of these figures is the mean over sessions of a per-session value (NoC@t: the
session's NoC; mIoU@k: its IoU after k interactions; AuC: the mean of its IoU curve), so one
resampling of the sessions serves them all.

Method: the nonparametric bootstrap with the percentile interval (Efron & Tibshirani 1993,
"An Introduction to the Bootstrap", Ch. 13); the paired test resamples the per-session
differences (ibid. Ch. 15/16) and its p value is the smallest two-sided level at which the
percentile interval of the mean difference excludes 0. Forte et al. 2020 ("Getting to 99%",
Sec. 4, Tab. 7) report AuC with a confidence interval; they do not state its method, so
these choices are ours.

Constants: ``RESAMPLES`` (1000 bootstrap resamples), ``SEED`` (0, the seed of numpy's
``default_rng`` that draws them), ``LEVEL`` (0.95, the interval's coverage).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from iseg_bench import metrics
from iseg_bench.protocols.figures import labelled

RESAMPLES = 1000
SEED = 0
LEVEL = 0.95


def bootstrap_means(values: np.ndarray, resamples: int = RESAMPLES, seed: int = SEED
                    ) -> np.ndarray:
    """Column means of `resamples` bootstrap resamples of the rows of `values`.

    Args:
        values: (S, F) float64, one row per session, one column per figure; S >= 1.
        resamples: B, the number of resamples.
        seed: seed of ``numpy.random.default_rng``, which draws the (B, S) row indices.

    Returns:
        (B, F) float64: row b is the mean of the S rows drawn (with replacement) for
        resample b. Every column uses the same draws, so paired columns stay paired.
    """
    n = values.shape[0]
    draws = np.random.default_rng(seed).integers(0, n, size=(resamples, n))
    offsets = draws + np.arange(resamples)[:, None] * n
    counts = np.bincount(offsets.ravel(), minlength=resamples * n).reshape(resamples, n)
    means: np.ndarray = counts @ values / n
    return means


def percentile_interval(means: np.ndarray, level: float = LEVEL) -> np.ndarray:
    """(F, 2) float64 [lo, hi] per column of the (B, F) bootstrap means: their
    (1 - level) / 2 and (1 + level) / 2 quantiles (numpy's linear interpolation)."""
    qs = [50 * (1 - level), 50 * (1 + level)]
    out: np.ndarray = np.percentile(means, qs, axis=0).T
    return out


def mean_interval(values: np.ndarray, resamples: int = RESAMPLES, seed: int = SEED,
                  level: float = LEVEL) -> np.ndarray:
    """(F, 2) float64 bootstrap percentile interval of each column mean of the (S, F)
    `values` (S >= 1)."""
    return percentile_interval(bootstrap_means(values, resamples, seed), level)


def paired_p_value(differences: np.ndarray, resamples: int = RESAMPLES, seed: int = SEED
                   ) -> np.ndarray:
    """(F,) float64 two-sided paired bootstrap p value per column of the (S, F) per-session
    differences (candidate - baseline): 2 * min(share of resampled mean differences <= 0,
    share >= 0), at most 1. All differences 0 gives 1; a p value of 0 means below 1 / B."""
    means = bootstrap_means(differences, resamples, seed)
    low, high = (means <= 0).mean(axis=0), (means >= 0).mean(axis=0)
    out: np.ndarray = np.minimum(1.0, 2 * np.minimum(low, high))
    return out


def session_values(ious: np.ndarray, thresholds: Sequence[float], compat: str | None
                   ) -> tuple[dict[float, np.ndarray], np.ndarray, np.ndarray]:
    """The per-session values whose means are the click figures of the (S, K) IoU curves.

    Returns:
        ({t: (S,) float64 NoC@t}, (S, K) IoU after k = 1..K interactions, (S,) the mean of
        each session's curve, whose mean over sessions is the AuC).

    Raises:
        ValueError: an unknown `compat` mode.
    """
    nocs = {t: metrics.noc(ious, t, compat).astype(np.float64) for t in thresholds}
    return nocs, ious, ious.mean(axis=1)


@dataclass(frozen=True)
class ClickIntervals:
    """Bootstrap percentile intervals of the click figures of one set of sessions.

    Attributes:
        noc: {t: (lo, hi) of mean NoC@t}.
        miou: per k = 1..K, (lo, hi) of mIoU@k.
        auc: (lo, hi) of AuC.
    """

    noc: dict[float, tuple[float, float]]
    miou: list[tuple[float, float]]
    auc: tuple[float, float]

    def to_json(self) -> dict[str, Any]:
        """The summary's ``ci`` dict: the method's settings and the [lo, hi] pairs."""
        return {"method": "percentile bootstrap over samples", "level": LEVEL,
                "resamples": RESAMPLES, "seed": SEED,
                "noc": labelled({t: list(v) for t, v in self.noc.items()}),
                "miou": [list(v) for v in self.miou], "auc": list(self.auc)}


def click_intervals(ious: np.ndarray, thresholds: Sequence[float], compat: str | None
                    ) -> ClickIntervals | None:
    """The intervals of the figures of the (S, K) IoU curves; None for S = 0.

    Raises:
        ValueError: an unknown `compat` mode.
    """
    if ious.shape[0] == 0:
        return None
    nocs, per_k, per_session = session_values(ious, thresholds, compat)
    columns = [*nocs.values(), *per_k.T, per_session]
    bounds = [(float(lo), float(hi))
              for lo, hi in mean_interval(np.stack(columns, axis=1))]
    n = len(nocs)
    return ClickIntervals(noc=dict(zip(nocs, bounds[:n])), miou=bounds[n:-1], auc=bounds[-1])

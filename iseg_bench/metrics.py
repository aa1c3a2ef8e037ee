"""The field's figures, computed from per-interaction IoU curves.

Inputs are an (S, K) float64 matrix ``ious`` of S samples by K interactions (column k-1 is
the IoU after interaction k) unless stated. Definitions and sources:

* NoC@t / NoI@t: the 1-based index of the first interaction with IoU >= t, or K when never
  reached (Xu et al. 2016 "DIOS"; RITM ``compute_noc_metric``). NoI is the same figure for
  scribbles (ScribbleSeg, Sec. 3.4).
* NoF@t (NoF^K_t): the number of samples that never reach t within K interactions.
  The reference code (RITM) instead counts samples whose NoC equals K, which also counts a
  sample reaching t exactly at interaction K; ``compat="ritm"`` reproduces that quirk.
* mIoU@k: the mean IoU over samples after k interactions.
* AuC: the mean of mIoU@k over k = 1..K (Forte et al. 2020, "Getting to 99%", Sec. 4.2),
  i.e. the normalised area under the mIoU-vs-interactions curve, in [0, 1].
* Proportion above t at k: the share of samples whose IoU after k interactions exceeds t
  (strictly), for t in 0.90, 0.91, ..., 0.99 (Forte et al., Sec. 4, Figs. 10-12).
"""

from __future__ import annotations

import numpy as np

# RITM builds its thresholds with floating-point steps (np.arange(0.8, 1.0, 0.05)), so its
# "0.85" is 0.8500000000000001, "0.90" is 0.9000000000000001 and "0.95" 0.9500000000000002:
# a sample that reaches exactly 0.85 does not count as reaching "0.85" there.
RITM_THRESHOLDS = {round(float(t), 2): float(t) for t in np.arange(0.8, 1.0, 0.05)}

PROPORTION_THRESHOLDS = tuple(round(0.90 + 0.01 * i, 2) for i in range(10))
PROPORTION_AT = (1, 5, 10, 20)


def effective_threshold(t: float, compat: str | None = None) -> float:
    """The threshold actually compared against: `t`, or RITM's float for `compat="ritm"`."""
    if compat == "ritm":
        return RITM_THRESHOLDS.get(round(t, 2), t)
    if compat is not None:
        raise ValueError(f"unknown compat mode {compat!r}; known: 'ritm'")
    return t


def noc(ious: np.ndarray, t: float, compat: str | None = None) -> np.ndarray:
    """(S,) int: the NoC@t of each sample (K when never reached)."""
    reached = ious >= effective_threshold(t, compat)
    first = np.argmax(reached, axis=1) + 1
    return np.where(reached.any(axis=1), first, ious.shape[1])


def nof(ious: np.ndarray, t: float, compat: str | None = None) -> int:
    """Number of samples that fail to reach t within the K interactions (see module doc)."""
    if compat == "ritm":
        return int(np.count_nonzero(noc(ious, t, compat) == ious.shape[1]))
    return int(np.count_nonzero(~(ious >= effective_threshold(t, compat)).any(axis=1)))


def miou_curve(ious: np.ndarray) -> np.ndarray:
    """(K,) mIoU@k for k = 1..K."""
    return ious.mean(axis=0)


def auc(ious: np.ndarray) -> float:
    """Mean of mIoU@k over k = 1..K, in [0, 1]."""
    return float(miou_curve(ious).mean())


def proportion_above(ious: np.ndarray, thresholds=PROPORTION_THRESHOLDS,
                     at=PROPORTION_AT) -> dict[int, dict[float, float]]:
    """{k: {t: share of samples with IoU > t after k interactions}} for k <= K."""
    return {k: {t: float(np.mean(ious[:, k - 1] > t)) for t in thresholds}
            for k in at if k <= ious.shape[1]}


def seconds_to_reach(seconds: np.ndarray, nocs: np.ndarray) -> float:
    """Mean model seconds a sample spends up to and including its NoC click.

    seconds: (S, K) model seconds per interaction; nocs: (S,) 1-based NoC (EMC-Click,
    Du et al. 2023, Tab. 2 reports time to reach the threshold in this sense)."""
    cum = np.cumsum(seconds, axis=1)
    return float(cum[np.arange(len(nocs)), nocs - 1].mean())


def fill_curves(curves: list[np.ndarray], k: int) -> np.ndarray:
    """Stack per-sample IoU curves into (S, k), carrying the last IoU forward for curves
    that stopped early (``--stop-at-iou``: the sample keeps its final mask)."""
    out = np.empty((len(curves), k), dtype=np.float64)
    for i, c in enumerate(curves):
        n = min(len(c), k)
        out[i, :n] = c[:n]
        out[i, n:] = c[n - 1] if n else np.nan
    return out

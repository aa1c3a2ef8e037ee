"""The field's click figures on an (S, K) IoU curve array: NoC, NoF, mIoU@k, AuC,
proportion above and seconds to reach (definitions in ``docs/figures.md``; the array's
layout in :mod:`iseg_bench.protocols.curves`).

Sources: Xu et al. 2016 "DIOS" (NoC); RITM ``SamsungLabs/ritm_interactive_segmentation``,
``isegm/inference/utils.py`` ``compute_noc_metric`` (NoC, NoF and the ``compat="ritm"``
thresholds); ScribbleSeg Sec. 3.4 (NoI); Forte et al. 2020 "Getting to 99%" Sec. 4 (AuC,
proportion above); EMC-Click (Du et al. 2023) Tab. 2 (seconds to reach).

Constants: ``RITM_THRESHOLDS`` (RITM's floating-point thresholds), ``PROPORTION_THRESHOLDS``
(0.90, 0.91, ..., 0.99) and ``PROPORTION_AT`` (after 1, 5, 10 and 20 interactions).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# RITM builds its thresholds with floating-point steps (np.arange(0.8, 1.0, 0.05)), so its
# "0.85" is 0.8500000000000001, "0.90" is 0.9000000000000001 and "0.95" 0.9500000000000002:
# a sample that reaches exactly 0.85 does not count as reaching "0.85" there.
RITM_THRESHOLDS = {round(float(t), 2): float(t) for t in np.arange(0.8, 1.0, 0.05)}

PROPORTION_THRESHOLDS = tuple(round(0.90 + 0.01 * i, 2) for i in range(10))
PROPORTION_AT = (1, 5, 10, 20)


def effective_threshold(t: float, compat: str | None = None) -> float:
    """The threshold actually compared against: `t`, or RITM's float for `compat="ritm"`.

    Raises:
        ValueError: `compat` is neither None nor "ritm".
    """
    if compat == "ritm":
        return RITM_THRESHOLDS.get(round(t, 2), t)
    if compat is not None:
        raise ValueError(f"unknown compat mode {compat!r}; known: 'ritm'")
    return t


def noc(ious: np.ndarray, t: float, compat: str | None = None) -> np.ndarray:
    """(S,) int64: the NoC@t of each sample, 1-based (K when never reached).

    Args:
        ious: (S, K) float64 IoU curves.
        compat: None or "ritm" (see :func:`effective_threshold`).

    Raises:
        ValueError: an unknown `compat` mode.
    """
    reached = ious >= effective_threshold(t, compat)
    first = np.argmax(reached, axis=1) + 1
    out: np.ndarray = np.where(reached.any(axis=1), first, ious.shape[1])
    return out


def nof(ious: np.ndarray, t: float, compat: str | None = None) -> int:
    """Number of samples that never reach `t` within the K interactions; with
    ``compat="ritm"`` the samples whose NoC@t is K (RITM's count).

    Raises:
        ValueError: an unknown `compat` mode.
    """
    if compat == "ritm":
        return int(np.count_nonzero(noc(ious, t, compat) == ious.shape[1]))
    return int(np.count_nonzero(~(ious >= effective_threshold(t, compat)).any(axis=1)))


def miou_curve(ious: np.ndarray) -> np.ndarray:
    """(K,) float64 mIoU@k for k = 1..K (NaN for S = 0)."""
    out: np.ndarray = ious.mean(axis=0)
    return out


def auc(ious: np.ndarray) -> float:
    """AuC: the mean of mIoU@k over k = 1..K of the (S, K) curves, in [0, 1] (the
    normalised area under the mIoU curve)."""
    return float(miou_curve(ious).mean())


def proportion_above(ious: np.ndarray,
                     thresholds: Sequence[float] = PROPORTION_THRESHOLDS,
                     at: Sequence[int] = PROPORTION_AT) -> dict[int, dict[float, float]]:
    """{k: {t: share of samples with IoU > t (strictly) after k interactions}} of the
    (S, K) curves, for each k in `at` with k <= K, in the order of `at` and `thresholds`."""
    return {k: {t: float(np.mean(ious[:, k - 1] > t)) for t in thresholds}
            for k in at if k <= ious.shape[1]}


def seconds_to_reach(seconds: np.ndarray, nocs: np.ndarray) -> float:
    """Mean model seconds a sample spends up to and including its NoC click.

    Args:
        seconds: (S, K) float64 model seconds per interaction.
        nocs: (S,) int 1-based NoC@t of each sample (from :func:`noc`).
    """
    cum = np.cumsum(seconds, axis=1)
    return float(cum[np.arange(len(nocs)), nocs - 1].mean())


def fill_curves(curves: list[np.ndarray], k: int) -> np.ndarray:
    """Stack S per-sample curves (1-D arrays) into an (S, k) float64 array, cut at k and
    carrying the last value forward for curves that stopped early (``--stop-at-iou``: the
    sample keeps its final mask); an empty curve gives a row of NaN."""
    out = np.empty((len(curves), k), dtype=np.float64)
    for i, c in enumerate(curves):
        n = min(len(c), k)
        out[i, :n] = c[:n]
        out[i, n:] = c[n - 1] if n else np.nan
    return out

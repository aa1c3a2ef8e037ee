"""Records -> curve arrays: the per-session IoU and seconds matrices that the click figures
(NoC, NoF, mIoU@k, AuC, proportion above, seconds to reach) are computed from.

Layout, as COCOeval documents its accumulated ``precision`` array (``docs/figures.md``):

* ``iou[s, k]``: float64 (S, K), S sessions by K interactions. Row s is the session of
  ``keys[s]``; sessions are in the order they first appear in the records. Column k is the
  IoU after interaction k + 1 (single-object: ``ClickCurves``), or, for the sequential
  protocol's (S, K + 1) array, after k user clicks, column 0 being the IoU after an
  accepted proposal and 0.0 without one. A session that stopped early (``stop_at_iou``)
  carries its last IoU forward to column K - 1.
* ``seconds[s, k]``: float64 (S, K), model seconds of interaction k + 1; 0.0 after an early
  stop when ``stop_at_iou`` is set (a stopped sample spends no more time), else the last
  value carried forward.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from iseg_bench import metrics


@dataclass(frozen=True)
class ClickCurves:
    """The (S, K) curve arrays of single-object records (module docstring).

    Attributes:
        keys: (S,) sample ids, in first-appearance order of the records.
        iou: (S, K) float64 IoU after interactions 1..K.
        seconds: (S, K) float64 model seconds of interactions 1..K.
    """

    keys: tuple[str, ...]
    iou: np.ndarray
    seconds: np.ndarray


def click_curves(records: pd.DataFrame, k: int, stop_at_iou: float | None) -> ClickCurves:
    """The curve arrays of single-object records (one row per interaction, columns
    sample_id, interaction, iou, model_seconds) over K = `k` interactions."""
    groups = [(key, g.sort_values("interaction"))
              for key, g in records.groupby("sample_id", sort=False)]
    ious = metrics.fill_curves([g["iou"].to_numpy() for _, g in groups], k)
    secs = metrics.fill_curves([g["model_seconds"].to_numpy() for _, g in groups], k)
    if stop_at_iou is not None:  # stopped samples spend no more time
        for i, (_, g) in enumerate(groups):
            secs[i, len(g):] = 0.0
    return ClickCurves(tuple(str(key) for key, _ in groups), ious, secs)


def session_curves(records: pd.DataFrame, k: int) -> tuple[list[str], np.ndarray]:
    """(session keys, (S, k + 1) float64 IoU over user clicks 0..k) of one sequential arm.

    Column 0 is the IoU after the accepted proposal (0.0 without one); later columns carry
    the last IoU forward after an early stop. Sessions are keyed by the ``session`` column."""
    keys, curves = [], []
    for key, g in records.groupby("session", sort=False):
        row = np.zeros(k + 1, np.float64)
        it = g["interaction"].to_numpy(int)
        vals = g["iou"].to_numpy(float)
        last = 0.0
        filled = dict(zip(it.tolist(), vals.tolist()))
        for j in range(k + 1):
            last = filled.get(j, last)
            row[j] = last
        keys.append(str(key))
        curves.append(row)
    return keys, np.array(curves).reshape(len(curves), k + 1)


def user_noc(curves: np.ndarray, t: float, compat: str | None = None) -> np.ndarray:
    """(S,) int NoC@t counting user clicks only: the first column index in 0..K with
    IoU >= t, else K (`curves`: (S, K + 1) from :func:`session_curves`)."""
    # metrics.noc counts columns from 1 and gives K + 1 when never reached: one more here
    result: np.ndarray = metrics.noc(curves, t, compat) - 1
    return result

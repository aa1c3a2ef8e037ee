"""Tolerances of the run comparison: parsed from "family=delta,..." and applied per figure.

Constants: ``HIGHER_IS_WORSE`` (the figure families and their worse direction),
``CHECKED_BY_DEFAULT`` (families checked with tolerance 0 unless given; seconds per click
are only checked when a ``seconds`` tolerance is given), ``EPSILON`` (1e-12, the float slack
of every comparison).
"""

from __future__ import annotations

HIGHER_IS_WORSE = {"noc": True, "nof": True, "failed": True, "seconds": True,
                   "miou": False, "auc": False}
CHECKED_BY_DEFAULT = frozenset({"noc", "nof", "miou", "auc", "failed"})
EPSILON = 1e-12


def parse_tolerances(text: str | None) -> dict[str, float]:
    """"noc=0.05,miou=0.005" -> {"noc": 0.05, "miou": 0.005} (keys lower-cased).

    Keys are a family of ``HIGHER_IS_WORSE`` or a figure: family@threshold (percent, as in
    the figure name: "noc@90") or family@k ("miou@5"). Empty parts are skipped.

    Raises:
        ValueError: a part is not key=number, a number is negative, or the family is unknown.
    """
    out: dict[str, float] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        key = key.strip().lower()
        if not sep:
            raise ValueError(f"tolerance {part!r} is not key=value")
        if key.split("@")[0] not in HIGHER_IS_WORSE:
            raise ValueError(f"unknown tolerance {key!r}; families: "
                             f"{', '.join(sorted(HIGHER_IS_WORSE))} (optionally @threshold "
                             "or @k, e.g. noc@90, miou@5)")
        out[key] = float(value)
        if out[key] < 0:
            raise ValueError(f"tolerance {key!r} must be >= 0, got {value}")
    return out


def tolerance_for(tolerances: dict[str, float], figure: str, family: str) -> float | None:
    """The tolerance of `figure` (e.g. "NoC@90 [thing]"): its own ("noc@90"), else its
    family's, else 0 for a family checked by default, else None (shown, not checked)."""
    suffix = figure.split("@")[1].split()[0] if "@" in figure else None
    if suffix is not None and f"{family}@{suffix}" in tolerances:
        return tolerances[f"{family}@{suffix}"]
    if family in tolerances:
        return tolerances[family]
    return 0.0 if family in CHECKED_BY_DEFAULT else None


def verdict(family: str, base: float | None, cand: float | None, tol: float | None) -> str:
    """"n/a" (a run lacks the figure), "info" (not checked), "REGRESSION" (worse by more
    than `tol`), "better" or "ok"."""
    if base is None or cand is None:
        return "n/a"
    delta = cand - base
    worse = delta if HIGHER_IS_WORSE[family] else -delta
    if tol is None:
        return "info"
    if worse > tol + EPSILON:
        return "REGRESSION"
    if worse < -EPSILON:
        return "better"
    return "ok"

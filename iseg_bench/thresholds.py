"""IoU thresholds: parsed and validated once, held as floats, labelled in one place.

Summaries key per-threshold figures by :func:`threshold_label` (at least two decimals, more
when needed, so distinct thresholds never share a label: 0.9 -> "0.90", 0.995 -> "0.995");
tables head their columns with :func:`percent_label` (0.9 -> "90", 0.995 -> "99.5").
"""

from __future__ import annotations

from collections.abc import Iterable

from iseg_bench.errors import UsageError

DEFAULT_IOU_THRESHOLDS = (0.85, 0.90, 0.95)
_MAX_DECIMALS = 12


def threshold_label(t: float) -> str:
    """The shortest decimal form of `t` with at least two decimals that reads back as `t`."""
    for decimals in range(2, _MAX_DECIMALS + 1):
        text = f"{t:.{decimals}f}"
        if float(text) == t:
            return text
    return repr(float(t))


def percent_label(t: float | str) -> str:
    """`t` (a float or a threshold label) as a percentage without trailing zeros: "90", "99.5"."""
    text = threshold_label(float(t))
    whole, _, frac = text.partition(".")
    digits = frac + "00"
    pct = int(whole) * 100 + int(digits[:2])
    rest = digits[2:].rstrip("0")
    return f"{pct}.{rest}" if rest else str(pct)


def parse_thresholds(values: str | Iterable[float | str]) -> tuple[float, ...]:
    """IoU thresholds from "0.85,0.90" or a sequence: each in (0, 1], no duplicates.

    Raises:
        UsageError: empty, malformed, out of range or repeated thresholds.
    """
    items = values.split(",") if isinstance(values, str) else list(values)
    out: list[float] = []
    for item in items:
        text = str(item).strip()
        try:
            t = float(text)
        except ValueError:
            raise UsageError(f"IoU threshold {text!r} is not a number") from None
        if not 0.0 < t <= 1.0:
            raise UsageError(f"IoU threshold {text} is outside (0, 1]")
        if t in out:
            raise UsageError(f"IoU threshold {text} is given twice")
        out.append(t)
    if not out:
        raise UsageError("give at least one IoU threshold, e.g. 0.85,0.90,0.95")
    return tuple(out)

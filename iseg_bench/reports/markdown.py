"""GitHub Markdown tables from DataFrames, with no dependency beyond pandas."""

from __future__ import annotations

from typing import Any

import pandas as pd


def _cell(value: Any) -> str:
    missing = value is None or (isinstance(value, float) and pd.isna(value))
    return "" if missing else str(value)


def to_markdown(frame: pd.DataFrame) -> str:
    """`frame` as a GitHub Markdown table: a header row, a ``|---|`` rule, one line per row.

    Cells are ``str(value)``; None and NaN are empty cells. The index is not written.
    """
    cols = [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |"
              for row in frame.itertuples(index=False)]
    return "\n".join(lines)

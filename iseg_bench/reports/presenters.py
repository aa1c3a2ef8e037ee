"""Presentation per protocol: the one table saying how each protocol's summary is shown.

A :class:`Presenter` gives a summary's plots (files written into a run's ``plots/``
folder). Protocols compute figures; they never draw.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from iseg_bench.reports.full_image import write_full_image_outputs
from iseg_bench.reports.plots import single_object_plots
from iseg_bench.reports.sequential import sequential_plots

Summary = dict[str, Any]


@dataclass(frozen=True)
class Presenter:
    """How one protocol's summaries are shown.

    Attributes:
        plots: (summary as in summary.json, output folder) -> the files written.
    """

    plots: Callable[[Summary, Path], list[Path]]


PRESENTERS: dict[str, Presenter] = {
    "single-object": Presenter(plots=single_object_plots),
    "full-image": Presenter(plots=write_full_image_outputs),
    "sequential": Presenter(plots=sequential_plots),
}


def write_plots(summary: Summary, out_dir: Path) -> list[Path]:
    """Draw the standard plots of `summary` (its ``protocol`` key chooses the presenter)
    into `out_dir`; returns the files written."""
    return PRESENTERS[str(summary.get("protocol", "single-object"))].plots(summary, Path(out_dir))

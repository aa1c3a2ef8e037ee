"""Sequential protocol: category streams with initial-click proposals and online learning;
``docs/protocols/sequential.md``.

Source: Lin et al., "Sequential Interactive Image Segmentation" (SIIS), Sec. 2.2, 3.2-3.3,
4.1 and 4.3, Tab. 1, Fig. 4a. Constants: ``DEFAULT_ORDERS`` = 5 (Sec. 4.1: the mean of 5
experiments), ``DEFAULT_LEARN_DELAY`` = 1 (Sec. 3.3: sample n uses the model trained on the
first n - delta samples), ``DEFAULT_LEARN_FROM`` = "prediction" (Sec. 2.2, 4.3: the final
masks serve as supervision).
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from iseg_bench.adapters.base import has_hook
from iseg_bench.datasets.base import Dataset
from iseg_bench.errors import UsageError
from iseg_bench.options import option, options_dict
from iseg_bench.protocols.base import Protocol, Unit, WorkerContext
from iseg_bench.protocols.sequential_figures import SequentialSummary, sequential_summary
from iseg_bench.protocols.sequential_session import run_stream
from iseg_bench.protocols.streams import Arm, LazyStream, category_indices, stream_order
from iseg_bench.types import Sample

DEFAULT_ORDERS = 5
DEFAULT_LEARN_DELAY = 1
DEFAULT_LEARN_FROM = "prediction"


@dataclass(frozen=True)
class SequentialOptions:
    """Options of the sequential protocol (``--protocol-opt KEY=VALUE``).

    Raises:
        UsageError: orders < 1, learn_delay < 1, max_per_category < 1 or a learn stop < 1.
    """

    orders: int = option(DEFAULT_ORDERS, "stream orders per category (>= 1); figures are "
                         "the mean and std over orders")
    learn_from: Literal["gt", "prediction"] = option(
        DEFAULT_LEARN_FROM, "what is learned after a sample: the final prediction (SIIS) or "
        "the ground truth (optimistic: a real annotator's masks are not perfect)")
    learn_delay: int = option(DEFAULT_LEARN_DELAY, "delta >= 1: sample n uses the model "
                              "taught the first n - delta samples (1 = no delay)")
    proposals: Literal["both", "on", "off"] = option(
        "both", "run the stream with initial-click proposals (on), without (off) or both")
    learning: Literal["both", "on", "off"] = option(
        "both", "run the stream with online learning (on), without (off) or both; with "
        "proposals=both, both gives the four rows of SIIS Tab. 1")
    learn_stops: tuple[int, ...] = option(
        (), "Fig. 4a: extra arms where learning stops after the first m samples of each "
        "stream, e.g. 1,2,4,8 (with proposals when the model proposes)")
    max_per_category: int | None = option(None, "keep the first N samples of each "
                                          "category (None = all)")

    def __post_init__(self) -> None:
        owner = "protocol sequential"
        if self.orders < 1:
            raise UsageError(f"{owner}: orders must be >= 1, got {self.orders}")
        if self.learn_delay < 1:
            raise UsageError(f"{owner}: learn_delay must be >= 1, got {self.learn_delay} "
                             "(delta = 0 would train on the sample being segmented; 1 = no "
                             "delay)")
        if self.max_per_category is not None and self.max_per_category < 1:
            raise UsageError(f"{owner}: max_per_category must be >= 1, got "
                             f"{self.max_per_category}")
        if any(m < 1 for m in self.learn_stops):
            raise UsageError(f"{owner}: learn_stops must be >= 1 (m = 0 is learning=off), "
                             f"got {','.join(map(str, self.learn_stops))}")


class SequentialProtocol(Protocol):
    """SIIS sequential protocol; one unit per (category, order) stream.

    Raises:
        UsageError: an unknown or invalid protocol option (at construction).
    """

    name = "sequential"
    unit_name = "stream"
    options_class = SequentialOptions

    options: SequentialOptions

    def units(self, dataset: Dataset) -> list[Unit]:
        """One unit per (order, category): unit id ``"<category>/order<r>"``, indices in
        stream order, payload {"category", "order"}. Orders vary slowest, so a partial run
        covers every category for the first orders."""
        groups = category_indices(dataset, self.config.limit, self.options.max_per_category)
        units = []
        for r in range(self.options.orders):
            for cat, idx in groups.items():
                perm = stream_order(len(idx), self.config.seed, r, cat)
                units.append(Unit(f"{cat}/order{r}", tuple(idx[int(p)] for p in perm),
                                  {"category": cat, "order": r}))
        return units

    def arms(self, adapter: Any) -> list[Arm]:
        """The arms to run, in Tab. 1's row order: without learning first, within each
        without proposals first; then the ``learn_stops`` arms (Fig. 4a) with the main
        proposal setting. A switch the adapter has no hook for collapses: without
        ``propose_click`` only arms without proposals run; without ``learn`` the learning
        switch and the stops are void and the arms carry learn_limit None."""
        opts = self.options
        choices = {"off": [False], "on": [True], "both": [False, True]}
        proposals = choices[opts.proposals] if has_hook(adapter, "propose_click") else [False]
        if not has_hook(adapter, "learn"):
            return [Arm(p) for p in proposals]
        limits = [0 if not on else None for on in choices[opts.learning]]
        arms = [Arm(p, limit) for limit in limits for p in proposals]
        arms += [Arm(proposals[-1], m) for m in sorted(set(opts.learn_stops))]
        return arms

    @staticmethod
    def fresh_adapter(adapter: Any) -> Any:
        """The adapter to start an arm with: as is without hooks, reset by
        ``reset_learning()`` when it has one, else a deep copy of the pristine adapter."""
        if not (has_hook(adapter, "learn") or has_hook(adapter, "propose_click")):
            return adapter
        reset = getattr(adapter, "reset_learning", None)
        if callable(reset):
            reset()
            return adapter
        return copy.deepcopy(adapter)

    def evaluate(self, unit: Unit, ctx: WorkerContext) -> list[dict[str, Any]]:
        """Run every arm of the stream `unit`; rows in arm, then stream order."""
        samples = LazyStream(ctx.dataset, unit.indices)
        rows: list[dict[str, Any]] = []
        for arm in self.arms(ctx.adapter):
            arm_ctx = dataclasses.replace(ctx, adapter=self.fresh_adapter(ctx.adapter))
            rows.extend(self.run_stream(samples, arm_ctx, arm, unit.payload["order"]))
        return rows

    def run_stream(self, samples: Iterable[Sample], ctx: WorkerContext, arm: Arm,
                   order: int = 0) -> list[dict[str, Any]]:
        """One arm of one stream with this protocol's learning options (see
        :func:`~iseg_bench.protocols.sequential_session.run_stream`)."""
        return run_stream(samples, ctx, arm, order, self.options.learn_from,
                          self.options.learn_delay)

    def summarize(self, records: pd.DataFrame) -> SequentialSummary:
        cfg = self.config
        return sequential_summary(records, cfg.max_interactions, cfg.iou_thresholds,
                                  cfg.compat, options_dict(self.options))

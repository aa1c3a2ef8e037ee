"""Category streams of the sequential protocol: which samples form a stream, in which order,
loaded one at a time; ``docs/protocols/sequential.md``.

Source: Lin et al., "Sequential Interactive Image Segmentation" (SIIS), Sec. 4.1 (the mean
of 5 experiments), Tab. 1 (the four rows: proposals and learning on or off), Fig. 4a
(learning stopped after the first m samples). Constants: ``NO_CATEGORY`` (the stream of
samples without a category), ``ARM_ON`` / ``ARM_OFF`` (the names of the arms with and
without initial-click proposals, learning as the adapter can).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from iseg_bench.datasets.base import Dataset
from iseg_bench.types import Sample

NO_CATEGORY = "<none>"
ARM_ON, ARM_OFF = "proposals", "no-proposals"


@dataclass(frozen=True)
class Arm:
    """One way of running a stream.

    Attributes:
        proposals: ask the adapter's ``propose_click`` before each sample.
        learn_limit: which samples are taught to the adapter's ``learn``: None every one
            (or the adapter cannot learn), 0 none, m the first m of the stream (Fig. 4a).
    """

    proposals: bool
    learn_limit: int | None = None

    @property
    def name(self) -> str:
        """``proposals`` / ``no-proposals``, then ``|no-learning`` for learn_limit 0 or
        ``|learn<m>`` for learn_limit m."""
        base = ARM_ON if self.proposals else ARM_OFF
        if self.learn_limit is None:
            return base
        return f"{base}|no-learning" if self.learn_limit == 0 else f"{base}|learn{self.learn_limit}"

    @classmethod
    def from_name(cls, name: str) -> Arm:
        """The arm of a :attr:`name`. Raises ValueError for any other string."""
        base, _, rest = name.partition("|")
        if base not in (ARM_ON, ARM_OFF):
            raise ValueError(f"not an arm name: {name!r}")
        if not rest:
            return cls(base == ARM_ON)
        if rest == "no-learning":
            return cls(base == ARM_ON, 0)
        if rest.startswith("learn") and rest[5:].isdigit() and int(rest[5:]) > 0:
            return cls(base == ARM_ON, int(rest[5:]))
        raise ValueError(f"not an arm name: {name!r}")

    def label(self) -> str:
        """How reports name the arm: "with proposals", "without proposals", "... , without
        learning", "... , learning stops after m"."""
        parts = ["with proposals" if self.proposals else "without proposals"]
        if self.learn_limit == 0:
            parts.append("without learning")
        elif self.learn_limit is not None:
            parts.append(f"learning stops after {self.learn_limit}")
        return ", ".join(parts)

    def learns(self, position: int) -> bool:
        """Whether the sample at (1-based) stream `position` is taught."""
        return self.learn_limit is None or position <= self.learn_limit


def stream_order(n: int, seed: int, order: int, category: str) -> np.ndarray:
    """(n,) int64 permutation of 0..n-1: the order-th stream order of `category`.

    Drawn from ``default_rng(SeedSequence([seed + order, crc32(category utf-8)]))``; the
    same arguments always give the same permutation, in any process.
    """
    entropy = [int(seed) + int(order), zlib.crc32(str(category).encode("utf-8"))]
    rng = np.random.default_rng(np.random.SeedSequence(entropy))
    return rng.permutation(int(n))


def category_indices(dataset: Dataset, limit: int | None,
                     max_per_category: int | None) -> dict[str, list[int]]:
    """{category: dataset indices in index order}, categories sorted by name.

    Only the first `limit` indices (None: all) are used, and the first `max_per_category`
    of each category (None: all). Categories come from ``refs[i].meta["category"]`` when
    every ref has one, else from each loaded sample's meta; None becomes ``NO_CATEGORY``.
    """
    n = len(dataset) if limit is None else min(limit, len(dataset))
    refs = dataset.refs[:n] if hasattr(dataset, "refs") else None
    if refs is not None and all("category" in (r.meta or {}) for r in refs):
        cats = [r.meta["category"] for r in refs]
    else:
        cats = [dataset.load(i).meta.get("category") for i in range(n)]
    groups: dict[str, list[int]] = {}
    for i, c in enumerate(cats):
        groups.setdefault(NO_CATEGORY if c is None else str(c), []).append(i)
    if max_per_category is not None:
        groups = {c: idx[:max_per_category] for c, idx in groups.items()}
    return dict(sorted(groups.items()))


class LazyStream:
    """The samples of a stream, loaded one at a time when iterated (a category of
    Fashionpedia or LeedsButterfly holds hundreds of images; only the current sample and
    those queued for learning are held)."""

    def __init__(self, dataset: Dataset, indices: Sequence[int]):
        self.dataset, self.indices = dataset, tuple(indices)

    def __len__(self) -> int:
        return len(self.indices)

    def __iter__(self) -> Iterator[Sample]:
        return (self.dataset.load(i) for i in self.indices)

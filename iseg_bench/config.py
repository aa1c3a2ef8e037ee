"""Run configuration: every setting that determines a run's records.

``identity()`` is the part that must match for a resume or a comparison; the execution
settings in ``EXECUTION_FIELDS`` are left out of it (a resume checks the unit list instead
of ``limit``).
"""

from __future__ import annotations

import dataclasses
import platform
from dataclasses import dataclass, field
from typing import Any

from iseg_bench.thresholds import DEFAULT_IOU_THRESHOLDS

#: a pixel is foreground when its probability is above this (RITM's evaluate_sample)
DEFAULT_PROB_THRESHOLD = 0.49
#: settings that do not change a run's records, left out of ``RunConfig.identity()`` (the
#: run's ``name`` labels it in tables and legends only)
EXECUTION_FIELDS = ("data_root", "workers", "limit", "name", "batch_size", "executor",
                    "ray_address", "shard")
#: distributions whose versions are stored with a run (those installed)
VERSIONED_PACKAGES = ("iseg-bench", "numpy", "opencv-python-headless", "scikit-image", "scipy",
                      "torch")


@dataclass
class RunConfig:
    """Settings of one run.

    Attributes:
        model, dataset, robot, protocol: registry names.
        max_interactions: interactions per sample (20, the field's standard).
        prob_threshold: a pixel is foreground when probability > this (0.49, as the field's
            reference code).
        iou_thresholds: thresholds of NoC/NoF (0.85, 0.90, 0.95).
        stop_at_iou: stop a sample once its IoU reaches this (reference code's early stop);
            None = run every interaction.
        compat: None (correct definitions) or "ritm" (reference-code quirks, see metrics).
        seed: seed of randomised robots and orderings.
        limit: evaluate only the first N samples (None = all).
        data_root: folder holding the datasets (None: ``$ISEG_BENCH_DATA``).
        workers: worker processes (1 = evaluate in this process); Ray actors with
            ``executor="ray"``.
        batch_size: samples advanced in lockstep per batched model call (1 = the one-sample
            loop; ``docs/execution.md``).
        executor: "local" (this process or worker processes) or "ray".
        ray_address: the Ray cluster (None: start a local one).
        shard: "i/N": evaluate only every N-th unit from the i-th (0-based); None = all.
        *_options: keyword options of the model, robot, dataset and protocol.
        name: the run's label in report tables and plot legends (None: "model / dataset").
    """

    model: str
    dataset: str
    robot: str = "clicker"
    protocol: str = "single-object"
    max_interactions: int = 20
    prob_threshold: float = DEFAULT_PROB_THRESHOLD
    iou_thresholds: tuple[float, ...] = DEFAULT_IOU_THRESHOLDS
    stop_at_iou: float | None = None
    compat: str | None = None
    seed: int = 0
    limit: int | None = None
    data_root: str | None = None
    workers: int = 1
    batch_size: int = 1
    executor: str = "local"
    ray_address: str | None = None
    shard: str | None = None
    model_options: dict[str, Any] = field(default_factory=dict)
    robot_options: dict[str, Any] = field(default_factory=dict)
    dataset_options: dict[str, Any] = field(default_factory=dict)
    protocol_options: dict[str, Any] = field(default_factory=dict)
    name: str | None = None

    def to_json(self) -> dict[str, Any]:
        """Every field as JSON-ready values (``iou_thresholds`` as a list)."""
        d = dataclasses.asdict(self)
        d["iou_thresholds"] = list(self.iou_thresholds)
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> RunConfig:
        """The config of a ``to_json`` dict (keys that are not fields, e.g. the ``versions``
        and ``units`` of config.json, are ignored)."""
        known = {f.name for f in dataclasses.fields(cls)}
        kwargs = {k: v for k, v in d.items() if k in known}
        kwargs["iou_thresholds"] = tuple(kwargs.get("iou_thresholds", DEFAULT_IOU_THRESHOLDS))
        return cls(**kwargs)

    def identity(self) -> dict[str, Any]:
        """Settings that must match for a resume or a comparison."""
        return {k: v for k, v in self.to_json().items() if k not in EXECUTION_FIELDS}


def versions() -> dict[str, str]:
    """Versions of Python, iseg-bench and the libraries that affect the numbers."""
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in VERSIONED_PACKAGES:
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            continue
    return out

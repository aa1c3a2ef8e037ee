"""Whether two runs may be compared: their summaries, settings identity and sample lists.

Constants: ``PROTOCOL_SETTINGS``, the settings of the run configuration's identity that must
match (the model, its options and the versions may differ).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from iseg_bench import run_folder
from iseg_bench.reports.rows import Summary

PROTOCOL_SETTINGS = ("protocol", "robot", "robot_options", "max_interactions", "iou_thresholds",
                     "prob_threshold", "stop_at_iou", "compat", "seed", "dataset",
                     "dataset_options", "protocol_options")


@dataclass
class RunView:
    """A loaded run.

    Attributes:
        label: how the report names the run (its path).
        summary: its summary.json.
        units: its unit ids in order (config.json's ``units``), None when unknown.
    """

    label: str
    summary: Summary
    units: list[str] | None

    @property
    def identity(self) -> dict[str, Any]:
        """The run's settings identity (the summary's ``config``)."""
        return dict(self.summary.get("config") or {})


def load_view(path: Path) -> RunView:
    """A run folder, or a summary.json file (with its folder's config.json when there is one).

    Raises:
        RunFolderError: `path` holds no summary, or a damaged one.
    """
    path = Path(path)
    _, summary = run_folder.load_run(path)
    stored = run_folder.read_config(path.parent if path.is_file() else path)
    return RunView(str(path), summary, stored.get("units") if stored else None)


def _normalised(value: Any) -> Any:
    return json.loads(json.dumps(value))


def _sample_differences(a: RunView, b: RunView) -> list[str]:
    if a.units is not None and b.units is not None:
        if a.units == b.units:
            return []
        return [f"samples: baseline has {len(a.units)}, candidate {len(b.units)}, or they "
                "differ (dataset, --limit)"]
    da, db = a.summary.get("units_sha1"), b.summary.get("units_sha1")
    if da and db and da != db:
        return ["samples: the sample lists differ (dataset, --limit)"]
    na, nb = a.summary.get("n_units"), b.summary.get("n_units")
    if na is not None and nb is not None and na != nb:
        return [f"samples: baseline has {na}, candidate {nb}"]
    return []


def setting_differences(a: RunView, b: RunView) -> list[str]:
    """Why baseline `a` and candidate `b` cannot be compared; [] when they can.

    Reasons: a setting of ``PROTOCOL_SETTINGS`` differs (compared as JSON); the sample
    lists differ (the unit lists of both config.json files when both are known, else the
    summaries' ``units_sha1`` digests, else their unit counts); a run is incomplete.
    """
    problems = []
    for key in PROTOCOL_SETTINGS:
        va, vb = _normalised(a.identity.get(key)), _normalised(b.identity.get(key))
        if va != vb:
            problems.append(f"{key}: baseline {va!r}, candidate {vb!r}")
    problems += _sample_differences(a, b)
    for view, name in ((a, "baseline"), (b, "candidate")):
        if view.summary.get("complete") is False:
            problems.append(f"the {name} run {view.label} is incomplete (interrupted or "
                            "stopped); finish it with `iseg-bench run ... --resume DIR`")
    return problems

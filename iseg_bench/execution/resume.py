"""Resume checks: whether a stored run folder can be continued with this command's settings.

The rules (what must match, which units run again) are in ``docs/execution.md``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from iseg_bench.config import RunConfig, versions
from iseg_bench.errors import ConfigMismatchError, IsegBenchError
from iseg_bench.protocols.base import Unit
from iseg_bench.run_folder import CONFIG, DATA_FINGERPRINTS, json_default, read_config

#: changed units named in a resume refusal (the rest are counted)
SHOWN_CHANGED_UNITS = 10


def _plain(obj: Any) -> Any:
    """`obj` as it reads back from JSON (tuples become lists, numpy scalars numbers)."""
    return json.loads(json.dumps(obj, default=json_default))


def _changed_keys(then: dict[str, Any], now: dict[str, Any]) -> list[str]:
    return [key for key in sorted(set(then) | set(now)) if then.get(key) != now.get(key)]


def _unit_difference(stored_units: list[str], unit_ids: list[str]) -> str:
    first = next((i for i, (a, b) in enumerate(zip(stored_units, unit_ids)) if a != b),
                 min(len(stored_units), len(unit_ids)))
    return (f"samples: the run has {len(stored_units)}, this command {len(unit_ids)} "
            f"(first difference at position {first}; --limit, the dataset or its options "
            "changed)")


def _data_difference(changed: list[str]) -> str:
    shown = ", ".join(changed[:SHOWN_CHANGED_UNITS])
    more = (f" and {len(changed) - SHOWN_CHANGED_UNITS} more"
            if len(changed) > SHOWN_CHANGED_UNITS else "")
    return (f"data: the files of {len(changed)} sample(s) differ from those the run "
            f"started with: {shown}{more} (another or an edited data folder)")


def resume_mismatches(stored: dict[str, Any], config: RunConfig, unit_ids: list[str],
                      fingerprints: dict[str, str]) -> list[str]:
    """Why a stored run (its config.json) cannot be continued with `config`; [] if it can.

    Compares every identity setting, every library version, the unit list and the data
    fingerprint of every unit (`fingerprints`, :func:`~iseg_bench.execution.fingerprint.
    unit_fingerprints`; not compared for a run stored without them).
    """
    then, now = _plain(RunConfig.from_json(stored).identity()), _plain(config.identity())
    problems = [f"setting {key!r}: the run has {then.get(key)!r}, this command has "
                f"{now.get(key)!r}" for key in _changed_keys(then, now)]
    v_then, v_now = stored.get("versions", {}), versions()
    problems += [f"version of {key}: the run used {v_then.get(key)!r}, this environment has "
                 f"{v_now.get(key)!r}" for key in _changed_keys(v_then, v_now)]
    stored_units = stored.get("units")
    if stored_units is not None and stored_units != unit_ids:
        problems.append(_unit_difference(stored_units, unit_ids))
    stored_prints = stored.get(DATA_FINGERPRINTS)
    if stored_prints is not None:
        changed = [u for u in unit_ids
                   if u in stored_prints and stored_prints[u] != fingerprints.get(u)]
        if changed:
            problems.append(_data_difference(changed))
    return problems


def check_resume(out_dir: Path, config: RunConfig, units: list[Unit],
                 fingerprints: dict[str, str]) -> dict[str, Any]:
    """The stored config.json of `out_dir`, after checking it matches `config`, `units` and
    the units' data `fingerprints`.

    Raises:
        IsegBenchError: `out_dir` holds no run.
        ConfigMismatchError: the message lists every differing setting.
    """
    stored = read_config(out_dir)
    if stored is None:
        raise IsegBenchError(f"cannot resume {out_dir}: it holds no run ({CONFIG} "
                             "missing); start it without --resume")
    problems = resume_mismatches(stored, config, [u.unit_id for u in units], fingerprints)
    if problems:
        raise ConfigMismatchError(f"cannot resume {out_dir}: this command differs from the "
                                  "interrupted run:\n  - " + "\n  - ".join(problems))
    return stored

"""What the command line tells a user when something did not finish: an OSError in one
line, the command that continues a run, why a run folder has no summary (a run still
writing it, a process that died), and the note a ``--resume`` prints about how the previous
attempt ended."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

from iseg_bench.errors import NotARunError
from iseg_bench.execution.crash import how_it_ended
from iseg_bench.run_folder import CONFIG, SUMMARY, read_config

#: RunConfig field -> its `run` flag, for the fields written as one flag with one value
_FLAGS = (("model", "--model"), ("dataset", "--dataset"), ("protocol", "--protocol"),
          ("robot", "--robot"), ("max_interactions", "--max-clicks"),
          ("prob_threshold", "--prob-threshold"), ("stop_at_iou", "--stop-at-iou"),
          ("compat", "--compat"), ("seed", "--seed"), ("limit", "--limit"),
          ("data_root", "--data-root"))
#: RunConfig option fields and their repeatable `run` flags
_OPTION_FLAGS = (("model_options", "--model-opt"), ("robot_options", "--robot-opt"),
                 ("dataset_options", "--dataset-opt"), ("protocol_options", "--protocol-opt"))


def os_error_message(err: OSError) -> str:
    """One line for an OSError: what failed, on which file, and the likely causes."""
    where = f" ({err.filename})" if err.filename else ""
    return (f"I/O error{where}: {err.strerror or err}; check that the disk is not full and "
            "the folder exists and is writable")


def resume_command(stored: dict[str, Any], out_dir: Path) -> str:
    """The shell command that continues the run whose config.json is `stored` in `out_dir`:
    ``iseg-bench run`` with every stored setting (options as JSON values) and ``--resume``.
    """
    args = ["iseg-bench", "run"]
    for key, flag in _FLAGS:
        if stored.get(key) is not None:
            args += [flag, str(stored[key])]
    if stored.get("iou_thresholds"):
        args += ["--iou-thresholds", ",".join(str(t) for t in stored["iou_thresholds"])]
    for key, flag in _OPTION_FLAGS:
        for name, value in (stored.get(key) or {}).items():
            args += [flag, f"{name}={json.dumps(value)}"]
    args += ["--resume", str(out_dir)]
    return " ".join(shlex.quote(a) for a in args)


def unfinished_run_note(out_dir: Path) -> str | None:
    """For a run folder whose last process died (killed, crashed), a note naming what it
    was doing and, for a crash in this process, how to make a crash cost its sample only;
    None otherwise."""
    ended = how_it_ended(out_dir)
    if ended is None or ended.startswith("a run is writing"):
        return None
    return (f"the previous run in {out_dir}: {ended}. If the model crashes the process on "
            "that sample again, resume with --workers 2 (or --sample-timeout SECONDS): in a "
            "worker process a crash costs its sample only")


def check_finished(path: Path) -> None:
    """Refuse a run folder without summary.json that holds an unfinished run, saying why it
    has none and the command that continues it (other paths are left to ``load_run``).

    Raises:
        NotARunError: `path` holds config.json but no summary.json.
    """
    path = Path(path)
    if not path.is_dir() or (path / SUMMARY).exists() or not (path / CONFIG).exists():
        return
    ended = how_it_ended(path) or "it stopped before writing its summary"
    stored = read_config(path) or {}
    raise NotARunError(f"{path} is an unfinished run (no {SUMMARY}): {ended}; continue it "
                       f"with: {resume_command(stored, path)}")

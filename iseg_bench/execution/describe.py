"""What a run's config.json says about the parts it ran (``docs/execution.md``, Run
identity): the ``describe()`` of its model, robot and dataset, the model's class, and the
size and SHA-256 of every weights file the model names.

Constants: ``CHECKPOINT_KEYS``, the keys of a model's ``describe()`` that name its weights;
``CHUNK_BYTES``, the bytes hashed at a time.
"""

from __future__ import annotations

import glob
import hashlib
import json
from pathlib import Path
from typing import Any

from iseg_bench.protocols.base import WorkerContext
from iseg_bench.run_folder import CONFIG, read_config, write_json

#: keys of a model's describe() whose value, a path, names the weights it loaded
CHECKPOINT_KEYS = ("checkpoint", "weights")
#: bytes read at a time while hashing a weights file
CHUNK_BYTES = 1 << 20
#: key of config.json holding the description
DESCRIBE = "describe"


def _describe(part: Any) -> dict[str, Any]:
    """``part.describe()`` as plain JSON values (anything else as its ``str``); {} for a
    part without one (a duck-typed user adapter); ``{"describe_error": ...}`` when it
    raises: the description documents a run, it never stops one."""
    describe = getattr(part, "describe", None)
    if not callable(describe):
        return {}
    try:
        plain: dict[str, Any] = json.loads(json.dumps(dict(describe()), default=str))
    except Exception as exc:  # a faulty describe() of a user's model
        return {"describe_error": f"{type(exc).__name__}: {exc}"}
    return plain


def describe_context(ctx: WorkerContext) -> dict[str, Any]:
    """{"model": its class ("module:Class") and ``describe()``, "robot": ..., "dataset":
    ...}: plain JSON values, cheap (no file is read)."""
    model = type(ctx.adapter)
    return {"model": {"class": f"{model.__module__}:{model.__qualname__}",
                      **_describe(ctx.adapter)},
            "robot": _describe(ctx.robot), "dataset": _describe(ctx.dataset)}


def _sha256(path: Path) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            sha.update(chunk)
    return sha.hexdigest()


def weight_files(value: str) -> list[dict[str, Any]]:
    """{"path", "bytes", "sha256"} of each file a weights path names: the file itself; every
    file under a folder (sorted); for a stem X that is no file, the files X.* beside it
    (X.safetensors + X.json). [] when nothing is there (e.g. "random-init").

    Raises:
        OSError: a file cannot be read.
    """
    p = Path(value)
    if p.is_file():
        files = [p]
    elif p.is_dir():
        files = sorted(f for f in p.rglob("*") if f.is_file())
    else:
        files = sorted(Path(f) for f in glob.glob(glob.escape(str(p)) + ".*"))
    return [{"path": str(f), "bytes": f.stat().st_size, "sha256": _sha256(f)} for f in files]


def with_weight_files(description: dict[str, Any]) -> dict[str, Any]:
    """`description` (of :func:`describe_context`) with ``model["weight_files"]`` listing the
    files of every ``CHECKPOINT_KEYS`` path the model names (absent when none).

    Raises:
        OSError: a weights file cannot be read.
    """
    model = dict(description.get("model") or {})
    files = [f for key in CHECKPOINT_KEYS if isinstance(model.get(key), str)
             for f in weight_files(model[key])]
    if files:
        model["weight_files"] = files
    return {**description, "model": model}


def record_description(out_dir: Path, description: dict[str, Any]) -> None:
    """Add `description` (with its weight files) to config.json of `out_dir` as
    ``describe``, once: a config.json that has one already is left as it is.

    Raises:
        RunFolderError: config.json is damaged; OSError: a weights file cannot be read.
    """
    stored = read_config(out_dir)
    if stored is None or DESCRIBE in stored:
        return
    write_json(Path(out_dir) / CONFIG, {**stored, DESCRIBE: with_weight_files(description)})

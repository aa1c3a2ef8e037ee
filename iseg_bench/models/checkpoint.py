"""Checkpoints: weights as safetensors plus a JSON that rebuilds the architecture, and the
weights-folder lookup of the adapters (``docs/models/torch-models.md``).

Constants: ``FORMAT`` = "iseg-bench-model/1", ``WEIGHTS_ENV`` = "ISEG_BENCH_WEIGHTS".
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from iseg_bench.errors import AdapterError

FORMAT = "iseg-bench-model/1"
WEIGHTS_ENV = "ISEG_BENCH_WEIGHTS"


def checkpoint_paths(path: str | os.PathLike) -> tuple[Path, Path]:
    """(weights .safetensors, architecture .json) for a checkpoint path, stem or folder."""
    p = Path(path)
    if p.is_dir():
        return p / "model.safetensors", p / "model.json"
    if p.suffix in (".safetensors", ".json"):
        p = p.with_suffix("")
    return p.with_suffix(".safetensors"), p.with_suffix(".json")


def save_checkpoint(model, path: str | os.PathLike, variant: str = "",
                    meta: dict[str, Any] | None = None) -> Path:
    """Write ``path`` (.safetensors + .json). Returns the weights path."""
    from safetensors.torch import save_model

    weights, arch = checkpoint_paths(path)
    weights.parent.mkdir(parents=True, exist_ok=True)
    save_model(model, str(weights))
    arch.write_text(json.dumps({"format": FORMAT, "model_type": model.model_type,
                                "variant": variant, "config": model.config.to_dict(),
                                "meta": meta or {}}, indent=2))
    return weights


def read_architecture(path: str | os.PathLike) -> dict[str, Any]:
    """The JSON of a checkpoint; AdapterError when missing or not ours."""
    _, arch = checkpoint_paths(path)
    if not arch.is_file():
        raise AdapterError(f"checkpoint architecture file {arch} is missing: a checkpoint is a "
                           ".safetensors file with its .json beside it (written by "
                           "`iseg-bench train`)")
    data = json.loads(arch.read_text())
    if data.get("format") != FORMAT:
        raise AdapterError(f"{arch} is not an iseg-bench model checkpoint "
                           f"(format {data.get('format')!r})")
    return data


def load_checkpoint(path: str | os.PathLike, device: Any = "cpu"):
    """Rebuild the model from the JSON and load the safetensors weights (strict).

    Returns (model in eval mode on `device`, architecture dict)."""
    from safetensors.torch import load_model

    from iseg_bench.models.zoo import config_from_dict, model_class

    weights, _ = checkpoint_paths(path)
    data = read_architecture(path)
    if not weights.is_file():
        raise AdapterError(f"checkpoint weights {weights} are missing")
    model = model_class(data["model_type"])(config_from_dict(data["model_type"], data["config"]))
    missing, unexpected = load_model(model, str(weights), strict=False)
    if missing or unexpected:
        raise AdapterError(f"checkpoint {weights} does not fit its architecture: missing "
                           f"{sorted(missing)[:5]}, unexpected {sorted(unexpected)[:5]}")
    return model.to(device).eval(), data


def find_weights(variant: str) -> Path | None:
    """A checkpoint for `variant` in $ISEG_BENCH_WEIGHTS, or None."""
    root = os.environ.get(WEIGHTS_ENV)
    if not root:
        return None
    for cand in (Path(root) / f"{variant}.safetensors", Path(root) / variant / "model.safetensors"):
        if cand.is_file():
            return cand
    return None

"""Device and precision selection for the bundled models: ``auto|cpu|cuda|cuda:i`` and
bfloat16 autocast on CUDA (``docs/models/torch-models.md``)."""

from __future__ import annotations

import contextlib
import warnings

import torch

from iseg_bench.errors import AdapterError


def resolve_device(spec: str | torch.device | None = "auto") -> torch.device:
    """A torch.device for "auto", "cpu", "cuda" or "cuda:i"; AdapterError when unusable."""
    if isinstance(spec, torch.device):
        return spec
    spec = (spec or "auto").strip().lower()
    if spec == "auto":
        return torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    if spec == "cpu":
        return torch.device("cpu")
    if spec.startswith("cuda"):
        if not torch.cuda.is_available():
            raise AdapterError(f"--device {spec}: CUDA is not available in this torch build or "
                               "machine; use --device cpu or auto")
        dev = torch.device(spec)
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise AdapterError(f"--device {spec}: only {torch.cuda.device_count()} CUDA device(s)")
        return dev
    raise AdapterError(f"unknown device {spec!r}; use auto, cpu, cuda or cuda:<index>")


def autocast(device: torch.device, bf16: bool):
    """A context manager: bf16 autocast on CUDA when asked, else a no-op."""
    if bf16 and device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    if bf16:
        warnings.warn("bf16 autocast is only used on CUDA; running in float32 on the CPU",
                      stacklevel=2)
    return contextlib.nullcontext()


def as_bool(value) -> bool:
    """Coerce a --model-opt string ("true", "1", "no", ...) or a bool to bool."""
    if isinstance(value, str):
        v = value.strip().lower()
        if v in ("1", "true", "yes", "y", "on"):
            return True
        if v in ("0", "false", "no", "n", "off", ""):
            return False
        raise AdapterError(f"expected a boolean, got {value!r}")
    return bool(value)

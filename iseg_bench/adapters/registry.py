"""Adapter registry: built-in names, the ``iseg_bench.models`` entry-point group, and
``package.module:Factory`` for anything importable.

A factory is called with keyword options (from ``--model-opt key=value``) and returns an
Adapter. Imports happen only when a name is used, so torch is never imported by the core.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import Any, Callable

from iseg_bench.errors import AdapterError

ENTRY_POINT_GROUP = "iseg_bench.models"

BUILTIN_ADAPTERS: dict[str, str] = {
    "grabcut": "iseg_bench.adapters.classical:GrabCutAdapter",
    "random-walker": "iseg_bench.adapters.classical:RandomWalkerAdapter",
    "random-walker-multi": "iseg_bench.adapters.multi_region:RandomWalkerMulti",
    "faulty": "iseg_bench.adapters.faulty:FaultyAdapter",
    "instant": "iseg_bench.adapters.instant:InstantAdapter",
    "color-prior": "iseg_bench.adapters.color_prior:ColorPriorAdapter",
    # bundled PyTorch models (optional extra `models`; issue 7)
    "emc-click": "iseg_bench.adapters.torch_models:emc_click",
    "emc-click-b3": "iseg_bench.adapters.torch_models:emc_click_b3",
    "acc99net": "iseg_bench.adapters.torch_models:acc99net",
}


def _load(spec: str) -> Callable[..., Any]:
    module, _, attr = spec.partition(":")
    try:
        obj = importlib.import_module(module)
    except ImportError as exc:
        raise AdapterError(f"cannot import {module!r} for model {spec!r}: {exc}") from exc
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise AdapterError(f"{module!r} has no attribute {attr!r} (model {spec!r})")
        obj = getattr(obj, part)
    return obj


def available_models() -> dict[str, str]:
    """name -> "module:Factory" for built-in and entry-point models."""
    found = dict(BUILTIN_ADAPTERS)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(ep.name, ep.value)
    return found


def resolve_factory(name: str) -> Callable[..., Any]:
    """The factory for a registered name or a ``package.module:Factory`` path.

    Raises:
        AdapterError: unknown name (the message lists the known ones) or failed import.
    """
    models = available_models()
    if name in models:
        return _load(models[name])
    if ":" in name:
        return _load(name)
    raise AdapterError(f"unknown model {name!r}; known: {', '.join(sorted(models)) or 'none'}; "
                       "or give an importable 'package.module:Factory'")


def build_adapter(name: str, **options: Any):
    """Build the adapter `name` with keyword `options`."""
    return resolve_factory(name)(**options)

"""Model registry: built-in names, the ``iseg_bench.models`` entry-point group, and
``package.module:Factory`` for anything importable.

A factory is called with keyword options (from ``--model-opt key=value``) and returns an
Adapter. Imports happen only when a name is used, so torch is never imported by the core.
"""

from __future__ import annotations

from typing import Any

from iseg_bench.errors import AdapterError
from iseg_bench.registry import Registry

MODELS = Registry("model", {
    "grabcut": "iseg_bench.adapters.classical:GrabCutAdapter",
    "random-walker": "iseg_bench.adapters.classical:RandomWalkerAdapter",
    "random-walker-multi": "iseg_bench.adapters.random_walker_multi:RandomWalkerMulti",
    "faulty": "iseg_bench.adapters.faulty:FaultyAdapter",
    "instant": "iseg_bench.adapters.instant:InstantAdapter",
    "color-prior": "iseg_bench.adapters.color_prior:ColorPriorAdapter",
    # bundled PyTorch models (optional extra `models`)
    "emc-click": "iseg_bench.adapters.torch_models:EMCClickAdapter",
    "emc-click-b3": "iseg_bench.adapters.torch_models:EMCClickB3Adapter",
    "emc-click-hr18s": "iseg_bench.adapters.torch_models:EMCClickHR18sAdapter",
    "emc-click-hr18": "iseg_bench.adapters.torch_models:EMCClickHR18Adapter",
    "emc-click-hr32": "iseg_bench.adapters.torch_models:EMCClickHR32Adapter",
    "acc99net": "iseg_bench.adapters.torch_models:Acc99NetAdapter",
    "ifis": "iseg_bench.adapters.ifis:IFISAdapter",
    "scribbleseg": "iseg_bench.adapters.scribbleseg:ScribbleSegAdapter",
    "scribbleseg-b3": "iseg_bench.adapters.scribbleseg:ScribbleSegB3Adapter",
    "siis": "iseg_bench.adapters.siis:SIISAdapter",
    # Segment Anything through transformers (optional extra `models`)
    "sam": "iseg_bench.adapters.segment_anything:SamAdapter",
    "sam2": "iseg_bench.adapters.segment_anything:Sam2Adapter",
}, entry_point_group="iseg_bench.models", allow_paths=True, load_error=AdapterError)


def build_adapter(name: str, **options: Any) -> Any:
    """Build the adapter `name` (a registered name or "package.module:Factory") with keyword
    `options`.

    Raises:
        UnknownNameError: `name` is neither registered nor a "module:attr" path.
        AdapterError: the factory cannot be imported, or returned None (a factory that
            forgot its ``return``: one error before the run, not a failure per sample).
    """
    adapter = MODELS.resolve(name)(**options)
    if adapter is None:
        raise AdapterError(f"the factory of model {name!r} returned None instead of an "
                           "adapter (a missing `return`?)")
    return adapter

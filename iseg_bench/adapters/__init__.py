"""Adapters: how a model meets the session loop. The single-object and multi-region
interfaces, the model registry and the single-region composition (``docs/adapters.md``).
The bundled torch adapters (``adapters.torch_models``) are not imported here."""

from iseg_bench.adapters.annotation_maps import annotation_maps, paint_annotation, region_boxes
from iseg_bench.adapters.base import (
    OPTIONAL_HOOKS,
    Adapter,
    NoOptions,
    has_hook,
    parse_model_options,
    validate_probability,
)
from iseg_bench.adapters.multi_region import MultiRegionAdapter, to_region_map
from iseg_bench.adapters.registry import MODELS, build_adapter
from iseg_bench.adapters.single_region import (
    CompositionOptions,
    SingleRegionComposition,
    build_multi_region_adapter,
)

__all__ = [
    "MODELS",
    "OPTIONAL_HOOKS",
    "Adapter",
    "CompositionOptions",
    "MultiRegionAdapter",
    "NoOptions",
    "SingleRegionComposition",
    "annotation_maps",
    "build_adapter",
    "build_multi_region_adapter",
    "has_hook",
    "paint_annotation",
    "parse_model_options",
    "region_boxes",
    "to_region_map",
    "validate_probability",
]

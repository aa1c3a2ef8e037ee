"""Geometry of simulated users: error regions, distance transforms, stroke geometry, Bezier
curves and skeleton-graph paths. Robots in ``iseg_bench.robots`` keep only their policies
and call these."""

from iseg_bench.geometry.bezier import bezier_chain, bezier_curve
from iseg_bench.geometry.distance import deepest_point, padded_distance
from iseg_bench.geometry.error_regions import (
    Components,
    ErrorRegion,
    component_at,
    error_masks,
    interaction_error_region,
    label_components,
    largest_error_region,
)
from iseg_bench.geometry.graph_paths import (
    DEFAULT_RADIUS,
    MEDIAL_AXIS_SEED,
    medial_axis,
    skeleton_longest_path,
    skeleton_path,
)
from iseg_bench.geometry.strokes import (
    dedupe,
    erode,
    footprint_radius,
    interaction_pixels,
    longest_run,
    pixels_inside,
    polyline_length,
    rasterize_stroke,
    stroke_footprint,
    stroke_inside,
)

__all__ = [
    "DEFAULT_RADIUS",
    "MEDIAL_AXIS_SEED",
    "Components",
    "ErrorRegion",
    "bezier_chain",
    "bezier_curve",
    "component_at",
    "dedupe",
    "deepest_point",
    "erode",
    "error_masks",
    "footprint_radius",
    "interaction_error_region",
    "interaction_pixels",
    "label_components",
    "largest_error_region",
    "longest_run",
    "medial_axis",
    "padded_distance",
    "pixels_inside",
    "polyline_length",
    "rasterize_stroke",
    "skeleton_longest_path",
    "skeleton_path",
    "stroke_footprint",
    "stroke_inside",
]

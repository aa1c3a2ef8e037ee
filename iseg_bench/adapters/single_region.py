"""Any single-object adapter as a multi-region one: the "single region" baseline of the
full-image protocol, one session per region, and the builder that applies it.

Source: Agustsson, Uijlings and Ferrari, CVPR 2019, Sec. 3.1 (RoI cropping to the box b_i)
and Sec. 5.2-5.3 (the single-region baseline). Conversions, cropping, caching and the
argmax rule: ``docs/adapters.md``.

Constants: ``CompositionOptions`` defaults crop_margin = 0.1, min_margin = 10 px,
scribble_as_click = False (a click-only model is refused unless the user accepts that each
scribble reaches it as one click; ours, the paper composes no click-only model).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from iseg_bench.adapters.annotation_maps import region_boxes
from iseg_bench.adapters.base import Adapter, parse_model_options, validate_probability
from iseg_bench.adapters.multi_region import MultiRegionAdapter
from iseg_bench.adapters.registry import build_adapter
from iseg_bench.errors import AdapterError
from iseg_bench.options import option
from iseg_bench.types import Box, Click, ExtremePoints, Interaction, Scribble


@dataclass(frozen=True)
class CompositionOptions:
    """Options of the single-region composition (given with the wrapped model's options)."""

    crop_margin: float | None = option(
        0.1, "crop margin around each region's box as a fraction of the box's longer side "
             "(none: every session runs on the whole image)")
    min_margin: int = option(10, "smallest crop margin in px")
    scribble_as_click: bool = option(
        False, "accept a click-only model: each scribble reaches it as one positive click "
               "at the scribble's middle vertex (refused unless set)")


def shift_interaction(inter: Interaction, dy: int, dx: int) -> Interaction:
    """The same interaction moved by (-dy, -dx): into a crop whose corner is (dy, dx)."""
    if isinstance(inter, Click):
        return Click(inter.y - dy, inter.x - dx, inter.is_positive, inter.region)
    if isinstance(inter, Box):
        return Box(inter.y0 - dy, inter.x0 - dx, inter.y1 - dy, inter.x1 - dx, inter.region)
    off = np.array([dy, dx], dtype=np.float64)
    if isinstance(inter, Scribble):
        return Scribble(inter.points - off, inter.is_positive, inter.thickness, inter.region)
    return ExtremePoints(inter.points - off, inter.region)


class SingleRegionComposition(MultiRegionAdapter):
    """Any single-object adapter as the paper's "single region" baseline.

    Args:
        adapter: a single-object Adapter (``set_image`` / ``predict``).
        crop_margin: relative crop margin around each region's box, or None (whole image).
        min_margin: smallest crop margin in px.
        label: registry name of the wrapped adapter (for ``describe``).
        scribble_as_click: let an adapter that does not accept scribbles receive each
            scribble as one positive click at its middle vertex.

    Raises:
        AdapterError: the adapter does not accept scribbles and `scribble_as_click` is
            False (the message says how to accept the conversion).
    """

    name = "single-region"
    options_class = CompositionOptions

    def __init__(self, adapter: Adapter, crop_margin: float | None = 0.1, min_margin: int = 10,
                 label: str | None = None, scribble_as_click: bool = False):
        self.adapter = adapter
        self.crop_margin = None if crop_margin is None else float(crop_margin)
        self.min_margin = int(min_margin)
        self.label = label or getattr(adapter, "name", type(adapter).__name__)
        self.accepts_inner: frozenset[str] = getattr(adapter, "accepts", frozenset({"click"}))
        self.scribble_as_click = bool(scribble_as_click)
        if "scribble" not in self.accepts_inner and not self.scribble_as_click:
            raise AdapterError(
                f"{self.label} accepts {sorted(self.accepts_inner)}, not scribbles: the "
                "full-image protocol's corrections are scribbles; pass --model-opt "
                "scribble_as_click=true to give it each scribble as one positive click at "
                "the scribble's middle vertex (recorded in the run's model options)")
        self._image: np.ndarray | None = None
        self._cache: dict[int, tuple[int, np.ndarray]] = {}

    def set_image(self, image: np.ndarray) -> None:
        self._image = image
        self._cache = {}

    def _crop(self, box: tuple[int, int, int, int],
              shape: tuple[int, int]) -> tuple[int, int, int, int]:
        h, w = shape
        if self.crop_margin is None:
            return 0, 0, h, w
        y0, x0, y1, x1 = box
        m = int(round(max(self.min_margin, self.crop_margin * max(y1 - y0 + 1, x1 - x0 + 1))))
        return max(0, y0 - m), max(0, x0 - m), min(h, y1 + m + 1), min(w, x1 + m + 1)

    def _convert(self, inter: Interaction) -> list[Interaction]:
        accepts = self.accepts_inner
        if isinstance(inter, ExtremePoints) and "extreme_points" not in accepts:
            return [Click(int(round(y)), int(round(x)), True, inter.region)
                    for y, x in inter.points]
        if isinstance(inter, Scribble) and "scribble" not in accepts:
            y, x = inter.points[len(inter.points) // 2]
            return [Click(int(round(y)), int(round(x)), True, inter.region)]
        return [inter]

    def predict(self, interactions: Sequence[Interaction], regions: Sequence[int],
                prev: np.ndarray | None) -> np.ndarray:
        """(N, H, W) float32 per-region probabilities, 0 outside each region's crop."""
        if self._image is None:
            raise AdapterError(f"{self.name}: predict called before set_image")
        image = self._image
        h, w = image.shape[:2]
        boxes = region_boxes(interactions)
        probs = np.zeros((len(regions), h, w), dtype=np.float32)
        for k, rid in enumerate(regions):
            own = [c for i in interactions if i.region == rid for c in self._convert(i)]
            if not own:
                continue
            y0, x0, y1, x1 = self._crop(boxes.get(int(rid), (0, 0, h - 1, w - 1)), (h, w))
            cached = self._cache.get(int(rid))
            if cached is not None and cached[0] == len(own):
                crop_prob = cached[1]
            else:
                shifted = [shift_interaction(i, y0, x0) for i in own]
                prev_prob = (cached[1] if cached is not None
                             else np.zeros((y1 - y0, x1 - x0), np.float32))
                self.adapter.set_image(np.ascontiguousarray(image[y0:y1, x0:x1]))
                crop_prob = validate_probability(self.adapter.predict(shifted, prev_prob),
                                                 (y1 - y0, x1 - x0))
                self._cache[int(rid)] = (len(own), crop_prob)
            probs[k, y0:y1, x0:x1] = crop_prob
        return probs

    def describe(self) -> dict[str, Any]:
        inner = self.adapter.describe() if hasattr(self.adapter, "describe") else {}
        converted = {kind: "clicks" for kind in ("extreme_points", "scribble")
                     if kind not in self.accepts_inner}
        return {"name": f"{self.name}({self.label})", "inner": inner,
                "crop_margin": self.crop_margin, "min_margin": self.min_margin,
                "scribble_as_click": self.scribble_as_click, "converted": converted}


def build_multi_region_adapter(name: str, **options: Any) -> MultiRegionAdapter:
    """The multi-region adapter for model `name` (a registry name or 'module:Factory').

    A factory that returns a :class:`MultiRegionAdapter` is used as is; one that returns a
    single-object adapter is composed with :class:`SingleRegionComposition` (the options
    of ``CompositionOptions`` go to the composition, the rest to the factory).

    Raises:
        UnknownNameError: unknown model.
        UsageError: an unknown or invalid option.
        AdapterError: failed import, composition options for a multi-region model, a
            click-only model without ``scribble_as_click``, or an object that is neither
            kind of adapter.
    """
    keys = [f.name for f in dataclasses.fields(CompositionOptions)]
    comp = {k: options.pop(k) for k in keys if k in options}
    model = build_adapter(name, **options)
    if isinstance(model, MultiRegionAdapter):
        if comp:
            raise AdapterError(f"{name} is a multi-region model; {', '.join(keys)} only "
                               "apply to composed single-object models")
        return model
    if callable(getattr(model, "predict", None)) and callable(getattr(model, "set_image", None)):
        opts: CompositionOptions = parse_model_options(CompositionOptions, comp, name)
        return SingleRegionComposition(model, opts.crop_margin, opts.min_margin, label=name,
                                       scribble_as_click=opts.scribble_as_click)
    raise AdapterError(f"model {name!r} built a {type(model).__name__}, which is neither a "
                       "multi-region nor a single-object adapter")

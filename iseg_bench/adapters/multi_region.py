"""Multi-region adapters for the full-image protocol, the annotation-map convention, the
"single region" composition of any single-object adapter, and ``random-walker-multi``.

Source: Agustsson, Uijlings and Ferrari, "Interactive Full Image Segmentation by Considering
All Regions Jointly", CVPR 2019 (below: "the paper").

Annotation-map convention (the paper, Sec. 3.2, Eq. 2, Fig. 3)
    For each region i a binary positive map S_i (H, W) holds every annotation of region i:
    its extreme points painted as discs 6 px in diameter (``EXTREME_POINT_DIAMETER``: the
    pixels whose centre lies within 3 px of the point) and its scribbles painted 3 px wide
    (``SCRIBBLE_WIDTH``, by ``masks.rasterize_stroke``: for width 3 the 1-px centre line
    dilated by the 3x3 cross). The negative map of region i collects all other regions' annotations,
    sum_{j != i} S_j, kept binary ("a single negative binary channel", Fig. 3). The box b_i
    of region i is the tight box of its four extreme points (Sec. 3.1).

Adapter protocol (:class:`MultiRegionAdapter`)
    ``set_image(image)`` once per image, then ``predict(interactions, regions, prev)`` after
    the extreme points and after every round of scribbles, with the image's whole history:
    one ``ExtremePoints`` per region first (tagged with its region id), then every scribble
    (positive for its tagged region). It returns either an (H, W) integer region-id map
    (values in ``regions`` or 0 = no region) or (N, H, W) float per-region probabilities in
    the order of ``regions``; :func:`to_region_map` turns either into the prediction.

Composition (the paper's "single region" baseline, Sec. 5.2-5.3)
    :class:`SingleRegionComposition` runs any single-object :class:`~iseg_bench.adapters.base.
    Adapter` as one session per region: region i sees only its own annotations (extreme
    points and its own scribbles, all positive; no annotation of another region reaches it),
    and every pixel goes to the region with the highest probability (ties: the first region
    in ``regions`` order; a pixel that every region gives probability exactly 0 is left 0).
    Constants and conversions:

    * Extreme points reach an adapter that does not accept ``extreme_points`` as four
      positive clicks at the rounded points, in the order left, right, top, bottom.
    * A scribble reaches an adapter that does not accept ``scribble`` as one positive click
      at the middle vertex of its polyline.
    * ``crop_margin`` (default 0.1): like the paper's single-region model, which only
      predicts inside the box b_i (RoI cropping, Sec. 3.1), each region's session runs on
      the crop of b_i enlarged on every side by max(``min_margin`` = 10 px, crop_margin x
      the longer box side), clipped to the image; its probability is 0 outside the crop.
      ``crop_margin=None`` runs every session on the whole image.
    * A region's session only advances when the region receives new annotations; its
      adapter is called once per round with the region's whole history (all new scribbles of
      the round at once) and its own previous probability map. Regions without new
      annotations keep their previous probability map (adapters are deterministic).

``random-walker-multi`` (:class:`RandomWalkerMulti`)
    One multi-label random walk (Grady 2006, ``skimage.segmentation.random_walker``, mode
    "bf", ``beta`` = 130, scikit-image's default) over the working-resolution image (longest
    side ``max_side`` = 320 px, ``adapters.seeds.WorkingResolution``), seeded by the
    annotation maps of all regions drawn at the working scale (disc radius and stroke width
    scaled, at least 1 px). Where annotations of several regions overlap, the later one in
    the history wins. The per-region probabilities are resized back to (H, W) bilinearly.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
from skimage.segmentation import random_walker

from iseg_bench.adapters.base import Adapter
from iseg_bench.adapters.seeds import WorkingResolution
from iseg_bench.errors import AdapterError, SampleError
from iseg_bench.masks import disk
from iseg_bench.types import Click, ExtremePoints, Interaction, Scribble, rasterize_stroke

EXTREME_POINT_DIAMETER = 6.0  # px, the paper Sec. 3.2 ("a circle which is 6 pixels in diameter")
SCRIBBLE_WIDTH = 3            # px, the paper Sec. 3.2 ("Scribbles are 3 pixels wide")


# ---------------------------------------------------------------------------------------
# Annotation maps (Sec. 3.2)
# ---------------------------------------------------------------------------------------

def paint_extreme_points(points: np.ndarray, shape: tuple[int, int],
                         scale: float = 1.0) -> np.ndarray:
    """(H, W) bool: discs EXTREME_POINT_DIAMETER px across (x `scale`, radius >= 1 px when
    scale < 1) around each (y, x) point of `points` ((K, 2) float, original pixels)."""
    out = np.zeros(shape, dtype=bool)
    radius = EXTREME_POINT_DIAMETER / 2 * scale
    if scale < 1.0:
        radius = max(1.0, radius)
    for y, x in np.asarray(points, dtype=np.float64).reshape(-1, 2) * scale:
        out |= disk(shape, y, x, radius)
    return out


def paint_scribble(points: np.ndarray, shape: tuple[int, int], width: int = SCRIBBLE_WIDTH,
                   scale: float = 1.0) -> np.ndarray:
    """(H, W) bool: the polyline `points` ((N, 2) float (y, x), original pixels, x `scale`)
    painted `width` px wide by ``masks.rasterize_stroke``. At scale < 1 the width is scaled
    and rounded, at least 1 px."""
    w = max(1, int(round(width * scale))) if scale < 1.0 else int(width)
    return rasterize_stroke(np.asarray(points, dtype=np.float64) * scale, w, shape)


def paint_annotation(inter: Interaction, shape: tuple[int, int], scale: float = 1.0) -> np.ndarray:
    """(H, W) bool footprint of one interaction under the paper's convention (extreme
    points: 6-px discs; scribbles: 3 px wide, or the scribble's own thickness when smaller;
    clicks: one extreme-point-sized disc)."""
    if isinstance(inter, ExtremePoints):
        return paint_extreme_points(inter.points, shape, scale)
    if isinstance(inter, Scribble):
        return paint_scribble(inter.points, shape, min(SCRIBBLE_WIDTH, inter.thickness), scale)
    if isinstance(inter, Click):
        return paint_extreme_points(np.array([[inter.y, inter.x]], float), shape, scale)
    raise TypeError(f"cannot paint {type(inter).__name__}")


def annotation_maps(interactions: Sequence[Interaction], regions: Sequence[int],
                    shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """The paper's two-channel annotation maps F_i = (S_i, sum_{j != i} S_j) (Eq. 2).

    Args:
        interactions: the image's history; each carries ``region`` (an id in `regions`).
        regions: the N region ids, fixing the channel order.
        shape: (H, W).

    Returns:
        (positive, negative): two (N, H, W) bool arrays; negative[i] is the union of the
        positive maps of all other regions (binary).

    Raises:
        SampleError: an interaction without a region or with an unknown region.
    """
    index = {int(r): k for k, r in enumerate(regions)}
    pos = np.zeros((len(regions), *shape), dtype=bool)
    for inter in interactions:
        k = index.get(inter.region if inter.region is None else int(inter.region))
        if k is None:
            raise SampleError(f"annotation tagged with region {inter.region!r}, not one of "
                              f"the image's regions")
        pos[k] |= paint_annotation(inter, shape)
    total = pos.sum(axis=0)
    neg = (total[None] - pos.astype(np.int32)) > 0
    return pos, neg


def region_boxes(interactions: Sequence[Interaction]) -> dict[int, tuple[int, int, int, int]]:
    """{region id: (y0, x0, y1, x1)} inclusive integer box of each region's extreme points
    (the boxes b_i of the paper, Sec. 3.1)."""
    out = {}
    for inter in interactions:
        if isinstance(inter, ExtremePoints):
            p = np.round(inter.points).astype(int)
            out[int(inter.region)] = (int(p[:, 0].min()), int(p[:, 1].min()),
                                      int(p[:, 0].max()), int(p[:, 1].max()))
    return out


def to_region_map(output: Any, regions: Sequence[int], shape: tuple[int, int]) -> np.ndarray:
    """Validate a multi-region model output and return the (H, W) int32 region-id map.

    Args:
        output: (H, W) integer map with values in `regions` or 0, or (N, H, W) float
            probabilities (finite, >= 0) in `regions` order; argmax per pixel, ties to the
            first region, and 0 where every probability is exactly 0.
        regions: the N region ids.
        shape: (H, W).

    Raises:
        SampleError: wrong type, shape, dtype, value or NaN, with what was expected.
    """
    if not isinstance(output, np.ndarray):
        raise SampleError(f"model returned {type(output).__name__}, expected a numpy array")
    ids = np.asarray(list(regions), dtype=np.int32)
    if output.ndim == 2:
        if output.shape != shape or not np.issubdtype(output.dtype, np.integer):
            raise SampleError(f"model returned a {output.shape} {output.dtype} map, expected "
                              f"{shape} integer region ids")
        bad = ~np.isin(output, np.append(ids, 0))
        if bad.any():
            raise SampleError(f"model returned region ids {np.unique(output[bad])[:5]} that "
                              "are not among the image's regions")
        return output.astype(np.int32, copy=False)
    if output.shape != (len(ids), *shape) or not np.issubdtype(output.dtype, np.floating):
        raise SampleError(f"model returned {output.shape} {output.dtype}, expected "
                          f"({len(ids)}, {shape[0]}, {shape[1]}) float probabilities")
    if not np.isfinite(output).all() or output.min() < 0:
        raise SampleError("model returned NaN, inf or negative region probabilities")
    best = output.argmax(axis=0)
    out = ids[best]
    out[output.max(axis=0) <= 0] = 0
    return out.astype(np.int32)


# ---------------------------------------------------------------------------------------
# The adapter protocol
# ---------------------------------------------------------------------------------------

class MultiRegionAdapter(ABC):
    """Base class of multi-region (full-image) adapters (see the module docstring).

    Class attributes:
        name: registry name.
        accepts: interaction kinds understood: {"extreme_points", "scribble"}.
    """

    name: ClassVar[str] = "multi-region"
    accepts: ClassVar[frozenset[str]] = frozenset({"extreme_points", "scribble"})

    @abstractmethod
    def set_image(self, image: np.ndarray) -> None:
        """Start a new image. image: (H, W, 3) uint8 RGB."""

    @abstractmethod
    def predict(self, interactions: Sequence[Interaction], regions: Sequence[int],
                prev: np.ndarray | None) -> np.ndarray:
        """The segmentation of every region after the given annotations.

        Args:
            interactions: the image's whole history, oldest first: one ExtremePoints per
                region, then the scribbles; every item tagged with its region id.
            regions: the N region ids (order of a probability output).
            prev: (H, W) int32 previous region map, None before the first call.

        Returns:
            (H, W) integer region ids (0 = none) or (N, H, W) float probabilities.
        """

    def describe(self) -> dict:
        """Settings that identify this adapter (JSON-serialisable)."""
        return {"name": self.name}


def shift_interaction(inter: Interaction, dy: int, dx: int) -> Interaction:
    """The same interaction moved by (-dy, -dx): into a crop whose corner is (dy, dx)."""
    if isinstance(inter, Click):
        return Click(inter.y - dy, inter.x - dx, inter.is_positive, inter.region)
    off = np.array([dy, dx], dtype=np.float64)
    if isinstance(inter, Scribble):
        return Scribble(inter.points - off, inter.is_positive, inter.thickness, inter.region)
    return ExtremePoints(inter.points - off, inter.region)


class SingleRegionComposition(MultiRegionAdapter):
    """Any single-object adapter as the paper's "single region" baseline (module docstring).

    Args:
        adapter: a single-object Adapter (``set_image`` / ``predict``).
        crop_margin: relative crop margin around each region's box, or None (whole image).
        min_margin: smallest crop margin in px.
        label: registry name of the wrapped adapter (for ``describe``).
    """

    name = "single-region"

    def __init__(self, adapter: Adapter, crop_margin: float | None = 0.1, min_margin: int = 10,
                 label: str | None = None):
        self.adapter = adapter
        self.crop_margin = None if crop_margin is None else float(crop_margin)
        self.min_margin = int(min_margin)
        self.label = label or getattr(adapter, "name", type(adapter).__name__)
        self._image: np.ndarray | None = None
        self._cache: dict[int, tuple[int, np.ndarray]] = {}

    def set_image(self, image: np.ndarray) -> None:
        self._image = image
        self._cache = {}

    def _crop(self, box: tuple[int, int, int, int]) -> tuple[int, int, int, int]:
        h, w = self._image.shape[:2]
        if self.crop_margin is None:
            return 0, 0, h, w
        y0, x0, y1, x1 = box
        m = int(round(max(self.min_margin, self.crop_margin * max(y1 - y0 + 1, x1 - x0 + 1))))
        return max(0, y0 - m), max(0, x0 - m), min(h, y1 + m + 1), min(w, x1 + m + 1)

    def _convert(self, inter: Interaction) -> list[Interaction]:
        accepts = getattr(self.adapter, "accepts", frozenset({"click"}))
        if isinstance(inter, ExtremePoints) and "extreme_points" not in accepts:
            return [Click(int(round(y)), int(round(x)), True, inter.region)
                    for y, x in inter.points]
        if isinstance(inter, Scribble) and "scribble" not in accepts:
            y, x = inter.points[len(inter.points) // 2]
            return [Click(int(round(y)), int(round(x)), True, inter.region)]
        return [inter]

    def predict(self, interactions, regions, prev):
        from iseg_bench.adapters.base import validate_probability

        h, w = self._image.shape[:2]
        boxes = region_boxes(interactions)
        probs = np.zeros((len(regions), h, w), dtype=np.float32)
        for k, rid in enumerate(regions):
            own = [c for i in interactions if i.region == rid for c in self._convert(i)]
            if not own:
                continue
            y0, x0, y1, x1 = self._crop(boxes.get(int(rid), (0, 0, h - 1, w - 1)))
            cached = self._cache.get(int(rid))
            if cached is not None and cached[0] == len(own):
                crop_prob = cached[1]
            else:
                shifted = [shift_interaction(i, y0, x0) for i in own]
                prev_prob = (cached[1] if cached is not None
                             else np.zeros((y1 - y0, x1 - x0), np.float32))
                self.adapter.set_image(np.ascontiguousarray(self._image[y0:y1, x0:x1]))
                crop_prob = validate_probability(self.adapter.predict(shifted, prev_prob),
                                                 (y1 - y0, x1 - x0))
                self._cache[int(rid)] = (len(own), crop_prob)
            probs[k, y0:y1, x0:x1] = crop_prob
        return probs

    def describe(self) -> dict:
        inner = self.adapter.describe() if hasattr(self.adapter, "describe") else {}
        return {"name": f"{self.name}({self.label})", "inner": inner,
                "crop_margin": self.crop_margin, "min_margin": self.min_margin}


class RandomWalkerMulti(MultiRegionAdapter):
    """One multi-label random walk seeded by all regions' annotations (module docstring).

    Args:
        beta: random-walker edge weight parameter (scikit-image default 130).
        max_side: longest side of the working resolution in px.
    """

    name = "random-walker-multi"

    def __init__(self, beta: float = 130.0, max_side: int = 320):
        self.beta = float(beta)
        self.max_side = int(max_side)
        self._work: WorkingResolution | None = None
        self._image: np.ndarray | None = None

    def set_image(self, image: np.ndarray) -> None:
        self._work = WorkingResolution(image.shape[:2], self.max_side)
        self._image = self._work.down(image).astype(np.float64) / 255.0

    def seed_labels(self, interactions: Sequence[Interaction],
                    regions: Sequence[int]) -> np.ndarray:
        """(h, w) int32 working-resolution seeds: k + 1 for region regions[k], 0 unseeded;
        later annotations overwrite earlier ones."""
        index = {int(r): k for k, r in enumerate(regions)}
        labels = np.zeros(self._work.work_shape, dtype=np.int32)
        for inter in interactions:
            labels[paint_annotation(inter, self._work.work_shape, self._work.scale)] = \
                index[int(inter.region)] + 1
        return labels

    def predict(self, interactions, regions, prev):
        labels = self.seed_labels(interactions, regions)
        h, w = self._work.shape
        out = np.zeros((len(regions), h, w), dtype=np.float32)
        present = np.unique(labels[labels > 0])
        if len(present) == 0:
            return out
        if len(present) == 1 or (labels > 0).all():
            for lab in present:
                out[lab - 1] = self._work.up((labels == lab).astype(np.float32))
            return out
        # random_walker numbers the present labels 1..L in sorted order
        prob = random_walker(self._image, labels, beta=self.beta, mode="bf",
                             channel_axis=-1, return_full_prob=True)
        for j, lab in enumerate(present):
            out[lab - 1] = self._work.up(prob[j].astype(np.float32))
        return out

    def describe(self) -> dict:
        return {"name": self.name, "beta": self.beta, "max_side": self.max_side}


def build_multi_region_adapter(name: str, **options: Any) -> MultiRegionAdapter:
    """The multi-region adapter for model `name` (a registry name or 'module:Factory').

    A factory that returns a :class:`MultiRegionAdapter` is used as is; one that returns a
    single-object adapter is composed with :class:`SingleRegionComposition` (options
    ``crop_margin`` and ``min_margin`` go to the composition, the rest to the factory).

    Raises:
        AdapterError: unknown model, failed import, or an object that is neither.
    """
    from iseg_bench.adapters.registry import build_adapter

    comp = {k: options.pop(k) for k in ("crop_margin", "min_margin") if k in options}
    model = build_adapter(name, **options)
    if isinstance(model, MultiRegionAdapter):
        if comp:
            raise AdapterError(f"{name} is a multi-region model; crop_margin/min_margin only "
                               "apply to composed single-object models")
        return model
    if callable(getattr(model, "predict", None)) and callable(getattr(model, "set_image", None)):
        return SingleRegionComposition(model, label=name, **comp)
    raise AdapterError(f"model {name!r} built a {type(model).__name__}, which is neither a "
                       "multi-region nor a single-object adapter")

"""``synthetic-categories``: generated objects in categories that share a colour model, for
the sequential protocol (SIIS, Lin et al., Sec. 3.2-3.3). Scene and random streams:
``docs/datasets.md``.

Constants: ``MIN_COLOUR_GAP`` = 90 (RGB distance of background colours from the category
colours), ``TWO_OBJECT_PROB`` = 0.3, ``MOTTLE_SIGMA`` = 6 px, ``OBJECT_GRAIN`` = 10 and
``BACKGROUND_GRAIN`` = 12 (pixel-noise std), ``FINAL_BLUR_SIGMA`` = 0.8.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from iseg_bench.datasets.base import GeneratedDataset, SampleRef
from iseg_bench.options import option
from iseg_bench.types import Sample

MIN_COLOUR_GAP = 90.0
TWO_OBJECT_PROB = 0.3
MOTTLE_SIGMA = 6.0
OBJECT_GRAIN, BACKGROUND_GRAIN = 10.0, 12.0
FINAL_BLUR_SIGMA = 0.8


def _mottle(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """(H, W, 1) float32 low-frequency noise in [0, 1] (white noise blurred, stretched)."""
    field = cv2.GaussianBlur(rng.standard_normal(shape).astype(np.float32), (0, 0), MOTTLE_SIGMA)
    lo, hi = float(field.min()), float(field.max())
    return ((field - lo) / max(hi - lo, 1e-6))[..., None]


def _texture(rng: np.random.Generator, shape: tuple[int, int], a: np.ndarray, b: np.ndarray,
             grain: float) -> np.ndarray:
    """(H, W, 3) float32: colours a and b mixed by mottling noise, plus pixel noise."""
    mix = _mottle(rng, shape)
    out: np.ndarray = (a * (1 - mix) + b * mix
                       + rng.normal(0, grain, (*shape, 3))).astype(np.float32)
    return out


def _far_colour(rng: np.random.Generator, avoid: list[np.ndarray]) -> np.ndarray:
    """A random RGB colour at least MIN_COLOUR_GAP from every colour in `avoid`."""
    for _ in range(1000):
        c = rng.uniform(20, 235, 3)
        if all(np.linalg.norm(c - a) >= MIN_COLOUR_GAP for a in avoid):
            return c
    raise RuntimeError("no colour far enough from the category colours")


def category_colours(seed: int, c: int) -> tuple[np.ndarray, np.ndarray]:
    """The two RGB colours (float64 (3,)) shared by every object of category c."""
    rng = np.random.default_rng([int(seed), int(c)])
    a = rng.uniform(30, 225, 3)
    b = np.clip(a + rng.uniform(-40, 40, 3), 0, 255)
    return a, b


def _layout(seed: int, c: int, i: int, shape: tuple[int, int]) -> list[tuple[float, float, float]]:
    """[(centre y, centre x, radius)] of the objects of image i of category c."""
    rng = np.random.default_rng([int(seed), int(c), int(i), 0])
    h, w = shape

    def r() -> float:
        return float(rng.uniform(0.14, 0.2) * min(h, w))

    if rng.random() < TWO_OBJECT_PROB:
        return [(float(rng.uniform(0.35, 0.65) * h), 0.27 * w, r()),
                (float(rng.uniform(0.35, 0.65) * h), 0.73 * w, r())]
    return [(float(rng.uniform(0.3, 0.7) * h), float(rng.uniform(0.3, 0.7) * w), r())]


def _object_mask(rng: np.random.Generator, shape: tuple[int, int], cy: float, cx: float,
                 radius: float) -> np.ndarray:
    """(H, W) bool: an ellipse joined with a star polygon, within `radius` of (cy, cx)."""
    canvas = np.zeros(shape, np.uint8)
    axes = (max(2, int(radius * rng.uniform(0.7, 1.0))),
            max(2, int(radius * rng.uniform(0.5, 0.9))))
    cv2.ellipse(canvas, (int(cx), int(cy)), axes, float(rng.uniform(0, 180)), 0, 360, 1, -1)
    n = int(rng.integers(5, 9))
    ang = np.sort(rng.uniform(0, 2 * np.pi, n))
    rad = radius * rng.uniform(0.5, 1.0, n)
    poly = np.stack([cx + rad * np.cos(ang), cy + rad * np.sin(ang)], 1).round().astype(np.int32)
    cv2.fillPoly(canvas, [poly], 1)
    return canvas.astype(bool)


def render_image(seed: int, c: int, i: int, shape: tuple[int, int]
                 ) -> tuple[np.ndarray, list[np.ndarray]]:
    """Image i of category c: ((H, W, 3) uint8 RGB, [(H, W) bool mask per object])."""
    a, b = category_colours(seed, c)
    rng = np.random.default_rng([int(seed), int(c), int(i), 1])
    bg = _far_colour(rng, [a, b])
    image = _texture(rng, shape, bg, np.clip(bg + rng.uniform(-35, 35, 3), 0, 255),
                     BACKGROUND_GRAIN)
    for _ in range(int(rng.integers(1, 4))):
        blob = np.zeros(shape, np.uint8)
        rr = rng.uniform(0.08, 0.16) * min(shape)
        cv2.ellipse(blob, (int(rng.uniform(0, shape[1])), int(rng.uniform(0, shape[0]))),
                    (int(rr), int(rr * rng.uniform(0.5, 1.0))), float(rng.uniform(0, 180)),
                    0, 360, 1, -1)
        tint = _far_colour(rng, [a, b])
        inside = blob.astype(bool)
        image[inside] = _texture(rng, shape, tint, tint, BACKGROUND_GRAIN)[inside]
    masks = []
    for cy, cx, radius in _layout(seed, c, i, shape):
        m = _object_mask(rng, shape, cy, cx, radius)
        image[m] = _texture(rng, shape, a, b, OBJECT_GRAIN)[m]
        masks.append(m)
    image = cv2.GaussianBlur(image, (0, 0), FINAL_BLUR_SIGMA)
    return np.clip(image, 0, 255).astype(np.uint8), masks


@dataclass(frozen=True)
class SyntheticCategoriesOptions:
    """Options of the ``synthetic-categories`` dataset."""

    seed: int = option(0, "seed of every image's generator")
    n_categories: int = option(4, "number of categories (>= 1)")
    per_category: int = option(10, "images per category (>= 1); each image gives one "
                                   "sample per object, 1 or 2")
    size: tuple[int, ...] = option((160, 200), "image size H,W in px (each >= 48)")


class SyntheticCategoriesDataset(GeneratedDataset):
    """Seeded synthetic objects in categories that share a colour model (no files).

    Options: ``SyntheticCategoriesOptions``.

    Samples are ordered by category, image, object. Each: image (H, W, 3) uint8 RGB, target
    (H, W) bool, ignore all False, meta {"category": "cat<cc>", "is_thing": True,
    "image_id": "<cc>_<iii>", "instance": k}; sample id
    ``synthcat_<seed>_<cc>_<iii>_<k>``.

    Raises:
        DatasetError: on an unknown or invalid option.
    """

    name = "synthetic-categories"
    source = "generated by iseg_bench.datasets.synthetic_categories"

    options_class = SyntheticCategoriesOptions

    def __init__(self, **options: Any):
        """Raises UsageError on an unknown option, DatasetError on an invalid value."""
        opts: SyntheticCategoriesOptions = self.parse_options(options)
        n_categories, per_category, size = opts.n_categories, opts.per_category, opts.size
        h, w = (int(v) for v in size)
        self.require(n_categories >= 1 and per_category >= 1 and h >= 48 and w >= 48,
                     "n_categories >= 1, per_category >= 1, size >= (48, 48)",
                     (n_categories, per_category, size))
        self.seed, self.size = opts.seed, (h, w)
        self.n_categories, self.per_category = n_categories, per_category
        refs = []
        for c in range(self.n_categories):
            for i in range(self.per_category):
                for k in range(len(_layout(self.seed, c, i, self.size))):
                    refs.append(SampleRef(f"synthcat_{self.seed}_{c:02d}_{i:03d}_{k}", (),
                                          {"category": f"cat{c:02d}", "is_thing": True,
                                           "image_id": f"{c:02d}_{i:03d}", "instance": k,
                                           "c": c, "i": i}))
        super().__init__(refs)

    def load(self, index: int) -> Sample:
        """Render sample `index`; IndexError out of range."""
        ref = self.refs[range(len(self.refs))[index]]
        image, masks = render_image(self.seed, ref.meta["c"], ref.meta["i"], self.size)
        meta = {k: ref.meta[k] for k in ("category", "is_thing", "image_id", "instance")}
        return Sample(image=image, target=masks[ref.meta["instance"]],
                      ignore=np.zeros(self.size, bool), sample_id=ref.sample_id,
                      dataset=self.name, meta=meta)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "seed": self.seed, "n_categories": self.n_categories,
                "per_category": self.per_category, "size": list(self.size)}

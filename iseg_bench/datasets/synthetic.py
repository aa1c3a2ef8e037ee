"""``synthetic``: a generated single-object dataset of textured shapes on textured
backgrounds, so tests, examples and smoke runs need no files (``docs/datasets.md``).

Constants: ``SHAPES``, the shape kinds (also the sample categories).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from scipy import ndimage

from iseg_bench.datasets.base import GeneratedDataset, SampleRef
from iseg_bench.options import option
from iseg_bench.types import Sample

SHAPES = ("ellipse", "polygon", "compound")


def smooth_noise(rng: np.random.Generator, shape: tuple[int, int],
                 scale: float) -> np.ndarray:
    """(H, W) float32 low-frequency noise in [0, 1]: white noise blurred with sigma `scale`
    pixels, then stretched to the full range."""
    field = cv2.GaussianBlur(rng.standard_normal(shape).astype(np.float32), (0, 0), scale)
    lo, hi = float(field.min()), float(field.max())
    return (field - lo) / max(hi - lo, 1e-6)


def textured_layer(rng: np.random.Generator, shape: tuple[int, int], base: np.ndarray,
                   spread: float, grain: float) -> np.ndarray:
    """(H, W, 3) float32 RGB texture: `base` colour mottled towards a second colour up to
    `spread` away, plus Gaussian pixel noise of std `grain`."""
    other = base + rng.uniform(-spread, spread, 3)
    mix = smooth_noise(rng, shape, scale=rng.uniform(4, 16))[..., None]
    layer: np.ndarray = base * (1 - mix) + other * mix + rng.normal(0, grain, (*shape, 3))
    return layer


def random_polygon(rng: np.random.Generator, centre: np.ndarray, radius: float,
                   n_vertices: int) -> np.ndarray:
    """(N, 2) int32 (x, y) vertices of a star-shaped polygon around `centre` (y, x)."""
    angles = np.sort(rng.uniform(0, 2 * np.pi, n_vertices))
    radii = radius * rng.uniform(0.55, 1.0, n_vertices)
    ys = centre[0] + radii * np.sin(angles)
    xs = centre[1] + radii * np.cos(angles)
    return np.round(np.stack([xs, ys], axis=1)).astype(np.int32)


def draw_shape(rng: np.random.Generator, shape: tuple[int, int], kind: str,
               scale: float = 1.0) -> np.ndarray:
    """(H, W) bool mask of one random `kind` shape ("ellipse", "polygon" or "compound",
    an ellipse joined to a polygon), sized `scale` times a quarter of the shorter side."""
    h, w = shape
    radius = scale * min(h, w) * rng.uniform(0.2, 0.32)
    centre = np.array([rng.uniform(0.35, 0.65) * h, rng.uniform(0.35, 0.65) * w])
    canvas = np.zeros(shape, dtype=np.uint8)
    if kind in ("ellipse", "compound"):
        axes = (int(radius * rng.uniform(0.6, 1.0)), int(radius * rng.uniform(0.45, 0.9)))
        cv2.ellipse(canvas, (int(centre[1]), int(centre[0])), axes,
                    float(rng.uniform(0, 180)), 0, 360, 1, thickness=-1)
    if kind in ("polygon", "compound"):
        shift = rng.uniform(-0.6, 0.6, 2) * radius if kind == "compound" else 0.0
        poly = random_polygon(rng, centre + shift, radius * 0.9, int(rng.integers(5, 10)))
        cv2.fillPoly(canvas, [poly], 1)
    return canvas.astype(bool)


def boundary_band(mask: np.ndarray, width: int) -> np.ndarray:
    """(H, W) bool band `width` pixels wide straddling the boundary of `mask`: the inner
    ceil(width / 2) and the outer floor(width / 2) pixels (Euclidean distance)."""
    if width <= 0:
        return np.zeros(mask.shape, dtype=bool)
    inner = mask & (ndimage.distance_transform_edt(mask) <= (width + 1) // 2)
    outer = ~mask & (ndimage.distance_transform_edt(~mask) <= width // 2)
    band: np.ndarray = inner | outer
    return band


def render_sample(rng: np.random.Generator, shape: tuple[int, int]
                  ) -> tuple[np.ndarray, np.ndarray, str]:
    """Draw one scene: ((H, W, 3) uint8 RGB image, (H, W) bool object mask, shape kind)."""
    kind = SHAPES[int(rng.integers(len(SHAPES)))]
    mask = draw_shape(rng, shape, kind)
    bg_colour = rng.uniform(60, 195, 3)
    direction = rng.normal(size=3)
    fg_colour = np.clip(bg_colour + rng.uniform(55, 85) * direction / np.linalg.norm(direction),
                        10, 245)
    image = textured_layer(rng, shape, bg_colour, spread=45, grain=14)
    for _ in range(int(rng.integers(1, 4))):
        blob = draw_shape(rng, shape, "ellipse", scale=0.35)
        blob = np.roll(blob, tuple(rng.integers(-shape[0] // 3, shape[0] // 3 + 1, 2)), (0, 1))
        blob &= ~mask
        tint = bg_colour + rng.uniform(0.3, 0.6) * (fg_colour - bg_colour)
        image[blob] = textured_layer(rng, shape, tint, 25, 14)[blob]
    image[mask] = textured_layer(rng, shape, fg_colour, spread=40, grain=16)[mask]
    image = cv2.GaussianBlur(image, (3, 3), 0.8)
    return np.clip(image, 0, 255).astype(np.uint8), mask, kind


@dataclass(frozen=True)
class SyntheticOptions:
    """Options of the ``synthetic`` dataset."""

    seed: int = option(0, "sample i is drawn from numpy default_rng(seed + i)")
    n_samples: int = option(20, "number of samples (>= 0)")
    size: tuple[int, ...] = option((240, 320), "image size H,W in px (each >= 32)")
    ignore_band: int = option(0, "width in px of an ignore band straddling the object "
                                 "boundary (0 = none)")


class SyntheticDataset(GeneratedDataset):
    """Deterministic synthetic single-object samples (no files needed).

    Options: ``SyntheticOptions``.

    Each sample: image (H, W, 3) uint8 RGB, target (H, W) bool (the whole object, band
    included), ignore (H, W) bool (the band), meta {"category": shape kind, "is_thing":
    True, "seed": seed + index}.
    """

    name = "synthetic"
    source = "generated by iseg_bench.datasets.synthetic"

    options_class = SyntheticOptions

    def __init__(self, **options: Any):
        """Raises UsageError on an unknown option, DatasetError on an invalid value."""
        opts: SyntheticOptions = self.parse_options(options)
        n_samples, size, ignore_band = opts.n_samples, opts.size, opts.ignore_band
        h, w = (int(v) for v in size)
        self.require(n_samples >= 0 and h >= 32 and w >= 32 and ignore_band >= 0,
                     "n_samples >= 0, size >= (32, 32) and ignore_band >= 0",
                     (n_samples, size, ignore_band))
        self.seed, self.size, self.ignore_band = opts.seed, (h, w), ignore_band
        super().__init__([SampleRef(f"synthetic_{self.seed}_{i:04d}")
                          for i in range(n_samples)])

    def load(self, index: int) -> Sample:
        """Generate sample `index` from default_rng(seed + index); IndexError out of range."""
        index = range(len(self.refs))[index]
        ref = self.refs[index]
        rng = np.random.default_rng(self.seed + index)
        image, mask, kind = render_sample(rng, self.size)
        ignore = boundary_band(mask, self.ignore_band)
        return Sample(image=image, target=mask, ignore=ignore, sample_id=ref.sample_id,
                      dataset=self.name,
                      meta={"category": kind, "is_thing": True, "seed": self.seed + index})

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "seed": self.seed, "size": list(self.size),
                "ignore_band": self.ignore_band}

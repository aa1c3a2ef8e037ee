"""``synthetic-panoptic``: a generated full-image (panoptic) dataset of textured stuff
regions and objects, every pixel labelled, so the full-image protocol (Agustsson et al.,
CVPR 2019) runs without downloads. The scene step by step: ``docs/datasets.md``.

Constants: ``STUFF_CATEGORIES``, ``MIN_AREA_FRACTION`` = 0.002 and ``MIN_AREA_PX`` = 40
(smallest kept region), ``WARP`` = 0.35 (warp amplitude of the stuff partition x the
shorter side), ``WARP_SIGMA`` = 12 px (smoothness of the warp noise).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from iseg_bench.datasets.base import GeneratedDataset, SampleRef
from iseg_bench.datasets.synthetic import SHAPES, draw_shape, smooth_noise, textured_layer
from iseg_bench.options import option
from iseg_bench.types import Sample

STUFF_CATEGORIES = ("sky", "grass", "wall", "road", "water", "sand")
MIN_AREA_FRACTION = 0.002
MIN_AREA_PX = 40
WARP = 0.35          # warp amplitude of the stuff partition, x the shorter side
WARP_SIGMA = 12.0    # px, smoothness of the warp noise


def _translate(mask: np.ndarray, dy: float, dx: float) -> np.ndarray:
    """(H, W) bool `mask` moved by (dy, dx) px; what leaves the image is dropped."""
    h, w = mask.shape
    m = np.array([[1, 0, dx], [0, 1, dy]], dtype=np.float32)
    moved = cv2.warpAffine(mask.astype(np.uint8), m, (w, h), flags=cv2.INTER_NEAREST,
                           borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return np.asarray(moved).astype(bool)


def _placed_shape(rng: np.random.Generator, shape: tuple[int, int], scale: float,
                  kind: str) -> np.ndarray:
    mask = draw_shape(rng, shape, kind, scale=scale)
    ys, xs = np.nonzero(mask)
    if len(ys) == 0:
        return mask
    cy, cx = rng.uniform(0, shape[0]), rng.uniform(0, shape[1])
    return _translate(mask, cy - ys.mean(), cx - xs.mean())


def render_panoptic(rng: np.random.Generator, shape: tuple[int, int],
                    n_stuff: tuple[int, int] = (2, 4), n_things: tuple[int, int] = (3, 8),
                    crowd: float = 0.3
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[int, dict[str, Any]]]:
    """Draw one scene (``docs/datasets.md``).

    Returns:
        (image (H, W, 3) uint8 RGB, target (H, W) int32, ignore (H, W) bool, regions info).
    """
    h, w = shape
    k = int(rng.integers(n_stuff[0], n_stuff[1] + 1))
    seeds = np.stack([rng.uniform(0, h, k), rng.uniform(0, w, k)], axis=1)
    yy, xx = np.mgrid[:h, :w].astype(np.float32)
    amp = WARP * min(h, w)
    dist = np.stack([np.hypot(yy - sy, xx - sx) + amp * smooth_noise(rng, shape, WARP_SIGMA)
                     for sy, sx in seeds])
    stuff = dist.argmin(axis=0).astype(np.int32)   # 0..k-1
    labels = stuff + 1                              # provisional ids: stuff 1..k
    info: dict[int, dict[str, Any]] = {
        s + 1: {"category": STUFF_CATEGORIES[int(rng.integers(len(STUFF_CATEGORIES)))],
                "is_thing": False} for s in range(k)}
    n_t = int(rng.integers(n_things[0], n_things[1] + 1))
    for t in range(n_t):
        kind = SHAPES[int(rng.integers(len(SHAPES)))]
        mask = _placed_shape(rng, shape, float(rng.uniform(0.3, 0.8)), kind)
        labels[mask] = k + 1 + t
        info[k + 1 + t] = {"category": kind, "is_thing": True}
    crowd_mask = np.zeros(shape, dtype=bool)
    if rng.uniform() < crowd:
        crowd_mask = _placed_shape(rng, shape, float(rng.uniform(0.2, 0.35)),
                                   SHAPES[int(rng.integers(len(SHAPES)))])
    unlabelled = crowd_mask.copy()
    min_area = max(MIN_AREA_PX, MIN_AREA_FRACTION * h * w)
    for rid in sorted(info):
        region = (labels == rid) & ~crowd_mask
        if region.sum() >= min_area:
            continue
        if info[rid]["is_thing"]:
            labels[region] = stuff[region] + 1
        else:
            unlabelled |= region
        del info[rid]
    # colours and texture (drawn for every provisional region, so removal does not shift
    # the generator)
    colours = {s + 1: rng.uniform(40, 215, 3) for s in range(k)}
    image = np.zeros((h, w, 3), dtype=np.float32)
    for s in range(k):
        m = stuff == s
        image[m] = textured_layer(rng, shape, colours[s + 1], spread=40, grain=12)[m]
    for t in range(n_t):
        rid = k + 1 + t
        m = labels == rid
        ys, xs = np.nonzero(m)
        base = colours[int(stuff[int(ys.mean()), int(xs.mean())]) + 1] if len(ys) else \
            colours[1]
        direction = rng.normal(size=3)
        colour = np.clip(base + rng.uniform(45, 80) * direction / np.linalg.norm(direction),
                         10, 245)
        layer = textured_layer(rng, shape, colour, spread=35, grain=14)
        image[m] = layer[m]
    image = np.clip(cv2.GaussianBlur(image, (3, 3), 0.8), 0, 255).astype(np.uint8)
    target = np.zeros(shape, dtype=np.int32)
    final: dict[int, dict[str, Any]] = {}
    for new, rid in enumerate(sorted(info), start=1):
        target[(labels == rid) & ~unlabelled] = new
        final[new] = info[rid]
    return image, target, unlabelled | (target == 0), final


@dataclass(frozen=True)
class SyntheticPanopticOptions:
    """Options of the ``synthetic-panoptic`` dataset."""

    seed: int = option(0, "image i is drawn from numpy default_rng(seed + i)")
    n_samples: int = option(20, "number of images (>= 0)")
    size: tuple[int, ...] = option((240, 320), "image size H,W in px (each >= 32)")
    n_stuff: tuple[int, ...] = option((2, 4), "inclusive range lo,hi of stuff regions per "
                                              "image (1 <= lo <= hi)")
    n_things: tuple[int, ...] = option((3, 8), "inclusive range lo,hi of thing regions per "
                                               "image (0 <= lo <= hi)")
    crowd: float = option(0.3, "probability in [0, 1] that an image has a crowd region")


class SyntheticPanopticDataset(GeneratedDataset):
    """Deterministic synthetic full-image samples (no files needed; ``docs/datasets.md``).

    Options: ``SyntheticPanopticOptions``.
    """

    name = "synthetic-panoptic"
    source = "generated by iseg_bench.datasets.synthetic_panoptic"
    options_class = SyntheticPanopticOptions

    def __init__(self, **options: Any):
        """Raises UsageError on an unknown option, DatasetError on an invalid value."""
        opts: SyntheticPanopticOptions = self.parse_options(options)
        n_samples, size, crowd = opts.n_samples, opts.size, opts.crowd
        h, w = (int(v) for v in size)
        n_stuff: tuple[int, int] = (opts.n_stuff[0], opts.n_stuff[1])
        n_things: tuple[int, int] = (opts.n_things[0], opts.n_things[1])
        self.require(n_samples >= 0 and h >= 32 and w >= 32
                     and 1 <= n_stuff[0] <= n_stuff[1] and 0 <= n_things[0] <= n_things[1]
                     and 0.0 <= crowd <= 1.0,
                     "n_samples >= 0, size >= (32, 32), 1 <= n_stuff[0] <= n_stuff[1], "
                     "0 <= n_things[0] <= n_things[1], 0 <= crowd <= 1",
                     (n_samples, size, n_stuff, n_things, crowd))
        self.seed, self.size = opts.seed, (h, w)
        self.n_stuff, self.n_things, self.crowd = n_stuff, n_things, crowd
        super().__init__([SampleRef(f"synthetic-panoptic_{self.seed}_{i:04d}")
                          for i in range(n_samples)])

    def load(self, index: int) -> Sample:
        """Generate image `index` from default_rng(seed + index); IndexError out of range."""
        index = range(len(self.refs))[index]
        rng = np.random.default_rng(self.seed + index)
        image, target, ignore, regions = render_panoptic(rng, self.size, self.n_stuff,
                                                         self.n_things, self.crowd)
        return Sample(image=image, target=target, ignore=ignore,
                      sample_id=self.refs[index].sample_id, dataset=self.name,
                      meta={"regions": regions, "seed": self.seed + index,
                            "full_image": True})

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "seed": self.seed, "size": list(self.size),
                "n_stuff": list(self.n_stuff), "n_things": list(self.n_things),
                "crowd": self.crowd}

"""Training batches: augmentation, object-centred or uniform random crops and batch
assembly, common to every recipe (``docs/models/emc-click.md`` and
``docs/models/acc99net.md`` give each recipe's augmentation).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np

from iseg_bench.training.recipe import Recipe, TrainingError
from iseg_bench.types import Sample


def augment_and_crop(sample: Sample, crop: tuple[int, int], recipe: Recipe,
                     rng: np.random.Generator,
                     augment: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One training crop of a single-object sample.

    With `augment`: the recipe's random rescale (image bilinear, masks nearest), a
    horizontal flip with probability 0.5, the recipe's photometric jitter, clipping to
    [0, 1]; the crop is centred on a random object pixel (without `augment`: the middle one
    in row-major order; the image centre when there is none), shifted to stay inside the
    image, and padded with zeros that are marked ignore. A recipe with `uniform_crop`
    instead places the window uniformly at random (`_uniform_window`).

    Returns:
        (image (h, w, 3) float32 in [0, 1], target (h, w) bool, ignore (h, w) bool) with
        (h, w) = `crop`.

    Raises:
        TrainingError: the sample's target is not a bool mask (a full-image region map).
    """
    image = sample.image
    target = np.asarray(sample.target)
    if target.dtype != bool:
        raise TrainingError(f"sample {sample.sample_id}: training needs a single-object (bool) "
                            "target; full-image region maps are not supported")
    ignore = np.asarray(sample.ignore, bool)
    if augment and recipe.resize_range is not None:
        s = rng.uniform(*recipe.resize_range)
        h, w = target.shape
        nh, nw = max(1, int(round(h * s))), max(1, int(round(w * s)))
        image = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_LINEAR)
        target = cv2.resize(target.astype(np.uint8), (nw, nh),
                            interpolation=cv2.INTER_NEAREST) > 0
        ignore = cv2.resize(ignore.astype(np.uint8), (nw, nh),
                            interpolation=cv2.INTER_NEAREST) > 0
    if augment and rng.random() < 0.5:
        image, target, ignore = image[:, ::-1], target[:, ::-1], ignore[:, ::-1]
    img = image.astype(np.float32) / 255.0
    if augment:
        img = np.clip(recipe.photometric(img, rng), 0.0, 1.0).astype(np.float32)
    ch, cw = crop
    h, w = target.shape
    if augment and recipe.uniform_crop:
        y0, x0 = _uniform_window(target & ~ignore, crop, rng)
    else:
        ys, xs = np.nonzero(target)
        k = int(rng.integers(len(ys))) if augment else len(ys) // 2
        cy, cx = (int(ys[k]), int(xs[k])) if len(ys) else (h // 2, w // 2)
        y0 = int(np.clip(cy - ch // 2, 0, max(0, h - ch)))
        x0 = int(np.clip(cx - cw // 2, 0, max(0, w - cw)))
    out_img = np.zeros((ch, cw, 3), np.float32)
    out_t = np.zeros((ch, cw), bool)
    out_ig = np.ones((ch, cw), bool)
    sub = (slice(y0, y0 + ch), slice(x0, x0 + cw))
    ph, pw = img[sub].shape[:2]
    out_img[:ph, :pw] = img[sub]
    out_t[:ph, :pw] = target[sub]
    out_ig[:ph, :pw] = ignore[sub]
    return out_img, out_t, out_ig


def _uniform_window(obj: np.ndarray, crop: tuple[int, int],
                   rng: np.random.Generator) -> tuple[int, int]:
    """Top-left (y0, x0) of a `crop` window drawn uniformly among the positions inside the
    image (a side shorter than the crop has the one position 0) whose window holds a pixel
    of bool (h, w) `obj`: the law of a uniform random crop re-drawn until it holds the
    object. Uniform over all positions when `obj` is empty."""
    (h, w), (ch, cw) = obj.shape, crop
    ny, nx = max(0, h - ch) + 1, max(0, w - cw) + 1
    eh, ew = min(ch, h), min(cw, w)
    ii = cv2.integral(obj.astype(np.uint8))  # (h + 1, w + 1): sums of obj[:a, :b]
    sums = ii[eh:eh + ny, ew:ew + nx] - ii[:ny, ew:ew + nx] - ii[eh:eh + ny, :nx] + ii[:ny, :nx]
    ys, xs = np.nonzero(sums)
    if not len(ys):
        return int(rng.integers(ny)), int(rng.integers(nx))
    k = int(rng.integers(len(ys)))
    return int(ys[k]), int(xs[k])


def load_batch(dataset: Any, indices: Sequence[int] | np.ndarray, crop: tuple[int, int],
               recipe: Recipe, rng: np.random.Generator,
               augment: bool) -> tuple[Any, np.ndarray, np.ndarray] | None:
    """The batch of samples `indices` of `dataset`: (image (B, 3, h, w) float32 torch
    tensor in [0, 1], target (B, h, w) bool, ignore (B, h, w) bool), skipping samples whose
    crop has no object pixel outside ignore; None when none is left."""
    import torch

    imgs, tgts, igns = [], [], []
    for i in indices:
        img, t, ig = augment_and_crop(dataset.load(int(i)), crop, recipe, rng, augment)
        if not (t & ~ig).any():
            continue  # object cropped away or empty target: skip this sample
        imgs.append(img)
        tgts.append(t)
        igns.append(ig)
    if not imgs:
        return None
    image = torch.from_numpy(np.stack(imgs)).permute(0, 3, 1, 2).contiguous()
    return image, np.stack(tgts), np.stack(igns)

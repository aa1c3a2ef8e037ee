"""What a model's training recipe provides to the common loop: its schedule defaults, its
optimiser, its augmentations and its optimiser step (``docs/models/emc-click.md``,
``docs/models/acc99net.md``, ``docs/models/siis.md``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from iseg_bench.errors import IsegBenchError

#: (model, optimizer, batch, device, rng, bf16) -> (mean loss, optimiser steps made); the
#: batch is (image (B, 3, h, w) float tensor in [0, 1], target (B, h, w) bool, ignore
#: (B, h, w) bool).
StepFn = Callable[[Any, Any, tuple[Any, np.ndarray, np.ndarray], Any, np.random.Generator, bool],
                  tuple[float, int]]


class TrainingError(IsegBenchError):
    """Training cannot start or continue (bad dataset, bad resume folder, ...)."""


@dataclass(frozen=True)
class Recipe:
    """One model family's training recipe.

    Attributes:
        model_type: the zoo model type it trains ("emc-click", "acc99net").
        lr: default learning rate.
        batch_size: default samples per batch.
        crop: default (h, w) training crop in px.
        milestones: fractions of the epochs at which the learning rate is divided by 10.
        resize_range: (lo, hi) of the random rescale factor, or None for no rescale.
        photometric: (image (h, w, 3) float32 in [0, 1], rng) -> jittered image (not yet
            clipped); draws its random numbers from rng after the flip.
        optimizer: (model, lr) -> torch optimiser.
        step: the optimiser step(s) of one batch (``StepFn``).
        load_pretrained: (model, folder or hub name) -> None: ImageNet weights into the
            model's backbone.
        epoch_gamma: when set, the learning rate is multiplied by it after every epoch
            (exponential decay, SIIS) instead of the milestones' division by 10.
        variant_lr: default learning rate per zoo variant name, where it differs from `lr`.
        epoch_samples: samples per epoch, drawn uniformly with replacement (the authors'
            ``epoch_len``; the last incomplete batch is dropped); None: an epoch is one
            pass over the dataset in a random order.
        uniform_crop: with augmentation, the crop window is placed uniformly at random
            among the positions whose window holds an object pixel (the law of the
            authors' random crop re-drawn until it holds the object) instead of around a
            random object pixel.
        micro_step: (micro-batch size) -> a step that accumulates the gradients of the
            batch over micro-batches of that size before its one optimiser step; None when
            the recipe cannot split a batch.
        initialize: new runs only: re-initialises the freshly built (seeded) model in place
            before any ImageNet weights are loaded; None keeps the modules' own
            initialisation.
    """

    model_type: str
    lr: float
    batch_size: int
    crop: tuple[int, int]
    milestones: tuple[float, ...]
    resize_range: tuple[float, float] | None
    photometric: Callable[[np.ndarray, np.random.Generator], np.ndarray]
    optimizer: Callable[[Any, float], Any]
    step: StepFn
    load_pretrained: Callable[[Any, str], None]
    epoch_gamma: float | None = None
    variant_lr: Mapping[str, float] = field(default_factory=dict)
    epoch_samples: int | None = None
    uniform_crop: bool = False
    micro_step: Callable[[int], StepFn] | None = None
    initialize: Callable[[Any], None] | None = None


def adam_optimizer(model: Any, lr: float) -> Any:
    """Adam (beta1 0.9, beta2 0.999) over every parameter at `lr` (ScribbleSeg Sec. 4.1)."""
    import torch

    return torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.999))


def no_photometric(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The image unchanged: the photometric step of a recipe whose paper names no colour
    augmentation (ScribbleSeg Sec. 4.1: flip and resize only; SIIS Sec. 4.1)."""
    return img


def accumulate_backward(n: int, micro: int, loss_of: Callable[[slice], Any]) -> float:
    """Backpropagate the mean loss of a batch of `n` samples in micro-batches of at most
    `micro`: for each micro-batch slice s, ``(len(s) / n) * loss_of(s)`` is backpropagated,
    so the accumulated gradients are those of the whole batch's mean loss (for a loss that
    is a per-sample mean and a model whose layers treat samples independently; BatchNorm in
    training mode normalises each micro-batch by its own statistics).

    Args:
        n: samples in the batch (>= 1).
        micro: micro-batch size (>= 1).
        loss_of: slice of the batch -> 0-d torch tensor, the mean loss of those samples.

    Returns:
        The batch's mean loss (float).
    """
    total = 0.0
    for start in range(0, n, micro):
        part = slice(start, min(n, start + micro))
        weight = (part.stop - start) / n
        loss = loss_of(part)
        (loss * weight).backward()
        total += float(loss.detach()) * weight
    return total

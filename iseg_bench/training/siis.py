"""The SIIS base training recipe: SGD with momentum and exponential learning-rate decay,
random positive/negative clicks followed by ITIS-style iterative clicks, binary
cross-entropy.

Source: Lin et al., "Sequential Interactive Image Segmentation", Sec. 4.1 (batch 8, 30
epochs, SGD momentum 0.9, weight decay 5e-4, lr 7e-3 decayed by 0.95 per epoch, 384 x 384
crops with random flip, BCE) and Sec. 3.3 ([1, 10] positive and [0, 10] negative training
clicks); iterative training of Mahadevan et al., "Iteratively Trained Interactive
Segmentation" (ITIS), BMVC 2018. Specified, with the choices that are ours, in
``docs/models/siis.md``.

Constants: ``SIIS_RECIPE``, ``TRAIN_POSITIVE`` = (1, 10), ``TRAIN_NEGATIVE`` = (0, 10),
``LR_GAMMA`` = 0.95, ``SIIS_RESIZE`` = (0.75, 1.25) (ours), ``ITIS_MAX_ROUNDS`` = 3 (ours).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from iseg_bench.training.recipe import Recipe, no_photometric

TRAIN_POSITIVE = (1, 10)
TRAIN_NEGATIVE = (0, 10)
LR_GAMMA = 0.95
SIIS_RESIZE = (0.75, 1.25)
ITIS_MAX_ROUNDS = 3


def siis_optimizer(model: Any, lr: float) -> Any:
    """SGD, momentum 0.9, weight decay 5e-4, over every parameter (Sec. 4.1)."""
    import torch

    from iseg_bench.models.siis import SGD_MOMENTUM, WEIGHT_DECAY

    return torch.optim.SGD(model.parameters(), lr=lr, momentum=SGD_MOMENTUM,
                           weight_decay=WEIGHT_DECAY)


def siis_step(model: Any, optimizer: Any, batch: tuple[Any, np.ndarray, np.ndarray],
              device: Any, rng: np.random.Generator, bf16: bool) -> tuple[float, int]:
    """One optimiser step on `batch`: per sample random clicks (``simulate_clicks`` with
    TRAIN_POSITIVE / TRAIN_NEGATIVE counts, never on ignore), then r ITIS rounds (r uniform
    in 0..ITIS_MAX_ROUNDS) that each add the robot's largest-error click on the model's own
    prediction (no gradient), then BCE over the pixels outside ignore. Returns (loss, 1)."""
    import torch
    import torch.nn.functional as F

    from iseg_bench.models.click_simulation import largest_error_click
    from iseg_bench.models.runtime import autocast
    from iseg_bench.models.siis import click_maps, simulate_clicks

    image, tgt, ign = batch
    bsz, _, h, w = image.shape
    sigma = model.config.click_sigma
    clicks = [simulate_clicks(tgt[b], rng, TRAIN_POSITIVE, TRAIN_NEGATIVE, ign[b])
              for b in range(bsz)]

    def maps() -> Any:
        return torch.from_numpy(np.stack([click_maps(c, (h, w), sigma) for c in clicks])
                                ).to(device)

    image = image.to(device)
    target = torch.from_numpy(tgt).unsqueeze(1).float().to(device)
    keep = torch.from_numpy(~ign).unsqueeze(1).float().to(device)
    rounds = int(rng.integers(0, ITIS_MAX_ROUNDS + 1))
    model.train()
    with autocast(device, bf16):
        if rounds:
            with torch.no_grad():
                feats = model.backbone_features(image)
                reduced = model.purify(feats)
                for _ in range(rounds):
                    pred = (model.head(reduced, maps())[:, 0] > 0).cpu().numpy()
                    for b in range(bsz):
                        c = largest_error_click(pred[b], tgt[b], ign[b])
                        if c is not None:
                            clicks[b].append(c)
        logits = model(image, maps())
    bce = F.binary_cross_entropy_with_logits(logits.float(), target, reduction="none")
    loss: Any = (bce * keep).sum() / keep.sum().clamp(min=1.0)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return float(loss.detach()), 1


def siis_load_pretrained(model: Any, source: str) -> None:
    """ImageNet ResNet-101 weights (e.g. "microsoft/resnet-101") into the backbone."""
    from iseg_bench.models.hf_backbones import load_pretrained_resnet

    load_pretrained_resnet(model.backbone, source)


SIIS_RECIPE = Recipe(model_type="siis", lr=7e-3, batch_size=8, crop=(384, 384),
                     milestones=(), resize_range=SIIS_RESIZE, photometric=no_photometric,
                     optimizer=siis_optimizer, step=siis_step,
                     load_pretrained=siis_load_pretrained, epoch_gamma=LR_GAMMA)

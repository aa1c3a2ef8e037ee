"""The EMC-Click training recipe: Adam, iterative click simulation, normalised focal loss on
the coarse and the corrected mask.

Source: Du et al., "Efficient Mask Correction for Click-Based Interactive Image
Segmentation", CVPR 2023, Sec. 4.1; click simulation of Mahadevan et al. 2018 as used by
RITM (public code: max_num_next_clicks, prob_gamma). Specified in
``docs/models/emc-click.md``.

Constants: ``EMC_RECIPE`` (learning rate 2e-3, batch 8, crop 320 x 480, milestones 200/230
and 220/230 of the epochs), ``EMC_RESIZE`` = (0.75, 1.40), ``EMC_MAX_ROUNDS`` = 3,
``EMC_ROUND_GAMMA`` = 0.8.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from iseg_bench.training.recipe import Recipe

EMC_MAX_ROUNDS = 3
EMC_ROUND_GAMMA = 0.8
EMC_RESIZE = (0.75, 1.40)


def emc_photometric(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Contrast factor in [0.8, 1.2] about 0.5, brightness factor in [0.8, 1.2], then a
    per-channel shift in [-10, 10] grey levels (image float32 in [0, 1], not clipped)."""
    img = (img - 0.5) * rng.uniform(0.8, 1.2) + 0.5  # contrast
    img = img * rng.uniform(0.8, 1.2)  # brightness
    shifted: np.ndarray = img + rng.uniform(-10, 10, size=3).astype(np.float32) / 255.0
    return shifted


def emc_optimizer(model: Any, lr: float) -> Any:
    """Adam (beta1 0.9, beta2 0.999) over every parameter."""
    import torch

    return torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.999))


def clicks_tensor(clicks: list[list[Any]]) -> Any:
    """(B, N, 3) float torch tensor of rows [y, x, label] (label 1 positive, 0 negative),
    padded with -1 rows to the longest list (N >= 1)."""
    import torch

    n = max(1, max(len(c) for c in clicks))
    out = torch.full((len(clicks), n, 3), -1.0)
    for b, cs in enumerate(clicks):
        for j, (y, x, p) in enumerate(cs):
            out[b, j] = torch.tensor([y, x, 1.0 if p else 0.0])
    return out


def emc_step(model: Any, optimizer: Any, batch: tuple[Any, np.ndarray, np.ndarray],
             device: Any, rng: np.random.Generator, bf16: bool) -> tuple[float, int]:
    """One EMC-Click optimiser step on `batch`: the object-centre click, r extra rounds
    (P(r) proportional to EMC_ROUND_GAMMA^r, r <= EMC_MAX_ROUNDS) of largest-error clicks on
    the model's own prediction without gradients, then the focal loss of the coarse and the
    corrected mask. Returns (loss, 1)."""
    import torch

    from iseg_bench.models.click_encodings import disk_maps
    from iseg_bench.models.click_simulation import largest_error_click, object_centre_click
    from iseg_bench.models.emc_click import upsample
    from iseg_bench.models.losses import normalized_focal_loss
    from iseg_bench.models.runtime import autocast

    image, tgt, ign = batch
    bsz, _, h, w = image.shape
    clicks: list[list[Any]] = [[object_centre_click(tgt[b] & ~ign[b])] for b in range(bsz)]

    def disks_of(cl: list[list[Any]]) -> Any:
        return torch.from_numpy(np.stack([disk_maps(c, (h, w)) for c in cl])).to(device)

    image = image.to(device)
    target = torch.from_numpy(tgt).unsqueeze(1).float().to(device)
    ignore = torch.from_numpy(ign).unsqueeze(1).to(device)
    first = disks_of(clicks)[:, :1]  # the first click's positive disk
    weights = np.array([EMC_ROUND_GAMMA ** r for r in range(EMC_MAX_ROUNDS + 1)])
    rounds = int(rng.choice(EMC_MAX_ROUNDS + 1, p=weights / weights.sum()))
    model.train()
    with autocast(device, bf16):
        feats, coarse = model.encode(image, first)
        prev = coarse.detach()  # the model's own stride-4 logits carry to the next click
        with torch.no_grad():
            for _ in range(rounds):
                prev = model.correct(image, disks_of(clicks), prev, feats.detach(),
                                     clicks_tensor(clicks).to(device))
                pred = (upsample(prev.float(), (h, w))[:, 0] > 0).cpu().numpy()
                for b in range(bsz):
                    c = largest_error_click(pred[b], tgt[b], ign[b])
                    if c is not None:
                        clicks[b].append(c)
        logits = model.correct(image, disks_of(clicks), prev, feats,
                               clicks_tensor(clicks).to(device))
    loss: Any = (normalized_focal_loss(upsample(coarse.float(), (h, w)), target, ignore)
                 + normalized_focal_loss(upsample(logits.float(), (h, w)), target, ignore))
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return float(loss.detach()), 1


def emc_load_pretrained(model: Any, source: str) -> None:
    """ImageNet SegFormer MiT weights from `source` into the base network's encoder."""
    from iseg_bench.models.hf_backbones import load_pretrained_segformer

    load_pretrained_segformer(model.base.encoder, source)


EMC_RECIPE = Recipe(model_type="emc-click", lr=2e-3, batch_size=8, crop=(320, 480),
                    milestones=(200 / 230, 220 / 230), resize_range=EMC_RESIZE,
                    photometric=emc_photometric, optimizer=emc_optimizer, step=emc_step,
                    load_pretrained=emc_load_pretrained)

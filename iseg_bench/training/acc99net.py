"""The 99%-accuracy-network training recipe: RAdam, click-by-click updates with the
soft-IoU + click-location loss.

Source: Forte et al., "Getting to 99% Accuracy in Interactive Segmentation", 2020,
Sec. 3.2 and Eq. 1. Specified in ``docs/models/acc99net.md``.

Constants: ``ACC99_RECIPE`` (learning rate 1e-5, batch 1, crop 352 x 352, milestones at
epochs 14, 17 and 20 of 25), ``ACC99_CLICKS`` = 4, ``ACC99_WEIGHT_DECAY_CONV`` = 0.005,
``ACC99_WEIGHT_DECAY_GN`` = 1e-5.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from iseg_bench.training.recipe import Recipe

ACC99_CLICKS = 4
ACC99_WEIGHT_DECAY_CONV = 0.005
ACC99_WEIGHT_DECAY_GN = 1e-5


def acc99_photometric(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Gamma in [0.8, 1.25] of the clipped image, then a brightness factor in [0.8, 1.2]
    (image float32 in [0, 1], result not clipped)."""
    img = np.clip(img, 0, 1) ** rng.uniform(0.8, 1.25)  # gamma
    bright: np.ndarray = img * rng.uniform(0.8, 1.2)  # brightness
    return bright


def acc99_optimizer(model: Any, lr: float) -> Any:
    """RAdam with weight decay ACC99_WEIGHT_DECAY_CONV on convolution weights,
    ACC99_WEIGHT_DECAY_GN on GroupNorm parameters and 0 on everything else."""
    import torch

    conv, gn, other = [], [], []
    for mod in model.modules():
        for name, p in mod.named_parameters(recurse=False):
            if isinstance(mod, torch.nn.GroupNorm):
                gn.append(p)
            elif isinstance(mod, torch.nn.Conv2d) and name == "weight":
                conv.append(p)
            else:
                other.append(p)
    groups = [dict(params=conv, weight_decay=ACC99_WEIGHT_DECAY_CONV),
              dict(params=gn, weight_decay=ACC99_WEIGHT_DECAY_GN),
              dict(params=other, weight_decay=0.0)]
    return torch.optim.RAdam(groups, lr=lr)


def acc99_step(model: Any, optimizer: Any, batch: tuple[Any, np.ndarray, np.ndarray],
               device: Any, rng: np.random.Generator, bf16: bool,
               n_clicks: int = ACC99_CLICKS) -> tuple[float, int]:
    """`n_clicks` optimiser steps on `batch`, one per click: each click at the centre of the
    largest error region of the previous output (an empty prediction first), then the loss
    and an update. Returns (mean loss, n_clicks)."""
    import torch

    from iseg_bench.models.click_encodings import click_pixel_maps, gaussian_maps
    from iseg_bench.models.click_simulation import largest_error_click
    from iseg_bench.models.losses import soft_iou_click_loss
    from iseg_bench.models.runtime import autocast

    image, tgt, ign = batch
    bsz, _, h, w = image.shape
    image = image.to(device)
    target = torch.from_numpy(tgt).unsqueeze(1).float().to(device)
    ignore = torch.from_numpy(ign).unsqueeze(1).to(device)
    prev = torch.zeros(bsz, 1, h, w, device=device)
    clicks: list[list[tuple[int, int, bool]]] = [[] for _ in range(bsz)]
    model.train()
    losses = []
    for _ in range(n_clicks):
        pred = (prev[:, 0] > 0.5).cpu().numpy()
        for b in range(bsz):
            c = largest_error_click(pred[b], tgt[b], ign[b])
            if c is not None:
                clicks[b].append(c)
        gauss = torch.from_numpy(np.stack([gaussian_maps(c, (h, w)) for c in clicks])).to(device)
        pixels = torch.from_numpy(np.stack([click_pixel_maps(c, (h, w)) for c in clicks]))
        pixels = pixels.to(device)
        with autocast(device, bf16):
            out = model(image, gauss, prev, pixels)
        cmask = pixels.amax(dim=1, keepdim=True) > 0
        loss: Any = soft_iou_click_loss(out.float(), target, cmask, ignore)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
        prev = out.detach().float()
    return float(np.mean(losses)), n_clicks


def acc99_load_pretrained(model: Any, source: str) -> None:
    """ImageNet ResNet-50 GN+WS weights from the safetensors file `source` into the image
    stream (``acc99net.load_imagenet_encoder``)."""
    from iseg_bench.models.acc99net import load_imagenet_encoder

    load_imagenet_encoder(model.encoder, source)


ACC99_RECIPE = Recipe(model_type="acc99net", lr=1e-5, batch_size=1, crop=(352, 352),
                      milestones=(14 / 25, 17 / 25, 20 / 25), resize_range=None,
                      photometric=acc99_photometric, optimizer=acc99_optimizer, step=acc99_step,
                      load_pretrained=acc99_load_pretrained)

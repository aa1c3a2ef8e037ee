"""FLOPs of one click of a bundled model, counted by ``torch.utils.flop_counter`` (a
multiply-add is 2 FLOPs; ``docs/models/torch-models.md``)."""

from __future__ import annotations

import torch
from torch.utils.flop_counter import FlopCounterMode

from iseg_bench.models.click_encodings import click_pixel_maps, disk_maps, gaussian_maps


def click_flops(model: torch.nn.Module, hw: tuple[int, int],
                device: str | torch.device = "cpu") -> tuple[int, int]:
    """(first-interaction FLOPs, later-interaction FLOPs) of `model` on one (H, W) image.

    model: a bundled model (``model_type`` "emc-click", "acc99net", "scribbleseg" or "siis"),
    on `device`. ScribbleSeg runs the whole network for every stroke (both numbers equal; H
    and W multiples of 32, 384 x 384 in the adapter). SIIS runs its backbone once per image,
    so its later clicks cost the purification module and the head only.
    """
    h, w = hw
    centre = [(h // 2, w // 2, True)]
    img = torch.rand(1, 3, h, w, device=device)
    with torch.no_grad():
        if model.model_type == "scribbleseg":
            scribbles = torch.zeros(1, 2, h, w, device=device)
            scribbles[0, 0, h // 2, w // 4:3 * w // 4] = 1.0
            with FlopCounterMode(display=False) as stroke:
                model(img, scribbles, torch.zeros(1, 1, h, w, device=device))
            return stroke.get_total_flops(), stroke.get_total_flops()
        if model.model_type == "emc-click":
            d = torch.from_numpy(disk_maps(centre, hw))[None].to(device)
            clicks = torch.tensor([[[h // 2, w // 2, 1.0]]], device=device)
            with FlopCounterMode(display=False) as first:
                feats, coarse = model.encode(img, d[:, :1])
                model.correct(img, d, coarse, feats, clicks)
            with FlopCounterMode(display=False) as later:
                model.correct(img, d, coarse, feats, clicks)
            return first.get_total_flops(), later.get_total_flops()
        if model.model_type == "siis":
            from iseg_bench.models.siis import click_maps

            e0 = torch.from_numpy(click_maps(centre, hw, model.config.click_sigma))[None]
            with FlopCounterMode(display=False) as first:
                feats = model.backbone_features(img)
                model.head(model.purify(feats), e0.to(device))
            with FlopCounterMode(display=False) as later:
                model.head(model.purify(feats), e0.to(device))
            return first.get_total_flops(), later.get_total_flops()
        g = torch.from_numpy(gaussian_maps(centre, hw))[None].to(device)
        px = torch.from_numpy(click_pixel_maps(centre, hw))[None].to(device)
        with FlopCounterMode(display=False) as every:
            model(img, g, torch.zeros(1, 1, h, w, device=device), px)
        return every.get_total_flops(), every.get_total_flops()

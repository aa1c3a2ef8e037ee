"""The ScribbleSeg training recipe: Adam, simulated scribbles on iteratively sampled previous
masks, the loss of Eq. 1.

Source: Chen et al., "ScribbleSeg", Sec. 3.3 (training simulation, iterative sampling) and
Sec. 4.1 ("Training configurations": Adam (0.9, 0.999), lr 5e-4, x0.1 at epochs 110 and 130
of 150, 3,000 images per epoch, random flip, random resize 0.75-1.4, input 384 x 384).
Specified in ``docs/models/scribbleseg.md`` ("Training").

Constants: ``SCRIBBLESEG_RECIPE`` (lr 5e-4, batch 8 (ours), crop 384 x 384, milestones
110/150 and 130/150), ``SCRIBBLESEG_RESIZE`` = (0.75, 1.40); the simulators' constants are
in ``iseg_bench.simulators.scribbles``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from iseg_bench.simulators.scribbles import (
    ScribbleSimulator,
    SimulatedStroke,
    perturb_mask,
    previous_mask_source,
    scribble_maps,
)
from iseg_bench.training.recipe import Recipe, adam_optimizer, no_photometric

SCRIBBLESEG_RESIZE = (0.75, 1.40)
SIMULATOR = ScribbleSimulator()     # Tab. 6's protect, Tab. 4's 16 strokes, Tab. 5's 0.2


def sample_interactions(model: Any, image: Any, tgt: np.ndarray, ign: np.ndarray, device: Any,
                        rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The scribble maps and previous masks of one batch (Sec. 3.3).

    Per sample: strokes from a void mask (``ScribbleSimulator.strokes``); then the previous
    mask's source is drawn (``previous_mask_source``, 1 : 0.4): "prediction" runs the model
    without gradients on those strokes and a void mask and thresholds it at 0.5 (one round
    of iterative training, ours), "perturbed" uses ``perturb_mask`` of the ground truth; then
    correction strokes on that mask's false negatives and positives are added. The whole
    batch's predictions come from one forward pass.

    Args:
        model: a ScribbleSeg in any mode (left in train mode).
        image: (B, 3, h, w) float tensor in [0, 1] on `device`.
        tgt, ign: (B, h, w) bool.

    Returns:
        (scribble maps (B, 2, h, w) float32, previous masks (B, 1, h, w) float32).
    """
    import torch

    bsz, h, w = tgt.shape
    first: list[list[SimulatedStroke]] = [SIMULATOR.strokes(rng, tgt[b], None, ign[b])
                                          for b in range(bsz)]
    sources = [previous_mask_source(rng) for _ in range(bsz)]
    prev = np.zeros((bsz, h, w), dtype=bool)
    predicted = prev
    if "prediction" in sources:
        maps = torch.from_numpy(np.stack([scribble_maps(s, (h, w)) for s in first])).to(device)
        model.eval()
        with torch.no_grad():
            out = model(image, maps, torch.zeros(bsz, 1, h, w, device=device))
        model.train()
        predicted = (out["ref"][:, 0] > 0).cpu().numpy()
    for b in range(bsz):
        prev[b] = predicted[b] if sources[b] == "prediction" else perturb_mask(rng, tgt[b])
    strokes = [first[b] + SIMULATOR.strokes(rng, tgt[b], prev[b], ign[b]) for b in range(bsz)]
    maps_np = np.stack([scribble_maps(s, (h, w)) for s in strokes])
    return maps_np, prev[:, None].astype(np.float32)


def scribbleseg_step(model: Any, optimizer: Any, batch: tuple[Any, np.ndarray, np.ndarray],
                     device: Any, rng: np.random.Generator, bf16: bool) -> tuple[float, int]:
    """One optimiser step on `batch` (``recipe.StepFn``): ``sample_interactions``, then the
    loss of Eq. 1 (``models.scribbleseg.scribbleseg_loss``). Returns (loss, 1)."""
    import torch

    from iseg_bench.models.runtime import autocast
    from iseg_bench.models.scribbleseg import scribbleseg_loss

    image, tgt, ign = batch
    image = image.to(device)
    maps, prev = sample_interactions(model, image, tgt, ign, device, rng)
    target = torch.from_numpy(tgt).unsqueeze(1).float().to(device)
    ignore = torch.from_numpy(ign).unsqueeze(1).to(device)
    model.train()
    with autocast(device, bf16):
        out = model(image, torch.from_numpy(maps).to(device), torch.from_numpy(prev).to(device))
    loss: Any = scribbleseg_loss({k: v.float() for k, v in out.items()}, target, ignore)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return float(loss.detach()), 1


def scribbleseg_load_pretrained(model: Any, source: str) -> None:
    """ImageNet SegFormer MiT weights from `source` into the encoder (extra input channels
    of the first patch embedding start at zero)."""
    from iseg_bench.models.hf_backbones import load_pretrained_segformer

    load_pretrained_segformer(model.encoder, source)


SCRIBBLESEG_RECIPE = Recipe(model_type="scribbleseg", lr=5e-4, batch_size=8, crop=(384, 384),
                            milestones=(110 / 150, 130 / 150), resize_range=SCRIBBLESEG_RESIZE,
                            photometric=no_photometric, optimizer=adam_optimizer,
                            step=scribbleseg_step, load_pretrained=scribbleseg_load_pretrained)

"""Training examples and the optimiser step of the full-image model ``ifis``: one image per
example, every region's extreme points simulated from the ground truth, the box-weighted
pixel-wise loss of the regions competing on the canvas.

Source: Agustsson, Uijlings and Ferrari, CVPR 2019, Sec. 3.3 (training data Y, Eq. 3 and
its box weighting), Sec. 4 (extreme points simulated from the ground-truth masks), Sec. 5.2
(the extreme-point model). The choices the paper leaves open (optimiser, learning rate) are
ours: ``docs/models/ifis.md``.

Constants: ``IFIS_LR`` = 1e-4 (Adam, ours).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from iseg_bench.adapters.annotation_maps import annotation_maps, region_boxes
from iseg_bench.protocols.full_image import image_regions
from iseg_bench.robots.extreme_points import DEFAULT_TOLERANCE, ExtremePointsRobot
from iseg_bench.types import Interaction, Sample

IFIS_LR = 1e-4


@dataclass
class IFISExample:
    """One training image of ``ifis``.

    Attributes:
        image: (H, W, 3) uint8 RGB.
        regions: the N region ids, in channel order.
        interactions: the annotations the model sees (extreme points, later scribbles),
            each tagged with its region.
        target: (H, W) int64 index into `regions` of each pixel's region, -1 where ignored
            or unlabelled (the map Y of Sec. 3.3).
    """

    image: np.ndarray
    regions: list[int]
    interactions: list[Interaction]
    target: np.ndarray


def extreme_point_example(sample: Sample, rng: np.random.Generator,
                          tolerance: int = DEFAULT_TOLERANCE) -> IFISExample:
    """The extreme-point training example of a full-image sample: the protocol's regions
    (``image_regions``) and their extreme points by the protocol's robot.

    Raises:
        SampleError: the sample is not a full-image sample or has no region.
    """
    regions, _ = image_regions(sample)
    points = ExtremePointsRobot(tolerance).annotate(sample.target, sample.ignore, regions, rng)
    target = np.full(sample.target.shape, -1, dtype=np.int64)
    for k, rid in enumerate(regions):
        target[(sample.target == rid) & ~sample.ignore] = k
    return IFISExample(sample.image, list(regions), list(points), target)


def example_tensors(example: IFISExample, device: Any) -> dict[str, Any]:
    """The model's inputs for `example` on `device`: image (1, 3, H, W) float in [0, 1],
    boxes (N, 4) int64 inclusive, pos / neg (N, H, W) float annotation maps, target (H, W)
    int64."""
    import torch

    shape = example.target.shape
    known = region_boxes(example.interactions)
    whole = (0, 0, shape[0] - 1, shape[1] - 1)
    pos, neg = annotation_maps(example.interactions, example.regions, shape)
    image = torch.from_numpy(example.image.transpose(2, 0, 1).copy())[None].float() / 255.0
    return {"image": image.to(device),
            "boxes": torch.tensor([known.get(r, whole) for r in example.regions],
                                  dtype=torch.long),
            "pos": torch.from_numpy(pos).float().to(device),
            "neg": torch.from_numpy(neg).float().to(device),
            "target": torch.from_numpy(example.target).to(device)}


def ifis_loss(model: Any, tensors: dict[str, Any]) -> Any:
    """The box-weighted pixel-wise loss (``models.ifis.box_weighted_loss``) of `model` on
    the tensors of :func:`example_tensors`; a scalar tensor with its graph."""
    from iseg_bench.models.ifis import box_weighted_loss

    canvas, inside = model(tensors["image"], tensors["boxes"], tensors["pos"], tensors["neg"])
    return box_weighted_loss(canvas.float(), inside, tensors["target"], tensors["boxes"])


def ifis_step(model: Any, optimizer: Any, example: IFISExample, device: Any,
              bf16: bool = False) -> float:
    """One optimiser step on one image (the model in train mode); returns the loss."""
    from iseg_bench.models.runtime import autocast

    model.train()
    optimizer.zero_grad(set_to_none=True)
    with autocast(device, bf16):
        loss = ifis_loss(model, example_tensors(example, device))
    loss.backward()
    optimizer.step()
    return float(loss.detach())

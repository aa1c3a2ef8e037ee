"""Training of the full-image model ``ifis``: examples (one image each, every region's
extreme points simulated from the ground truth, for the scribble model also one round of
corrective scribbles simulated on the extreme-point model's prediction), the paper's split
of the training images, the optimiser step and the training run.

Source: Agustsson, Uijlings and Ferrari, CVPR 2019, Sec. 3.3 (training data Y, Eq. 3 and
its box weighting), Sec. 4 (simulated extreme points and scribbles), Sec. 5.2-5.3 (a 12.5 %
share of train2017 for the extreme-point model, another for the scribble model, whose
scribbles are simulated on the extreme-point model's output). The choices the paper leaves
open (optimiser, learning rate, batch, schedule, augmentation, rounds of scribbles) are
ours: ``docs/models/ifis.md``.

Constants: ``IFIS_LR`` = 1e-4 (Adam, constant, ours), ``SHARES`` = 8 (12.5 % each, Sec.
5.2), ``STAGES`` (share index of each model: 0 extreme points, 1 scribbles).
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from iseg_bench.adapters.ifis import image_tensor, region_inputs
from iseg_bench.adapters.multi_region import to_region_map
from iseg_bench.protocols.full_image import image_regions
from iseg_bench.robots.extreme_points import DEFAULT_TOLERANCE, ExtremePointsRobot
from iseg_bench.robots.full_image_allocator import FullImageScribbleAllocator
from iseg_bench.training.loop import TrainResult
from iseg_bench.training.recipe import TrainingError
from iseg_bench.types import Interaction, Sample

IFIS_LR = 1e-4
SHARES = 8
STAGES = {"extreme_points": 0, "scribbles": 1}

#: (image, interactions, regions) -> (H, W) int32 predicted region-id map
Predictor = Callable[[np.ndarray, Sequence[Interaction], Sequence[int]], np.ndarray]


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


def scribble_example(sample: Sample, predict: Predictor, rng: np.random.Generator,
                     allocation: str = "free") -> IFISExample:
    """The scribble model's example (Sec. 5.3): the extreme points, the extreme-point
    model's prediction from them (`predict`), and one round of corrective scribbles placed
    on that prediction by the protocol's allocator (`allocation`, Sec. 4); one round is ours.
    """
    example = extreme_point_example(sample, rng)
    pred = predict(sample.image, example.interactions, example.regions)
    scribbles = FullImageScribbleAllocator(allocation).allocate(
        sample.target, sample.ignore, pred, example.regions, rng)
    example.interactions = example.interactions + list(scribbles)
    return example


def paper_share(n_images: int, stage: str, seed: int = 0) -> np.ndarray:
    """Indices of the training images of one model (Sec. 5.2-5.3): a seeded permutation of
    the n images cut into ``SHARES`` equal parts (12.5 % each; the first n mod 8 parts one
    image longer); the extreme-point model takes part 0, the scribble model part 1.

    Raises:
        TrainingError: an unknown stage.
    """
    if stage not in STAGES:
        raise TrainingError(f"unknown ifis stage {stage!r}; known: {', '.join(STAGES)}")
    order = np.random.default_rng(seed).permutation(n_images)
    part: np.ndarray = np.array_split(order, SHARES)[STAGES[stage]]
    return part


def checkpoint_predictor(checkpoint: str | Path, device: Any) -> Predictor:
    """A :data:`Predictor` running the ifis adapter with the weights of `checkpoint`."""
    from iseg_bench.adapters.ifis import IFISAdapter

    adapter = IFISAdapter(checkpoint=str(checkpoint), device=str(device))

    def predict(image: np.ndarray, interactions: Sequence[Interaction],
                regions: Sequence[int]) -> np.ndarray:
        adapter.set_image(image)
        return to_region_map(adapter.predict(interactions, regions, None), regions,
                             (int(image.shape[0]), int(image.shape[1])))

    return predict


def example_tensors(example: IFISExample, device: Any) -> dict[str, Any]:
    """The model's inputs for `example`: image (1, 3, H, W) float in [0, 1] on `device`,
    boxes (N, 4) int64, pos / neg (N, H, W) float annotation maps (``adapters.ifis``), and
    target (H, W) int64 on `device`."""
    import torch

    shape = (int(example.target.shape[0]), int(example.target.shape[1]))
    boxes, pos, neg = region_inputs(example.interactions, example.regions, shape, device)
    return {"image": image_tensor(example.image, device), "boxes": boxes, "pos": pos,
            "neg": neg, "target": torch.from_numpy(example.target).to(device)}


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


def train_ifis(variant: str, dataset: Any, out_dir: str | Path, *,
               stage: str = "extreme_points", extreme_points_model: str | None = None,
               epochs: int = 1, lr: float = IFIS_LR, device: str = "auto",
               bf16: bool = False, max_steps: int | None = None, seed: int = 0,
               paper_split: bool = True, data_root: str | None = None) -> TrainResult:
    """Train an ifis model and write ``model.safetensors`` + ``model.json`` (a checkpoint
    the adapter loads with ``--checkpoint out_dir``), ``loss_log.csv`` and
    ``train_summary.json`` under `out_dir`.

    One image per optimiser step, images in a seeded order per epoch, Adam at a constant
    `lr`, no augmentation (all ours).

    Args:
        variant: a zoo variant of type "ifis" (ifis, ifis-tiny).
        dataset: a full-image Dataset or registry name (coco-panoptic-train-full, or
            synthetic-panoptic for smoke runs); `data_root` as for the other datasets.
        stage: "extreme_points" (the extreme-point model) or "scribbles" (the scribble
            model: needs `extreme_points_model`, a checkpoint of the first).
        paper_split: train on the stage's 12.5 % share (:func:`paper_share`), else on all.
        max_steps: stop after this many steps (smoke runs, tests).

    Raises:
        TrainingError: a variant of another model type, a bad stage, a scribble stage
            without the extreme-point model, or an empty share.
    """
    import torch

    from iseg_bench.models.checkpoint import checkpoint_paths, save_checkpoint
    from iseg_bench.models.runtime import resolve_device
    from iseg_bench.models.zoo import build_model, variant_config

    if variant_config(variant)[0] != "ifis":
        raise TrainingError(f"{variant!r} is not an ifis variant")
    if stage not in STAGES:
        raise TrainingError(f"unknown ifis stage {stage!r}; known: {', '.join(STAGES)}")
    if stage == "scribbles" and not extreme_points_model:
        raise TrainingError("the scribble model is trained on the extreme-point model's "
                            "predictions: give extreme_points_model (its checkpoint)")
    if isinstance(dataset, str):
        from iseg_bench.datasets.registry import get_dataset

        dataset = get_dataset(dataset, data_root)
    indices = (paper_share(len(dataset), stage, seed) if paper_split
               else np.arange(len(dataset)))
    if len(indices) == 0:
        raise TrainingError(f"no training image in the {stage} share of {len(dataset)}")
    dev = resolve_device(device)
    model = build_model(variant, seed=seed).to(dev)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    predict: Predictor | None = None
    if extreme_points_model and stage == "scribbles":
        predict = checkpoint_predictor(extreme_points_model, dev)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    meta = dict(model_name=variant, stage=stage, dataset=getattr(dataset, "name", ""),
                lr=lr, batch_size=1, seed=seed, paper_split=paper_split,
                n_images=int(len(indices)), extreme_points_model=extreme_points_model)
    t0, step, epoch, last = time.perf_counter(), 0, 0, float("nan")
    with open(out / "loss_log.csv", "w", newline="") as log_file:
        log = csv.writer(log_file)
        log.writerow(["step", "epoch", "loss", "seconds"])
        while epoch < epochs and (max_steps is None or step < max_steps):
            order = np.random.default_rng([seed, epoch]).permutation(indices)
            for i in order:
                rng = np.random.default_rng([seed, epoch, int(i)])
                sample = dataset.load(int(i))
                example = (extreme_point_example(sample, rng) if predict is None
                           else scribble_example(sample, predict, rng))
                last = ifis_step(model, optimizer, example, dev, bf16)
                step += 1
                log.writerow([step, epoch, f"{last:.6f}", f"{time.perf_counter() - t0:.2f}"])
                if max_steps is not None and step >= max_steps:
                    break
            else:
                epoch += 1
    save_checkpoint(model, out / "model", variant=variant, meta={**meta, "step": step})
    seconds = time.perf_counter() - t0
    (out / "train_summary.json").write_text(json.dumps(
        {**meta, "steps": step, "epochs_done": epoch, "last_loss": last, "seconds": seconds},
        indent=2))
    return TrainResult(steps=step, epochs_done=epoch, last_loss=last,
                       checkpoint=checkpoint_paths(out / "model")[0], seconds=seconds)

"""The training loop behind ``iseg-bench train``, common to every bundled click model: data
order, batches, the learning-rate schedule, the loss log, checkpoints and resume. Each
model's recipe (``training.emc_click``, ``training.acc99net``, ``training.siis``) supplies
the rest; the loop, its files and the resume rules are specified in
``docs/models/torch-models.md`` ("Training").

Constants: ``RECIPES``, model type -> recipe.
"""

from __future__ import annotations

import csv
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from iseg_bench.training.acc99net import ACC99_RECIPE
from iseg_bench.training.data import load_batch
from iseg_bench.training.emc_click import EMC_RECIPE
from iseg_bench.training.recipe import Recipe, TrainingError
from iseg_bench.training.scribbleseg import SCRIBBLESEG_RECIPE
from iseg_bench.training.siis import SIIS_RECIPE

RECIPES = {r.model_type: r for r in (EMC_RECIPE, ACC99_RECIPE, SCRIBBLESEG_RECIPE, SIIS_RECIPE)}


@dataclass
class TrainResult:
    """What `train` did: optimiser steps run, epochs completed, the last loss, the path of
    the checkpoint's weights file and the wall-clock seconds."""

    steps: int
    epochs_done: int
    last_loss: float
    checkpoint: Path
    seconds: float


def recipe_for(model_type: str) -> Recipe:
    """The training recipe of zoo model type `model_type`.

    Raises:
        TrainingError: no recipe trains that model type.
    """
    if model_type not in RECIPES:
        raise TrainingError(f"no training recipe for model type {model_type!r}; known: "
                            f"{', '.join(sorted(RECIPES))}")
    return RECIPES[model_type]


def _resolve_dataset(dataset: Any, data_root: str | None) -> Any:
    if isinstance(dataset, str):
        from iseg_bench.datasets.registry import get_dataset

        return get_dataset(dataset, data_root)
    return dataset


def train(model_name: str, dataset: Any, epochs: int = 1, batch_size: int | None = None,
          lr: float | None = None, device: str = "auto", out_dir: str | Path = "runs/train",
          resume: bool = False, max_steps: int | None = None, *,
          crop_size: tuple[int, int] | None = None, augment: bool = True, seed: int = 0,
          progress: bool = True, bf16: bool = False, data_root: str | None = None,
          pretrained_backbone: str | None = None, save_every: int | None = None,
          model_overrides: dict[str, Any] | None = None, micro_batch: int | None = None,
          samples_per_epoch: int | None = None) -> TrainResult:
    """Train `model_name` on `dataset` and write checkpoints under `out_dir`.

    Args:
        model_name: a zoo variant: emc-click, emc-click-b3, acc99net, emc-click-tiny,
            acc99net-tiny, scribbleseg, scribbleseg-b3, scribbleseg-tiny, siis, siis-tiny.
        dataset: a Dataset object or a registry name (then `data_root` or $ISEG_BENCH_DATA).
        epochs: passes over the dataset, or epochs of `samples_per_epoch` draws.
        batch_size: samples per step (default: 64 for EMC-Click, 8 for SIIS, 1 for acc99net).
        lr: learning rate (default: the recipe's for the variant, the paper's or the
            authors' configuration's).
        device: "auto", "cpu", "cuda" or "cuda:i".
        out_dir: output folder (model.safetensors + model.json, train_state.pt, loss_log.csv).
        resume: continue from `out_dir`'s last checkpoint and state.
        max_steps: stop after this many optimiser steps in total (smoke runs, tests); EMC-Click
            makes one step per batch, acc99net one per click (4 per image).
        crop_size: (h, w) training crop (default: the paper's).
        augment: apply the paper's augmentations (off: centred crops, no jitter).
        seed: seeds weights, sample order, augmentations and click rounds.
        progress: show a tqdm progress bar.
        bf16: bfloat16 autocast on CUDA.
        pretrained_backbone: ImageNet weights for the backbone: EMC-Click a folder (or hub
            name) of MiT weights or the authors' mit_b0.pth / mit_b3.pth, for the HRNet
            variants an official HRNet ImageNet .pth file; acc99net a .safetensors
            ResNet-50 GN+WS state dict.
        save_every: also checkpoint every this many steps (default: end of each epoch).
        model_overrides: config fields to override on the variant (new runs only).
        micro_batch: split each batch into micro-batches of this size and accumulate their
            gradients before the one optimiser step (recipes with ``micro_step`` only).
        samples_per_epoch: samples drawn per epoch (default: the recipe's
            ``epoch_samples``, else one pass over the dataset).

    Returns:
        TrainResult.

    Raises:
        TrainingError: an unusable dataset or resume folder, a model without a recipe, a
            micro-batch for a recipe that cannot split batches, or fewer samples per epoch
            than one batch.
    """
    import torch

    from iseg_bench.models.checkpoint import checkpoint_paths, load_checkpoint, save_checkpoint
    from iseg_bench.models.runtime import resolve_device
    from iseg_bench.models.zoo import build_model, variant_config

    model_type, _ = variant_config(model_name)
    recipe = recipe_for(model_type)
    batch_size = int(batch_size or recipe.batch_size)
    lr = float(lr if lr is not None else recipe.variant_lr.get(model_name, recipe.lr))
    step_fn = recipe.step
    if micro_batch:
        if recipe.micro_step is None:
            raise TrainingError(f"--micro-batch: the {model_type} recipe cannot split a batch; "
                                "leave it unset")
        step_fn = recipe.micro_step(int(micro_batch))
    epoch_samples = samples_per_epoch or recipe.epoch_samples
    if epoch_samples is not None and epoch_samples < batch_size:
        raise TrainingError(f"--samples-per-epoch {epoch_samples} is less than one batch of "
                            f"{batch_size}; raise it or lower --batch-size")
    crop: tuple[int, int] = (int(crop_size[0]), int(crop_size[1])) if crop_size else recipe.crop
    dev = resolve_device(device)
    ds = _resolve_dataset(dataset, data_root)
    if len(ds) == 0:
        raise TrainingError("the training dataset is empty")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    state_path = out / "train_state.pt"
    ckpt = out / "model"

    start_epoch, start_batch, step = 0, 0, 0
    if resume and state_path.is_file():
        model, _ = load_checkpoint(ckpt, dev)
        state = torch.load(state_path, map_location=dev, weights_only=True)
        if state.get("model_name") != model_name:
            raise TrainingError(f"{out} holds a {state.get('model_name')!r} run, not "
                                f"{model_name!r}")
        start_epoch, start_batch, step = state["epoch"], state["batch"], state["step"]
    elif resume:
        raise TrainingError(f"--resume: no train_state.pt in {out}; start a new run without "
                            "--resume")
    else:
        model = build_model(model_name, seed=seed, **(model_overrides or {}))
        if recipe.initialize is not None:
            recipe.initialize(model)
        if pretrained_backbone:
            recipe.load_pretrained(model, pretrained_backbone)
    model.to(dev)
    optimizer = recipe.optimizer(model, lr)
    milestones = sorted({m for m in (int(round(f * epochs)) for f in recipe.milestones)
                         if 0 < m < epochs})
    scheduler: Any = (
        torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=recipe.epoch_gamma)
        if recipe.epoch_gamma is not None else
        torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=milestones, gamma=0.1))
    if resume:
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])

    n_batches = (epoch_samples // batch_size if epoch_samples is not None
                 else math.ceil(len(ds) / batch_size))
    log_path = out / "loss_log.csv"
    new_log = not (resume and log_path.is_file())
    log_file = open(log_path, "w" if new_log else "a", newline="")
    log = csv.writer(log_file)
    if new_log:
        log.writerow(["step", "epoch", "loss", "lr", "seconds"])
    meta = dict(model_name=model_name, dataset=getattr(ds, "name", str(dataset)), lr=lr,
                batch_size=batch_size, crop=list(crop), seed=seed, augment=augment,
                micro_batch=micro_batch, samples_per_epoch=epoch_samples)

    def save(epoch: int, batch: int) -> None:
        save_checkpoint(model, ckpt, variant=model_name,
                        meta={**meta, "step": step, "epoch": epoch})
        torch.save({"model_name": model_name, "epoch": epoch, "batch": batch, "step": step,
                    "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()},
                   state_path)

    t0 = time.perf_counter()
    last_loss = float("nan")
    epoch = start_epoch
    stop = False
    from tqdm import tqdm

    while epoch < epochs and not stop:
        epoch_rng = np.random.default_rng([seed, epoch])
        order = (epoch_rng.integers(len(ds), size=epoch_samples) if epoch_samples is not None
                 else epoch_rng.permutation(len(ds)))
        first_batch = start_batch if epoch == start_epoch else 0
        bar = tqdm(range(first_batch, n_batches), desc=f"{model_name} epoch {epoch + 1}/{epochs}",
                   disable=not progress, leave=False)
        for bi in bar:
            rng = np.random.default_rng([seed, epoch, bi, 1])
            batch = load_batch(ds, order[bi * batch_size:(bi + 1) * batch_size], crop, recipe,
                               rng, augment)
            if batch is None:
                continue
            last_loss, n_steps = step_fn(model, optimizer, batch, dev, rng, bf16)
            step += n_steps
            log.writerow([step, epoch, f"{last_loss:.6f}", optimizer.param_groups[0]["lr"],
                          f"{time.perf_counter() - t0:.2f}"])
            if progress:
                bar.set_postfix(loss=f"{last_loss:.4f}")
            if save_every and step % save_every < n_steps:
                save(epoch, bi + 1)
            if max_steps is not None and step >= max_steps:
                stop = True
                save(epoch, bi + 1)
                break
        if not stop:
            epoch += 1
            scheduler.step()
            save(epoch, 0)
    log_file.close()
    weights, _ = checkpoint_paths(ckpt)
    (out / "train_summary.json").write_text(json.dumps(
        {**meta, "steps": step, "epochs_done": epoch, "last_loss": last_loss,
         "seconds": time.perf_counter() - t0}, indent=2))
    return TrainResult(steps=step, epochs_done=epoch, last_loss=last_loss, checkpoint=weights,
                       seconds=time.perf_counter() - t0)

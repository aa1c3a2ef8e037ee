"""Training loop behind ``iseg-bench train`` for the bundled click models.

``train(model_name, dataset, ...)`` trains one variant of :mod:`iseg_bench.models.zoo`
(``emc-click``, ``emc-click-b3``, ``acc99net`` or a ``-tiny`` variant) on any single-object
dataset (``len(ds)``, ``ds.load(i) -> Sample`` with a bool target), with a progress bar, a
loss log (``<out>/loss_log.csv``: step, epoch, loss, lr, seconds) and checkpoints in the
safetensors + JSON format of :mod:`iseg_bench.models.checkpoint` (``<out>/model.*``, always
the latest) plus ``<out>/train_state.pt`` (optimiser, scheduler, position) for ``resume``.

Schedules, per paper:

* EMC-Click (Du et al. 2023, Sec. 4.1): Adam (beta1 0.9, beta2 0.999), learning rate 2e-3
  (SegFormer series), divided by 10 at 200/230 and 220/230 of the epochs; crops 320 x 480;
  augmentation: random resize in [0.75, 1.40], horizontal flip, brightness/contrast and RGB
  jitter (limits not given in the paper; ours: brightness and contrast factor in
  [0.8, 1.2], per-channel shift in [-10, 10] grey levels). Iterative click simulation
  (Mahadevan et al. 2018 as used by RITM): the first click at the object centre, then a
  number of extra rounds r in {0, .., 3} drawn with P(r) proportional to 0.8^r (decaying
  probability; 3 rounds and 0.8 are the RITM public code's max_num_next_clicks and
  prob_gamma), each adding a click at the centre of the largest error region of the model's
  own prediction made without gradients; then the loss is the normalised focal loss
  (alpha 0.5, gamma 2) on the base network's coarse mask plus on the corrected mask.
  The paper's batch is 64 and an epoch 30000 images; here an epoch is one pass over the
  dataset and the batch size is an argument (default 8).
* 99%-accuracy network (Forte et al. 2020, Sec. 3.2): RAdam, learning rate 1e-5, weight
  decay 0.005 on convolution weights and 1e-5 on GroupNorm parameters (0 on biases: ours),
  divided by 10 at epochs 14, 17 and 20 of 25 (scaled to the epochs asked for); crops
  352 x 352; horizontal flip, gamma in [0.8, 1.25] and brightness in [0.8, 1.2] (ranges ours);
  click-by-click training: per image, 4 clicks from an empty prediction, each at the centre
  of the largest error region, loss (soft-IoU + click location, Eq. 1) and a weight update
  after every click; batch size 1 (a larger batch advances its images in lockstep).

Crops always contain object pixels (the crop centre is a random object pixel); regions
outside the image after padding are ignored by the losses and the click simulation.
"""

from __future__ import annotations

import csv
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from iseg_bench.errors import IsegBenchError

EMC_DEFAULTS = dict(lr=2e-3, batch_size=8, crop=(320, 480), milestones=(200 / 230, 220 / 230))
ACC99_DEFAULTS = dict(lr=1e-5, batch_size=1, crop=(352, 352), milestones=(14 / 25, 17 / 25, 20 / 25))
EMC_MAX_ROUNDS = 3
EMC_ROUND_GAMMA = 0.8
ACC99_CLICKS = 4
ACC99_WEIGHT_DECAY_CONV = 0.005
ACC99_WEIGHT_DECAY_GN = 1e-5
EMC_RESIZE = (0.75, 1.40)


class TrainingError(IsegBenchError):
    """Training cannot start or continue (bad dataset, bad resume folder, ...)."""


@dataclass
class TrainResult:
    """What `train` did: steps run, last loss, where the checkpoint is."""

    steps: int
    epochs_done: int
    last_loss: float
    checkpoint: Path
    seconds: float


# ----------------------------------------------------------------------------- data


def _augment_and_crop(sample, crop: tuple[int, int], model_type: str, rng: np.random.Generator,
                      augment: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(image (h, w, 3) float32 in [0, 1], target (h, w) bool, ignore (h, w) bool)."""
    image = sample.image
    target = np.asarray(sample.target)
    if target.dtype != bool:
        raise TrainingError(f"sample {sample.sample_id}: training needs a single-object (bool) "
                            "target; full-image region maps are not supported")
    ignore = np.asarray(sample.ignore, bool)
    if augment and model_type == "emc-click":
        s = rng.uniform(*EMC_RESIZE)
        h, w = target.shape
        nh, nw = max(1, int(round(h * s))), max(1, int(round(w * s)))
        image = cv2.resize(image, (nw, nh), interpolation=cv2.INTER_LINEAR)
        target = cv2.resize(target.astype(np.uint8), (nw, nh), interpolation=cv2.INTER_NEAREST) > 0
        ignore = cv2.resize(ignore.astype(np.uint8), (nw, nh), interpolation=cv2.INTER_NEAREST) > 0
    if augment and rng.random() < 0.5:
        image, target, ignore = image[:, ::-1], target[:, ::-1], ignore[:, ::-1]
    img = image.astype(np.float32) / 255.0
    if augment:
        if model_type == "emc-click":
            img = (img - 0.5) * rng.uniform(0.8, 1.2) + 0.5  # contrast
            img = img * rng.uniform(0.8, 1.2)  # brightness
            img = img + rng.uniform(-10, 10, size=3).astype(np.float32) / 255.0  # RGB shift
        else:
            img = np.clip(img, 0, 1) ** rng.uniform(0.8, 1.25)  # gamma
            img = img * rng.uniform(0.8, 1.2)  # brightness
        img = np.clip(img, 0.0, 1.0).astype(np.float32)
    # crop (ch, cw) centred on a random object pixel, padding with ignored zeros
    ch, cw = crop
    h, w = target.shape
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


def _load_batch(dataset, indices, crop, model_type, rng, augment):
    import torch

    imgs, tgts, igns = [], [], []
    for i in indices:
        img, t, ig = _augment_and_crop(dataset.load(int(i)), crop, model_type, rng, augment)
        if not (t & ~ig).any():
            continue  # object cropped away or empty target: skip this sample
        imgs.append(img)
        tgts.append(t)
        igns.append(ig)
    if not imgs:
        return None
    image = torch.from_numpy(np.stack(imgs)).permute(0, 3, 1, 2).contiguous()
    return image, np.stack(tgts), np.stack(igns)


def _clicks_tensor(clicks: list[list[tuple[int, int, bool]]]):
    """(B, N, 3) float [y, x, label], label 1 / 0, padded with -1 rows."""
    import torch

    n = max(1, max(len(c) for c in clicks))
    out = torch.full((len(clicks), n, 3), -1.0)
    for b, cs in enumerate(clicks):
        for j, (y, x, p) in enumerate(cs):
            out[b, j] = torch.tensor([y, x, 1.0 if p else 0.0])
    return out


# ----------------------------------------------------------------------------- steps


def _emc_step(model, optimizer, batch, device, rng, bf16):
    import torch

    from iseg_bench.models.click_encodings import disk_maps
    from iseg_bench.models.click_simulation import largest_error_click, object_centre_click
    from iseg_bench.models.losses import normalized_focal_loss
    from iseg_bench.models.runtime import autocast

    image, tgt, ign = batch
    bsz, _, h, w = image.shape
    clicks = [[object_centre_click(tgt[b] & ~ign[b])] for b in range(bsz)]

    def disks_of(cl):
        return torch.from_numpy(np.stack([disk_maps(c, (h, w)) for c in cl])).to(device)

    image = image.to(device)
    target = torch.from_numpy(tgt).unsqueeze(1).float().to(device)
    ignore = torch.from_numpy(ign).unsqueeze(1).to(device)
    first = disks_of(clicks)
    weights = np.array([EMC_ROUND_GAMMA ** r for r in range(EMC_MAX_ROUNDS + 1)])
    rounds = int(rng.choice(EMC_MAX_ROUNDS + 1, p=weights / weights.sum()))
    model.train()
    with autocast(device, bf16):
        feats, coarse = model.encode(image, first)
        prev = torch.sigmoid(coarse.float()).detach()
        with torch.no_grad():
            for _ in range(rounds):
                logits = model.correct(image, disks_of(clicks), prev, feats.detach(),
                                       _clicks_tensor(clicks).to(device))
                prev = torch.sigmoid(logits.float())
                pred = (prev[:, 0] > 0.5).cpu().numpy()
                for b in range(bsz):
                    c = largest_error_click(pred[b], tgt[b], ign[b])
                    if c is not None:
                        clicks[b].append(c)
        logits = model.correct(image, disks_of(clicks), prev, feats, _clicks_tensor(clicks).to(device))
    loss = (normalized_focal_loss(coarse.float(), target, ignore)
            + normalized_focal_loss(logits.float(), target, ignore))
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return float(loss.detach()), 1


def _acc99_step(model, optimizer, batch, device, rng, bf16, n_clicks=ACC99_CLICKS):
    import torch

    from iseg_bench.models.click_encodings import click_point_mask, gaussian_maps
    from iseg_bench.models.click_simulation import largest_error_click
    from iseg_bench.models.losses import soft_iou_click_loss
    from iseg_bench.models.runtime import autocast

    image, tgt, ign = batch
    bsz, _, h, w = image.shape
    image = image.to(device)
    target = torch.from_numpy(tgt).unsqueeze(1).float().to(device)
    ignore = torch.from_numpy(ign).unsqueeze(1).to(device)
    prev = torch.zeros(bsz, 1, h, w, device=device)
    clicks: list[list] = [[] for _ in range(bsz)]
    model.train()
    losses = []
    for _ in range(n_clicks):
        pred = (prev[:, 0] > 0.5).cpu().numpy()
        for b in range(bsz):
            c = largest_error_click(pred[b], tgt[b], ign[b])
            if c is not None:
                clicks[b].append(c)
        gauss = torch.from_numpy(np.stack([gaussian_maps(c, (h, w)) for c in clicks])).to(device)
        cmask = torch.from_numpy(np.stack([click_point_mask(c, (h, w)) for c in clicks]))
        with autocast(device, bf16):
            out = model(image, gauss, prev)
        loss = soft_iou_click_loss(out.float(), target, cmask.unsqueeze(1).to(device), ignore)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
        prev = out.detach().float()
    return float(np.mean(losses)), n_clicks


# ----------------------------------------------------------------------------- optimiser


def _optimizer(model, model_type: str, lr: float):
    import torch

    if model_type == "emc-click":
        return torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.999))
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


def _resolve_dataset(dataset, data_root):
    if isinstance(dataset, str):
        from iseg_bench.datasets.registry import get_dataset

        return get_dataset(dataset, data_root)
    return dataset


def train(model_name: str, dataset: Any, epochs: int = 1, batch_size: int | None = None,
          lr: float | None = None, device: str = "auto", out_dir: str | Path = "runs/train",
          resume: bool = False, max_steps: int | None = None, *, crop_size: tuple[int, int] | None = None,
          augment: bool = True, seed: int = 0, progress: bool = True, bf16: bool = False,
          data_root: str | None = None, pretrained_backbone: str | None = None,
          save_every: int | None = None, model_overrides: dict | None = None) -> TrainResult:
    """Train `model_name` on `dataset` and write checkpoints under `out_dir`.

    Args:
        model_name: a zoo variant: emc-click, emc-click-b3, acc99net, emc-click-tiny,
            acc99net-tiny.
        dataset: a Dataset object or a registry name (then `data_root` or $ISEG_BENCH_DATA).
        epochs: passes over the dataset.
        batch_size: samples per step (default: 8 for EMC-Click, 1 for acc99net).
        lr: learning rate (default: the paper's, see the module docstring).
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
        pretrained_backbone: folder (or hub name) of ImageNet weights for the backbone.
        save_every: also checkpoint every this many steps (default: end of each epoch).
        model_overrides: config fields to override on the variant (new runs only).

    Returns:
        TrainResult. Raises TrainingError on an unusable dataset or resume folder.
    """
    import torch

    from iseg_bench.models.checkpoint import checkpoint_paths, load_checkpoint, save_checkpoint
    from iseg_bench.models.runtime import resolve_device
    from iseg_bench.models.zoo import build_model, variant_config

    model_type, _ = variant_config(model_name)
    defaults = EMC_DEFAULTS if model_type == "emc-click" else ACC99_DEFAULTS
    batch_size = int(batch_size or defaults["batch_size"])
    lr = float(lr if lr is not None else defaults["lr"])
    crop = tuple(crop_size) if crop_size else defaults["crop"]
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
            raise TrainingError(f"{out} holds a {state.get('model_name')!r} run, not {model_name!r}")
        start_epoch, start_batch, step = state["epoch"], state["batch"], state["step"]
    elif resume:
        raise TrainingError(f"--resume: no train_state.pt in {out}; start a new run without --resume")
    else:
        model = build_model(model_name, seed=seed, **(model_overrides or {}))
        if pretrained_backbone:
            from iseg_bench.models.hf_backbones import (
                load_pretrained_bit,
                load_pretrained_segformer,
            )

            if model_type == "emc-click":
                load_pretrained_segformer(model.base.encoder, pretrained_backbone)
            else:
                load_pretrained_bit(model.image_stream, pretrained_backbone)
    model.to(dev)
    optimizer = _optimizer(model, model_type, lr)
    milestones = sorted({m for m in (int(round(f * epochs)) for f in defaults["milestones"]) if 0 < m < epochs})
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=milestones, gamma=0.1)
    if resume:
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])

    n_batches = math.ceil(len(ds) / batch_size)
    log_path = out / "loss_log.csv"
    new_log = not (resume and log_path.is_file())
    log_file = open(log_path, "w" if new_log else "a", newline="")
    log = csv.writer(log_file)
    if new_log:
        log.writerow(["step", "epoch", "loss", "lr", "seconds"])
    meta = dict(model_name=model_name, dataset=getattr(ds, "name", str(dataset)), lr=lr,
                batch_size=batch_size, crop=list(crop), seed=seed, augment=augment)

    def save(epoch: int, batch: int) -> None:
        save_checkpoint(model, ckpt, variant=model_name, meta={**meta, "step": step, "epoch": epoch})
        torch.save({"model_name": model_name, "epoch": epoch, "batch": batch, "step": step,
                    "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()},
                   state_path)

    t0 = time.perf_counter()
    last_loss = float("nan")
    epoch = start_epoch
    stop = False
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover
        tqdm = None
    step_fn = _emc_step if model_type == "emc-click" else _acc99_step
    while epoch < epochs and not stop:
        order = np.random.default_rng([seed, epoch]).permutation(len(ds))
        first_batch = start_batch if epoch == start_epoch else 0
        batches = range(first_batch, n_batches)
        bar = tqdm(batches, desc=f"{model_name} epoch {epoch + 1}/{epochs}", disable=not progress,
                   leave=False) if tqdm else batches
        for bi in bar:
            rng = np.random.default_rng([seed, epoch, bi, 1])
            batch = _load_batch(ds, order[bi * batch_size:(bi + 1) * batch_size], crop, model_type,
                                rng, augment)
            if batch is None:
                continue
            last_loss, n_steps = step_fn(model, optimizer, batch, dev, rng, bf16)
            step += n_steps
            log.writerow([step, epoch, f"{last_loss:.6f}", optimizer.param_groups[0]["lr"],
                          f"{time.perf_counter() - t0:.2f}"])
            if tqdm and progress:
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

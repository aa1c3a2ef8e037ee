"""``iseg-bench train`` (the bundled PyTorch models) and ``models`` (the model registry)."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option("--model", required=True,
              type=click.Choice(["emc-click", "emc-click-b3", "acc99net", "emc-click-tiny",
                                 "acc99net-tiny"]),
              help="Bundled model to train (acc99net: Forte et al.'s 99%-accuracy network).")
@click.option("--dataset", required=True, help="Any single-object dataset of the registry.")
@click.option("--data-root", type=click.Path(file_okay=False), default=None,
              help="Folder holding the datasets (default: $ISEG_BENCH_DATA).")
@click.option("--epochs", default=1, show_default=True, type=click.IntRange(1))
@click.option("--batch-size", type=click.IntRange(1), default=None,
              help="Default: the paper's (8 for EMC-Click, 1 for acc99net).")
@click.option("--lr", type=float, default=None, help="Default: the paper's learning rate.")
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:i.")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Output folder (default: runs/train/<model>).")
@click.option("--resume", is_flag=True, help="Continue from the last checkpoint in --out.")
@click.option("--max-steps", type=click.IntRange(1), default=None,
              help="Stop after this many optimiser steps (smoke runs).")
@click.option("--crop", default=None, metavar="HxW", help="Training crop (default: the paper's).")
@click.option("--no-augment", is_flag=True, help="No augmentation (centred crops).")
@click.option("--seed", default=0, show_default=True)
@click.option("--bf16", is_flag=True, help="bfloat16 autocast on CUDA.")
@click.option("--pretrained-backbone", default=None,
              help="Folder (or hub name, when online) of ImageNet backbone weights.")
@click.option("--progress/--no-progress", default=True, show_default=True)
def train(model: str, dataset: str, data_root: str | None, epochs: int,
          batch_size: int | None, lr: float | None, device: str, out: str | None,
          resume: bool, max_steps: int | None, crop: str | None, no_augment: bool, seed: int,
          bf16: bool, pretrained_backbone: str | None, progress: bool) -> None:
    """Train a bundled PyTorch model; writes model.safetensors + model.json, a loss log and a
    resumable state (needs the `models` extra).

    \b
    Example:
      iseg-bench train --model emc-click --dataset grabcut --data-root ../shared/datasets \
          --epochs 2 --out runs/train/emc
      iseg-bench run --model emc-click --checkpoint runs/train/emc --dataset davis
    """
    from iseg_bench.training import train as run_training

    crop_size = _crop_size(crop) if crop else None
    result = run_training(model, dataset, epochs, batch_size, lr, device,
                          Path(out) if out else Path("runs") / "train" / model, resume,
                          max_steps, crop_size=crop_size, augment=not no_augment, seed=seed,
                          progress=progress, bf16=bf16, data_root=data_root,
                          pretrained_backbone=pretrained_backbone)
    click.echo(f"{result.steps} steps, {result.epochs_done} epochs, last loss "
               f"{result.last_loss:.4f}, {result.seconds:.1f} s; checkpoint: {result.checkpoint}")


def _crop_size(text: str) -> tuple[int, int]:
    """"HxW" -> (H, W); raises click.BadParameter otherwise."""
    height, sep, width = text.lower().partition("x")
    if not (sep and height.isdigit() and width.isdigit()):
        raise click.BadParameter(f"{text!r} is not HxW, e.g. 320x480", param_hint="--crop")
    return int(height), int(width)


@click.command()
def models() -> None:
    """List the registered models (built-in and from the iseg_bench.models entry points)."""
    from iseg_bench.adapters.registry import MODELS

    for name, spec in sorted(MODELS.entries().items()):
        click.echo(f"{name:<20} {spec}")

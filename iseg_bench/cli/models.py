"""``iseg-bench train`` (the bundled PyTorch models) and ``models`` (the model registry)."""

from __future__ import annotations

from pathlib import Path

import click

#: trained by training.loop (one recipe each) / by training.ifis
RECIPE_MODELS = ("emc-click", "emc-click-b3", "emc-click-hr18s", "emc-click-hr18",
                 "emc-click-hr32", "emc-click-hr-tiny", "acc99net", "emc-click-tiny",
                 "acc99net-tiny", "scribbleseg", "scribbleseg-b3", "scribbleseg-tiny", "siis",
                 "siis-tiny")
FULL_IMAGE_MODELS = ("ifis", "ifis-tiny")


@click.command()
@click.option("--model", required=True,
              type=click.Choice([*RECIPE_MODELS, *FULL_IMAGE_MODELS]),
              help="Bundled model to train (acc99net: Forte et al.'s 99%-accuracy network; "
                   "ifis: Agustsson et al.'s full-image model).")
@click.option("--dataset", required=True, help="Any single-object dataset of the registry "
              "(ifis: a full-image dataset, e.g. coco-panoptic-train-full).")
@click.option("--data-root", type=click.Path(file_okay=False), default=None,
              help="Folder holding the datasets (default: $ISEG_BENCH_DATA).")
@click.option("--epochs", default=1, show_default=True, type=click.IntRange(1))
@click.option("--batch-size", type=click.IntRange(1), default=None,
              help="Default: the paper's (64 for EMC-Click, 8 for SIIS, 1 for acc99net; 8 for "
                   "ScribbleSeg, ours).")
@click.option("--micro-batch", type=click.IntRange(1), default=None,
              help="EMC-Click: accumulate the gradients of each batch over micro-batches of "
                   "this size (batch 64 on a small machine).")
@click.option("--samples-per-epoch", type=click.IntRange(1), default=None,
              help="Samples drawn per epoch (default: EMC-Click 30000 as the authors; the "
                   "others one pass over the dataset).")
@click.option("--lr", type=float, default=None,
              help="Default: the paper's / authors' configuration's learning rate (EMC-Click "
                   "b0 1e-3, b3 2e-3, hr18s/hr18 1e-3, hr32 8e-4).")
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
              help="ImageNet backbone weights. EMC-Click: mit_b0.pth / mit_b3.pth, or a "
                   "folder (or hub name, when online) of MiT weights; its HRNet variants: "
                   "the official HRNet ImageNet .pth (e.g. "
                   "hrnetv2_w18_imagenet_pretrained.pth); acc99net: a "
                   ".safetensors ResNet-50 GN+WS state dict.")
@click.option("--stage", type=click.Choice(["extreme_points", "scribbles"]),
              default="extreme_points", show_default=True,
              help="ifis only: train the extreme-point model or the scribble model.")
@click.option("--extreme-points-model", type=click.Path(exists=True), default=None,
              help="ifis --stage scribbles: checkpoint of the trained extreme-point model.")
@click.option("--allow-eval-set", is_flag=True,
              help="Train on a dataset declared an evaluation benchmark (grabcut, davis, "
                   "sbd, ...), refused without this flag.")
@click.option("--progress/--no-progress", default=True, show_default=True)
def train(model: str, dataset: str, data_root: str | None, epochs: int,
          batch_size: int | None, micro_batch: int | None, samples_per_epoch: int | None,
          lr: float | None, device: str, out: str | None,
          resume: bool, max_steps: int | None, crop: str | None, no_augment: bool, seed: int,
          bf16: bool, pretrained_backbone: str | None, stage: str,
          extreme_points_model: str | None, allow_eval_set: bool, progress: bool) -> None:
    """Train a bundled PyTorch model; writes model.safetensors + model.json, a loss log and a
    resumable state (needs the `models` extra).

    \b
    Example:
      iseg-bench train --model emc-click --dataset sbd-train --data-root ../shared/datasets \
          --epochs 2 --out runs/train/emc
      iseg-bench run --model emc-click --checkpoint runs/train/emc --dataset davis
    """
    if not allow_eval_set:
        _refuse_evaluation_set(dataset)
    out_dir = Path(out) if out else Path("runs") / "train" / model
    if model in FULL_IMAGE_MODELS:
        _reject_recipe_training_flags(batch_size=batch_size, resume=resume, crop=crop,
                                     no_augment=no_augment,
                                     pretrained_backbone=pretrained_backbone,
                                     micro_batch=micro_batch,
                                     samples_per_epoch=samples_per_epoch)
        from iseg_bench.training.ifis import IFIS_LR, train_ifis

        result = train_ifis(model, dataset, out_dir, stage=stage,
                            extreme_points_model=extreme_points_model, epochs=epochs,
                            lr=IFIS_LR if lr is None else lr, device=device, bf16=bf16,
                            max_steps=max_steps, seed=seed, data_root=data_root)
    else:
        from iseg_bench.training import train as run_training

        crop_size = _crop_size(crop) if crop else None
        result = run_training(model, dataset, epochs, batch_size, lr, device, out_dir, resume,
                              max_steps, crop_size=crop_size, augment=not no_augment,
                              seed=seed, progress=progress, bf16=bf16, data_root=data_root,
                              pretrained_backbone=pretrained_backbone,
                              micro_batch=micro_batch, samples_per_epoch=samples_per_epoch)
    click.echo(f"{result.steps} steps, {result.epochs_done} epochs, last loss "
               f"{result.last_loss:.4f}, {result.seconds:.1f} s; checkpoint: {result.checkpoint}")


def _refuse_evaluation_set(dataset: str) -> None:
    """Raise a one-line usage error when `dataset` is declared an evaluation benchmark
    (``Dataset.evaluation_set``), naming the registered training sets."""
    from iseg_bench.datasets.registry import DATASETS, dataset_class

    if dataset_class(dataset).evaluation_set:
        training = sorted(name for name in DATASETS.entries()
                          if not dataset_class(name).evaluation_set)
        raise click.UsageError(f"{dataset} is an evaluation benchmark; training on it needs "
                               f"--allow-eval-set (training sets: {', '.join(training)})")


def _reject_recipe_training_flags(**given: object) -> None:
    """Raise a usage error naming the recipe models' training flags given to a full-image
    model."""
    used = [f"--{name.replace('_', '-')}" for name, value in given.items()
            if value not in (None, False)]
    if used:
        raise click.UsageError(f"{', '.join(used)}: training options of the recipe models; the "
                               "full-image model (ifis) does not take them")


def _crop_size(text: str) -> tuple[int, int]:
    """"HxW" -> (H, W); raises click.BadParameter otherwise."""
    height, sep, width = text.lower().partition("x")
    if not (sep and height.isdigit() and width.isdigit()):
        raise click.BadParameter(f"{text!r} is not HxW, e.g. 320x480", param_hint="--crop")
    return int(height), int(width)


@click.group(invoke_without_command=True)
@click.pass_context
def models(ctx: click.Context) -> None:
    """List the registered models (built-in and from the iseg_bench.models entry points) and
    the authors' released checkpoint files each bundled model loads.

    \b
    Sub-commands:
      iseg-bench models convert segb0.pth -o weights/emc-b0   # authors' file -> ours
    """
    if ctx.invoked_subcommand is not None:
        return
    from iseg_bench.adapters.registry import MODELS
    from iseg_bench.models.release_files import RELEASED_FILES

    for name, spec in sorted(MODELS.entries().items()):
        files = [f for f, variant in RELEASED_FILES.items() if variant == name]
        loads = f"  (loads the authors' {', '.join(files)})" if files else ""
        click.echo(f"{name:<20} {spec}{loads}")


@models.command("convert")
@click.argument("checkpoint", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False),
              help="Folder to write model.safetensors + model.json into.")
def models_convert(checkpoint: str, output: str) -> None:
    """Convert an authors' released CHECKPOINT (.pth: EMC-Click segb0/segb3/hr18s/hr18/hr32,
    the 99% network's InterSegSynthFT) into our format; read safely (no code in the file is
    run), every key checked. Then: iseg-bench run --model emc-click --checkpoint OUTPUT ..."""
    from iseg_bench.models.released import convert

    click.echo(f"wrote {convert(checkpoint, output)}")

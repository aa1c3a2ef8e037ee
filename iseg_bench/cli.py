"""The ``iseg-bench`` command line (click)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from iseg_bench.errors import IsegBenchError


def _parse_options(pairs: tuple[str, ...]) -> dict:
    """["k=v", ...] -> {k: v} with v read as JSON when possible (numbers, true/false)."""
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise click.BadParameter(f"{pair!r} is not key=value")
        try:
            out[key.replace("-", "_")] = json.loads(value)
        except json.JSONDecodeError:
            out[key.replace("-", "_")] = value
    return out


def _with_flags(pairs: tuple[str, ...], **flags) -> dict:
    """KEY=VALUE pairs plus the flags that were given (None = not given)."""
    return {**_parse_options(pairs), **{k: v for k, v in flags.items() if v is not None}}



def _thresholds(text: str) -> tuple[float, ...]:
    return tuple(float(t) for t in text.split(",") if t.strip())


class _Group(click.Group):
    """Turns IsegBenchError into a one-line message and exit status 2 (no traceback)."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except IsegBenchError as exc:
            click.secho(f"error: {exc}", fg="red", err=True)
            sys.exit(2)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="iseg-bench")
def main() -> None:
    """Benchmark interactive segmentation models with deterministic robot users.

    \b
    Start with:
      iseg-bench datasets                      # which benchmark folders are found
      iseg-bench run --model grabcut --dataset grabcut --data-root ../shared/datasets
      iseg-bench report runs/*                 # one table across runs
    """


@main.command()
@click.option("--model", required=True, help="Registered model name (see `iseg-bench models`) "
              "or an importable 'package.module:Factory'.")
@click.option("--dataset", required=True, help="Dataset name (see `iseg-bench datasets`).")
@click.option("--protocol", default="single-object", show_default=True,
              help="single-object (clicks or scribbles on one object at a time), full-image "
                   "(all regions of an image at once), sequential (category streams).")
@click.option("--robot", default="clicker", show_default=True,
              help="clicker: the reference center-of-error clicker (RITM protocol); "
                   "dios-clicker: centre of the largest error region (a different robot).")
@click.option("--max-clicks", "--max-interactions", "max_interactions", default=20,
              show_default=True, type=click.IntRange(1), help="Interactions per sample.")
@click.option("--iou-thresholds", default="0.85,0.90,0.95", show_default=True,
              help="Comma-separated IoU thresholds of NoC/NoF.")
@click.option("--prob-threshold", default=0.49, show_default=True, type=float,
              help="Foreground when probability > this (reference code: 0.49).")
@click.option("--stop-at-iou", type=float, default=None,
              help="Stop a sample once it reaches this IoU (the reference code's early "
                   "stop). Default: run all interactions so every curve is complete.")
@click.option("--compat", type=click.Choice(["ritm"]), default=None,
              help="Reproduce the reference code's quirks: NoF also counts samples reaching "
                   "the threshold exactly at the last click, thresholds 0.8500000000000001...")
@click.option("--seed", default=0, show_default=True, help="Seed of randomised robots/orders.")
@click.option("--data-root", type=click.Path(file_okay=False), default=None,
              help="Folder holding the datasets (default: $ISEG_BENCH_DATA).")
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Run folder to write (default: runs/<model>_<dataset>_<robot>_<time>).")
@click.option("--limit", type=click.IntRange(1), default=None, help="Only the first N samples.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1),
              help="Worker processes; records are identical to a serial run.")
@click.option("--model-opt", multiple=True, metavar="KEY=VALUE", help="Model option (repeatable).")
@click.option("--device", default=None, help="Bundled PyTorch models: auto, cpu, cuda or "
              "cuda:i (default auto).")
@click.option("--checkpoint", type=click.Path(exists=True), default=None,
              help="Bundled PyTorch models: weights (.safetensors with its .json, or a folder); "
                   "default: $ISEG_BENCH_WEIGHTS.")
@click.option("--random-init", is_flag=True, default=False,
              help="Bundled PyTorch models: random weights (smoke runs only; numbers are "
                   "meaningless).")
@click.option("--bf16", is_flag=True, default=False,
              help="Bundled PyTorch models: bfloat16 autocast on CUDA.")
@click.option("--robot-opt", multiple=True, metavar="KEY=VALUE", help="Robot option (repeatable).")
@click.option("--dataset-opt", multiple=True, metavar="KEY=VALUE",
              help="Dataset option (repeatable), e.g. seed=3 for synthetic.")
@click.option("--protocol-opt", multiple=True, metavar="KEY=VALUE",
              help="Protocol option (repeatable).")
@click.option("--allocation", type=click.Choice(["free", "per-region"]), default=None,
              help="full-image: how each round's scribbles are allocated (Agustsson et al., "
                   "Sec. 5.3). Default: free.")
@click.option("--rounds", type=click.IntRange(1), default=None,
              help="full-image: rounds of corrective scribbles (default 10).")
@click.option("--orders", type=click.IntRange(1), default=None,
              help="sequential: stream orders per category, drawn from --seed (default 5).")
@click.option("--learn-from", type=click.Choice(["gt", "prediction"]), default=None,
              help="sequential: what a finished annotation teaches the model (default gt).")
@click.option("--learn-delay", type=click.IntRange(0), default=None,
              help="sequential: sample n uses the model as after sample n - delay (default 1).")
@click.option("--resume", "resume", type=click.Path(file_okay=False, exists=True),
              default=None, help="Continue the interrupted run in this folder: the other "
              "options must match it; finished samples are kept, failed ones re-tried.")
@click.option("--fail-fast", is_flag=True, help="Stop at the first failed sample.")
@click.option("--sample-timeout", type=click.FloatRange(0, min_open=True), default=None,
              metavar="SECONDS", help="Time limit per sample: samples run in worker "
              "processes and one still running after SECONDS is killed and recorded as failed.")
@click.option("--progress/--no-progress", default=True, show_default=True)
def run(model, dataset, protocol, robot, max_interactions, iou_thresholds, prob_threshold,
        stop_at_iou, compat, seed, data_root, out, limit, workers, model_opt, robot_opt,
        dataset_opt, protocol_opt, device, checkpoint, random_init, bf16, allocation, rounds,
        orders, learn_from, learn_delay, resume, fail_fast, sample_timeout, progress):
    """Evaluate MODEL on DATASET with a robot user; write records, summary and plots.

    \b
    Example:
      iseg-bench run --model random-walker --dataset davis --data-root ../shared/datasets \\
          --workers 2 --out runs/rw-davis
    """
    from iseg_bench.config import RunConfig
    from iseg_bench.reports.tables import summary_frame
    from iseg_bench.execution import execute

    config = RunConfig(model=model, dataset=dataset, robot=robot, protocol=protocol,
                       max_interactions=max_interactions, prob_threshold=prob_threshold,
                       iou_thresholds=_thresholds(iou_thresholds), stop_at_iou=stop_at_iou,
                       compat=compat, seed=seed, limit=limit, data_root=data_root,
                       workers=workers,
                       model_options=_with_flags(model_opt, device=device, checkpoint=checkpoint,
                                                 random_init=random_init or None,
                                                 bf16=bf16 or None),
                       robot_options=_parse_options(robot_opt),
                       dataset_options=_parse_options(dataset_opt),
                       protocol_options=_with_flags(
                           protocol_opt, allocation=allocation, rounds=rounds, orders=orders,
                           learn_from=learn_from, learn_delay=learn_delay))
    out_dir = Path(out) if out else Path("runs") / (
        f"{model.replace(':', '-').replace('/', '-')}_{dataset}_{robot}_"
        f"{time.strftime('%Y%m%d-%H%M%S')}")
    if resume is not None:
        if out is not None and Path(out) != Path(resume):
            raise click.UsageError("--out and --resume name different folders; give one")
        out_dir = Path(resume)
    elif (out_dir / "records.jsonl").exists():
        raise click.UsageError(f"{out_dir} already holds a run; choose another --out or "
                               f"continue it with --resume {out_dir}")
    outcome = execute(config, out_dir, progress=progress, resume=resume is not None,
                      fail_fast=fail_fast, sample_timeout=sample_timeout)
    click.echo(summary_frame([outcome.summary]).to_string(index=False))
    from iseg_bench.protocols.registry import protocol_class

    unit = protocol_class(config.protocol).unit_name
    click.echo(f"\nrun folder: {outcome.out_dir}  ({outcome.n_ok} {unit}s done, "
               f"{outcome.n_failed} failed; see failures.csv)")
    if not outcome.complete:
        click.echo(f"incomplete run ({'interrupted' if outcome.interrupted else 'stopped'}):"
                   f" figures cover the samples done; continue with --resume {outcome.out_dir}")
    if outcome.interrupted:
        sys.exit(130)
    if outcome.n_failed:
        sys.exit(1)


@main.command()
@click.argument("runs", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--format", "fmt", type=click.Choice(["table", "md", "csv"]), default="table",
              show_default=True)
def report(runs, fmt):
    """One table of figures across RUNS (run folders or summary.json files)."""
    from iseg_bench.reports.tables import summary_frame, to_markdown
    from iseg_bench.execution import load_run

    frame = summary_frame([load_run(Path(r))[1] for r in runs])
    text = {"table": lambda: frame.to_string(index=False), "md": lambda: to_markdown(frame),
            "csv": lambda: frame.to_csv(index=False).rstrip("\n")}[fmt]()
    click.echo(text)


@main.command()
@click.argument("runs", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="PNG file to write.")
def plot(runs, output):
    """Per-interaction mIoU curves of several RUNS on one figure.

    Full-image runs are drawn on the axes of Agustsson et al. Fig. 5 (mean IoU against
    scribbles per region)."""
    from iseg_bench.reports.plots import miou_curves
    from iseg_bench.execution import load_run

    summaries = [load_run(Path(r))[1] for r in runs]
    labels = [f"{s.get('model')} / {s.get('dataset')} / {s.get('robot')}" for s in summaries]
    if all(s.get("protocol") == "full-image" for s in summaries):
        from iseg_bench.reports.full_image import fig5_plot

        labels = [f"{s.get('model')} / {s.get('dataset')} / {s.get('allocation')}"
                  for s in summaries]
        click.echo(fig5_plot(summaries, labels, Path(output)))
        return
    click.echo(miou_curves(summaries, labels, Path(output)))


@main.command()
@click.argument("baseline", type=click.Path(exists=True))
@click.argument("candidate", type=click.Path(exists=True))
@click.option("--tolerance", default="", metavar="FAMILY=DELTA,...",
              help="Allowed worsening per figure family (noc, nof, miou, auc, failed, "
                   "seconds) or figure (noc@90, miou@5), e.g. noc=0.05,miou=0.005. "
                   "Default 0; seconds are not checked unless given.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Also write the Markdown table to this file.")
def compare(baseline, candidate, tolerance, output):
    """Compare CANDIDATE against BASELINE (run folders or summary.json files).

    Prints a Markdown table of every figure with its delta; exits 1 when any figure got
    worse beyond its tolerance, 2 when the runs' protocol settings differ.

    \b
    Example (CI):
      iseg-bench compare baselines/grabcut-summary.json runs/candidate --tolerance noc=0.05
    """
    from iseg_bench.reports.compare import compare_paths

    try:
        result = compare_paths(Path(baseline), Path(candidate), tolerance)
    except FileNotFoundError as exc:
        raise click.UsageError(str(exc)) from exc
    text = result.markdown()
    click.echo(text)
    if output:
        Path(output).write_text(text + "\n", encoding="utf-8")
    if result.regressions:
        sys.exit(1)


@main.group(invoke_without_command=True)
@click.option("--data-root", type=click.Path(file_okay=False), default=None,
              help="Folder holding the datasets (default: $ISEG_BENCH_DATA).")
@click.pass_context
def datasets(ctx, data_root):
    """List every dataset: found or missing, sample counts, expected layout when missing.

    \b
    Sub-commands:
      iseg-bench datasets build ade20k-scribble   # write the ADE20K scribble manifest
    """
    ctx.obj = {"data_root": data_root}
    if ctx.invoked_subcommand is not None:
        return
    from iseg_bench.datasets.listing import list_datasets

    for row in list_datasets(data_root):
        status = "found" if row["found"] else "missing"
        count = "" if row.get("n_samples") is None else f"{row['n_samples']} samples"
        click.echo(f"{row['name']:<18} {status:<8} {count:<14} {row.get('path') or ''}")
        if not row["found"] and row.get("problem"):
            click.echo("    " + str(row["problem"]).splitlines()[0])


@datasets.command("build")
@click.argument("name", type=click.Choice(["ade20k-scribble"]))
@click.option("--seed", default=0, show_default=True, help="Seed of the per-category draw.")
@click.option("--per-category", default=5, show_default=True,
              help="Segments per category (all when fewer exist).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Manifest file (.json or .csv); default: inside the ADE20K folder, "
                   "where the ade20k-scribble dataset looks for it.")
@click.pass_context
def datasets_build(ctx, name, seed, per_category, output):
    """Build a benchmark manifest from a local dataset copy.

    ade20k-scribble: the ScribbleSeg ADE20K benchmark (Chen et al., Sec. 3.4): 5 segments
    per category of ADE20K panoptic val, drawn from --seed. The paper's own draw cannot be
    reproduced; this one is fixed by its seed and the manifest file.
    """
    from iseg_bench.datasets.ade20k_scribble import build_ade20k_scribble_manifest
    from iseg_bench.datasets.registry import resolve_data_root

    root = resolve_data_root(ctx.obj["data_root"])
    if root is None:
        raise click.UsageError("give --data-root (before 'build') or set ISEG_BENCH_DATA")
    path = build_ade20k_scribble_manifest(root, Path(output) if output else None, seed=seed,
                                          per_category=per_category)
    click.echo(f"wrote {path}")


@main.command()
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
def train(model, dataset, data_root, epochs, batch_size, lr, device, out, resume, max_steps,
          crop, no_augment, seed, bf16, pretrained_backbone, progress):
    """Train a bundled PyTorch model; writes model.safetensors + model.json, a loss log and a
    resumable state (needs the `models` extra).

    \b
    Example:
      iseg-bench train --model emc-click --dataset grabcut --data-root ../shared/datasets \
          --epochs 2 --out runs/train/emc
      iseg-bench run --model emc-click --checkpoint runs/train/emc --dataset davis
    """
    from iseg_bench.training import train as run_training

    crop_size = tuple(int(v) for v in crop.lower().split("x")) if crop else None
    result = run_training(model, dataset, epochs, batch_size, lr, device,
                          Path(out) if out else Path("runs") / "train" / model, resume,
                          max_steps, crop_size=crop_size, augment=not no_augment, seed=seed,
                          progress=progress, bf16=bf16, data_root=data_root,
                          pretrained_backbone=pretrained_backbone)
    click.echo(f"{result.steps} steps, {result.epochs_done} epochs, last loss "
               f"{result.last_loss:.4f}, {result.seconds:.1f} s; checkpoint: {result.checkpoint}")


@main.command()
def models():
    """List the registered models (built-in and from the iseg_bench.models entry points)."""
    from iseg_bench.adapters.registry import MODELS

    for name, spec in sorted(MODELS.entries().items()):
        click.echo(f"{name:<20} {spec}")


if __name__ == "__main__":
    main()

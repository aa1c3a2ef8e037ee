"""The ``iseg-bench`` command line (click); the commands are described in ``docs/cli.md``.

Exit status: 0 done, 1 some samples failed (``run``) or a figure got worse (``compare``),
2 a usage error (bad option, unknown name, missing data) shown as one line, 130 a run
stopped by Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NoReturn

import click

from iseg_bench.api import default_run_folder
from iseg_bench.config import RunConfig
from iseg_bench.errors import IsegBenchError, UsageError
from iseg_bench.execution import execute
from iseg_bench.options import options_help
from iseg_bench.protocols.registry import PROTOCOLS, protocol_class
from iseg_bench.registry import Registry
from iseg_bench.robots.registry import ROBOTS
from iseg_bench.run_folder import load_run
from iseg_bench.thresholds import parse_thresholds

#: exit status of a usage error (click's own convention)
USAGE_EXIT = 2
#: exit status of a run interrupted by Ctrl-C / SIGTERM (128 + SIGINT)
INTERRUPTED_EXIT = 130


def _fail(message: str) -> NoReturn:
    click.secho(f"error: {message}", fg="red", err=True)
    sys.exit(USAGE_EXIT)


class _Group(click.Group):
    """Reports IsegBenchError and click's usage errors as one line, exit status 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            _fail(exc.format_message())
        except IsegBenchError as exc:
            _fail(str(exc))


def _option_value(text: str) -> Any:
    """The value of a KEY=VALUE option: JSON when it parses (numbers, true/false), else text."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


class _KeyValue(click.ParamType[tuple[str, Any]]):
    """A KEY=VALUE pair: (key with '-' read as '_', :func:`_option_value` of the value)."""

    name = "KEY=VALUE"

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> tuple[str, Any]:
        key, sep, text = str(value).partition("=")
        if not sep:
            self.fail(f"{value!r} is not key=value", param, ctx)
        return key.replace("-", "_"), _option_value(text)


class _Thresholds(click.ParamType[tuple[float, ...]]):
    """Comma-separated IoU thresholds, checked by ``thresholds.parse_thresholds``."""

    name = "T1,T2,..."

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> tuple[float, ...]:
        try:
            return parse_thresholds(value)
        except UsageError as exc:
            self.fail(str(exc), param, ctx)


@dataclass(frozen=True)
class _Alias:
    """A flag of `run` that is a thin alias of ``--<target>-opt KEY=VALUE``."""

    flag: str
    target: Literal["protocol", "model"]
    key: str
    help: str
    metavar: str | None = None   # None: an on/off flag (KEY=true when given)


#: the protocol- and model-specific flags of `run`; the option classes validate the values
RUN_ALIASES = (
    _Alias("--allocation", "protocol", "allocation", "full-image: how each round's "
           "scribbles are allocated, free or per-region (default free).", "free|per-region"),
    _Alias("--rounds", "protocol", "rounds", "full-image: rounds of corrective scribbles "
           "(default 10).", "N"),
    _Alias("--orders", "protocol", "orders", "sequential: stream orders per category, drawn "
           "from --seed (default 5).", "N"),
    _Alias("--learn-from", "protocol", "learn_from", "sequential: what a finished "
           "annotation teaches the model, gt or prediction (default gt).", "gt|prediction"),
    _Alias("--learn-delay", "protocol", "learn_delay", "sequential: sample n uses the model "
           "as after sample n - delay, >= 1 (default 1).", "N"),
    _Alias("--device", "model", "device", "Bundled PyTorch models: auto, cpu, cuda or "
           "cuda:i (default auto).", "DEVICE"),
    _Alias("--checkpoint", "model", "checkpoint", "Bundled PyTorch models: weights "
           "(.safetensors with its .json, or a folder); default: $ISEG_BENCH_WEIGHTS.",
           "PATH"),
    _Alias("--random-init", "model", "random_init", "Bundled PyTorch models: random weights "
           "(smoke runs only; numbers are meaningless)."),
    _Alias("--bf16", "model", "bf16", "Bundled PyTorch models: bfloat16 autocast on CUDA."),
)


def _alias_param(alias: _Alias) -> str:
    return alias.flag.lstrip("-").replace("-", "_")


def _with_aliases(command: Any) -> Any:
    """Add every RUN_ALIASES flag to `command` (their values arrive in ``**aliases``)."""
    for alias in reversed(RUN_ALIASES):
        value = "..." if alias.metavar is not None else "true"
        help_text = f"{alias.help} Same as --{alias.target}-opt {alias.key}={value}."
        if alias.metavar is None:
            command = click.option(alias.flag, _alias_param(alias), is_flag=True,
                                   help=help_text)(command)
        else:
            command = click.option(alias.flag, _alias_param(alias), metavar=alias.metavar,
                                   default=None, help=help_text)(command)
    return command


def _options(pairs: tuple[tuple[str, Any], ...], target: str,
             aliases: dict[str, Any]) -> dict[str, Any]:
    """The KEY=VALUE pairs of ``--<target>-opt``, updated by the alias flags of `target`
    that were given (an alias wins over a pair of the same key)."""
    out = dict(pairs)
    for alias in RUN_ALIASES:
        value = aliases[_alias_param(alias)]
        if alias.target != target or value is None or value is False:
            continue
        out[alias.key] = True if alias.metavar is None else _option_value(value)
    return out


def _options_section(kind: str, registry: Registry) -> list[tuple[str, str]]:
    """(name, options help) of every `registry` entry whose class has an ``options_class``."""
    rows = []
    for name in registry.names():
        options_class = getattr(registry.resolve(name), "options_class", None)
        if options_class is not None:
            rows.append((f"{kind} {name}", options_help(options_class)))
    return rows


class _RunCommand(click.Command):
    """`run`, whose help ends with the options of every protocol and robot."""

    def format_epilog(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        for title, kind, registry in (("Protocol options (--protocol-opt KEY=VALUE)",
                                       "protocol", PROTOCOLS),
                                      ("Robot options (--robot-opt KEY=VALUE)", "robot",
                                       ROBOTS)):
            rows = _options_section(kind, registry)
            if rows:
                with formatter.section(title):
                    for name, text in rows:
                        formatter.write_text(f"{name}:")
                        with formatter.indentation():
                            for line in text.splitlines():
                                formatter.write_text(line)
        super().format_epilog(ctx, formatter)


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


@main.command(cls=_RunCommand)
@click.option("--model", required=True, help="Registered model name (see `iseg-bench models`) "
              "or an importable 'package.module:Factory'.")
@click.option("--dataset", required=True, help="Dataset name (see `iseg-bench datasets`).")
@click.option("--protocol", default="single-object", show_default=True,
              help="single-object (clicks or scribbles on one object at a time), full-image "
                   "(all regions of an image at once), sequential (category streams).")
@click.option("--robot", default="clicker", show_default=True,
              help="clicker: the reference center-of-error clicker (RITM protocol); "
                   "dios-clicker: centre of the largest error region (a different robot); "
                   "scribbler: corrective scribbles.")
@click.option("--max-clicks", "--max-interactions", "max_interactions", default=20,
              show_default=True, type=click.IntRange(1), help="Interactions per sample.")
@click.option("--iou-thresholds", default="0.85,0.90,0.95", show_default=True,
              type=_Thresholds(), help="Comma-separated IoU thresholds of NoC/NoF, in (0, 1].")
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
@click.option("--model-opt", multiple=True, type=_KeyValue(), help="Model option (repeatable).")
@click.option("--robot-opt", multiple=True, type=_KeyValue(), help="Robot option (repeatable).")
@click.option("--dataset-opt", multiple=True, type=_KeyValue(),
              help="Dataset option (repeatable), e.g. seed=3 for synthetic.")
@click.option("--protocol-opt", multiple=True, type=_KeyValue(),
              help="Protocol option (repeatable); see the list below.")
@_with_aliases
@click.option("--resume", "resume", type=click.Path(file_okay=False, exists=True),
              default=None, help="Continue the interrupted run in this folder: the other "
              "options must match it; finished samples are kept, failed ones re-tried.")
@click.option("--fail-fast", is_flag=True, help="Stop at the first failed sample.")
@click.option("--sample-timeout", type=click.FloatRange(0, min_open=True), default=None,
              metavar="SECONDS", help="Time limit per sample: samples run in worker "
              "processes and one still running after SECONDS is killed and recorded as failed.")
@click.option("--progress/--no-progress", default=True, show_default=True)
def run(model: str, dataset: str, protocol: str, robot: str, max_interactions: int,
        iou_thresholds: tuple[float, ...], prob_threshold: float, stop_at_iou: float | None,
        compat: str | None, seed: int, data_root: str | None, out: str | None,
        limit: int | None, workers: int, model_opt: tuple[tuple[str, Any], ...],
        robot_opt: tuple[tuple[str, Any], ...], dataset_opt: tuple[tuple[str, Any], ...],
        protocol_opt: tuple[tuple[str, Any], ...], resume: str | None, fail_fast: bool,
        sample_timeout: float | None, progress: bool, **aliases: Any) -> None:
    """Evaluate MODEL on DATASET with a robot user; write records, summary and plots.

    \b
    Example:
      iseg-bench run --model random-walker --dataset davis --data-root ../shared/datasets \\
          --workers 2 --out runs/rw-davis
    """
    config = RunConfig(model=model, dataset=dataset, robot=robot, protocol=protocol,
                       max_interactions=max_interactions, prob_threshold=prob_threshold,
                       iou_thresholds=iou_thresholds, stop_at_iou=stop_at_iou,
                       compat=compat, seed=seed, limit=limit, data_root=data_root,
                       workers=workers,
                       model_options=_options(model_opt, "model", aliases),
                       robot_options=dict(robot_opt), dataset_options=dict(dataset_opt),
                       protocol_options=_options(protocol_opt, "protocol", aliases))
    _execute(config, _run_folder(config, out, resume), resume is not None, fail_fast,
             sample_timeout, progress)


def _run_folder(config: RunConfig, out: str | None, resume: str | None) -> Path:
    """The folder of a new run (--out, or :func:`~iseg_bench.api.default_run_folder`) or of
    the resumed one (``execute`` refuses a new run into a folder that holds one).

    Raises:
        click.UsageError: --out and --resume name different folders.
    """
    if resume is None:
        return Path(out) if out else default_run_folder(config)
    if out is not None and Path(out) != Path(resume):
        raise click.UsageError("--out and --resume name different folders; give one")
    return Path(resume)


def _execute(config: RunConfig, out_dir: Path, resume: bool, fail_fast: bool,
             sample_timeout: float | None, progress: bool) -> None:
    """Run `config`, print its table and folder; exit 130 when interrupted, 1 on failures."""
    from iseg_bench.reports.tables import summary_frame

    outcome = execute(config, out_dir, progress=progress, resume=resume, fail_fast=fail_fast,
                      sample_timeout=sample_timeout)
    click.echo(summary_frame([outcome.summary]).to_string(index=False))
    unit = protocol_class(config.protocol).unit_name
    click.echo(f"\nrun folder: {outcome.out_dir}  ({outcome.n_ok} {unit}s done, "
               f"{outcome.n_failed} failed; see failures.csv)")
    if not outcome.complete:
        click.echo(f"incomplete run ({'interrupted' if outcome.interrupted else 'stopped'}):"
                   f" figures cover the samples done; continue with --resume {outcome.out_dir}")
    if outcome.interrupted:
        sys.exit(INTERRUPTED_EXIT)
    if outcome.n_failed:
        sys.exit(1)


@main.command()
@click.argument("runs", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--format", "fmt", type=click.Choice(["table", "md", "csv"]), default="table",
              show_default=True)
def report(runs: tuple[str, ...], fmt: str) -> None:
    """One table of figures across RUNS (run folders or summary.json files)."""
    from iseg_bench.reports import summary_frame, to_markdown

    frame = summary_frame([load_run(Path(r))[1] for r in runs])
    if fmt == "md":
        click.echo(to_markdown(frame))
    elif fmt == "csv":
        click.echo(frame.to_csv(index=False).rstrip("\n"))
    else:
        click.echo(frame.to_string(index=False))


@main.command()
@click.argument("runs", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="PNG file to write.")
def plot(runs: tuple[str, ...], output: str) -> None:
    """Per-interaction mIoU curves of several RUNS on one figure.

    Full-image runs are drawn on the axes of Agustsson et al. Fig. 5 (mean IoU against
    scribbles per region)."""
    from iseg_bench.reports import plot_runs

    click.echo(plot_runs([load_run(Path(r))[1] for r in runs], Path(output)))


@main.command()
@click.argument("baseline", type=click.Path(exists=True))
@click.argument("candidate", type=click.Path(exists=True))
@click.option("--tolerance", default="", metavar="FAMILY=DELTA,...",
              help="Allowed worsening per figure family (noc, nof, miou, auc, failed, "
                   "seconds) or figure (noc@90, miou@5), e.g. noc=0.05,miou=0.005. "
                   "Default 0; seconds are not checked unless given.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Also write the Markdown table to this file.")
def compare(baseline: str, candidate: str, tolerance: str, output: str | None) -> None:
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
def datasets(ctx: click.Context, data_root: str | None) -> None:
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
def datasets_build(ctx: click.Context, name: str, seed: int, per_category: int,
                   output: str | None) -> None:
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


@main.command()
def models() -> None:
    """List the registered models (built-in and from the iseg_bench.models entry points)."""
    from iseg_bench.adapters.registry import MODELS

    for name, spec in sorted(MODELS.entries().items()):
        click.echo(f"{name:<20} {spec}")


if __name__ == "__main__":
    main()

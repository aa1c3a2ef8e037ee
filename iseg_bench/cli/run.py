"""``iseg-bench run``: its flags (the protocol- and model-specific ones are thin aliases of
``--protocol-opt`` / ``--model-opt``), the option sections of its help, and the run itself.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import click

from iseg_bench.api import choose_robot, default_run_folder, model_defaults, robot_defaults
from iseg_bench.cli.hints import os_error_message, unfinished_run_note
from iseg_bench.config import RunConfig
from iseg_bench.datasets.registry import is_multi_dataset
from iseg_bench.errors import FAILED_EXIT, INTERRUPTED_EXIT, RunFolderError, UsageError
from iseg_bench.execution import execute
from iseg_bench.options import options_help
from iseg_bench.protocols.registry import PROTOCOLS, protocol_class
from iseg_bench.registry import Registry
from iseg_bench.robots.registry import ROBOTS
from iseg_bench.run_folder import CONFIG
from iseg_bench.thresholds import parse_thresholds

#: the option kinds of ``--<kind>-opt KEY=VALUE``, each becoming ``RunConfig.<kind>_options``
OPTION_KINDS = ("model", "robot", "dataset", "protocol")


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

    @property
    def param(self) -> str:
        """The name click gives the flag's value."""
        return self.flag.lstrip("-").replace("-", "_")


#: the protocol- and model-specific flags of `run`; the option classes validate the values
RUN_ALIASES = (
    _Alias("--allocation", "protocol", "allocation", "full-image: how each round's "
           "scribbles are allocated, free or per-region (default free).", "free|per-region"),
    _Alias("--rounds", "protocol", "rounds", "full-image: rounds of corrective scribbles "
           "(default 10).", "N"),
    _Alias("--orders", "protocol", "orders", "sequential: stream orders per category, drawn "
           "from --seed (default 5).", "N"),
    _Alias("--learn-from", "protocol", "learn_from", "sequential: what a finished "
           "annotation teaches the model: prediction (default, as SIIS) or gt (optimistic).",
           "prediction|gt"),
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


def _with_aliases(command: Any) -> Any:
    """Add every RUN_ALIASES flag to `command` (their values arrive with the settings)."""
    for alias in reversed(RUN_ALIASES):
        value = "..." if alias.metavar is not None else "true"
        help_text = f"{alias.help} Same as --{alias.target}-opt {alias.key}={value}."
        if alias.metavar is None:
            command = click.option(alias.flag, alias.param, is_flag=True,
                                   help=help_text)(command)
        else:
            command = click.option(alias.flag, alias.param, metavar=alias.metavar,
                                   default=None, help=help_text)(command)
    return command


def _options(pairs: tuple[tuple[str, Any], ...], target: str,
             aliases: dict[str, Any]) -> dict[str, Any]:
    """The KEY=VALUE pairs of ``--<target>-opt``, updated by the alias flags of `target`
    that were given (an alias wins over a pair of the same key)."""
    out = dict(pairs)
    for alias in RUN_ALIASES:
        value = aliases[alias.param]
        if alias.target != target or value is None or value is False:
            continue
        out[alias.key] = True if alias.metavar is None else _option_value(value)
    return out


def run_config(settings: dict[str, Any]) -> RunConfig:
    """The RunConfig of `run`'s settings: the flags named after RunConfig fields pass
    through, each ``--<kind>-opt`` becomes ``<kind>_options`` and the alias flags are
    merged into the options they stand for."""
    fields = dict(settings)
    aliases = {alias.param: fields.pop(alias.param) for alias in RUN_ALIASES}
    for kind in OPTION_KINDS:
        fields[f"{kind}_options"] = _options(fields.pop(f"{kind}_opt"), kind, aliases)
    fields["robot"] = choose_robot(fields["model"], fields["robot"], fields["protocol"])
    fields["robot_options"] = robot_defaults(fields["robot"], fields["robot_options"])
    fields["model_options"], fields["prob_threshold"] = model_defaults(
        fields["model"], fields["dataset"], fields["model_options"], fields["prob_threshold"])
    return RunConfig(**fields)


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


@click.command(cls=_RunCommand)
@click.option("--model", required=True, help="Registered model name (see `iseg-bench models`) "
              "or an importable 'package.module:Factory'.")
@click.option("--dataset", required=True, help="Dataset name (see `iseg-bench datasets`); "
              "several (grabcut,davis) or a suite (suite:clicks) run one after the other "
              "into OUT/<dataset>/.")
@click.option("--protocol", default="single-object", show_default=True,
              help="single-object (clicks or scribbles on one object at a time), full-image "
                   "(all regions of an image at once), sequential (category streams).")
@click.option("--robot", default=None,
              help="Default: scribbler for a scribble-only model, else clicker. "
                   "clicker: the reference center-of-error clicker (RITM protocol); "
                   "dios-clicker: centre of the largest error region (a different robot); "
                   "acc99-clicker: the 99% network's released robot (Forte et al.; their "
                   "numbers need --prob-threshold 0.49999997, as they threshold at >= 0.5); "
                   "scribbler: corrective scribbles.")
@click.option("--max-clicks", "--max-interactions", "max_interactions", default=20,
              show_default=True, type=click.IntRange(1), help="Interactions per sample.")
@click.option("--iou-thresholds", default="0.85,0.90,0.95", show_default=True,
              type=_Thresholds(), help="Comma-separated IoU thresholds of NoC/NoF, in (0, 1].")
@click.option("--prob-threshold", default=None, type=float,
              help="Foreground when probability > this. Default: the model's own (EMC-Click's "
                   "released evaluation: 0.5), else 0.49 as the field's reference code.")
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
@click.option("--name", default=None, help="The run's label in report tables and plot "
              "legends (default: model / dataset); stored in config.json and summary.json.")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1),
              help="Worker processes (Ray actors with --executor ray); records are "
                   "identical to a serial run.")
@click.option("--batch-size", default=1, show_default=True, type=click.IntRange(1),
              help="Samples advanced in lockstep, one batched model call per step "
                   "(models with predict_batch; others fall back to one call per sample).")
@click.option("--executor", type=click.Choice(["local", "ray"]), default="local",
              show_default=True, help="local: this process or worker processes; ray: Ray "
              "actors on --ray-address (needs the 'ray' extra).")
@click.option("--ray-address", default=None, metavar="HOST:PORT",
              help="Ray cluster to join with --executor ray (default: a local cluster).")
@click.option("--shard", default=None, metavar="I/N", help="Evaluate only shard I of N "
              "(0-based; every N-th sample from the I-th); join with `iseg-bench merge`.")
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
def run(out: str | None, resume: str | None, fail_fast: bool, sample_timeout: float | None,
        progress: bool, **settings: Any) -> None:
    """Evaluate MODEL on DATASET with a robot user; write records, summary and plots.

    \b
    Example:
      iseg-bench run --model random-walker --dataset davis --data-root ../shared/datasets \\
          --workers 2 --out runs/rw-davis
    """
    if is_multi_dataset(settings["dataset"]):
        from iseg_bench.cli.multi import RunSteps, run_datasets

        def one(config: RunConfig, folder: Path, again: bool) -> int:
            return _execute(config, folder, again, fail_fast, sample_timeout, progress)

        status = run_datasets(settings, out, resume, fail_fast,
                              RunSteps(run_config, _run_folder, one))
    else:
        config = run_config(settings)
        status = _execute(config, _run_folder(config, out, resume), resume is not None,
                          fail_fast, sample_timeout, progress)
    if status:
        sys.exit(status)


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
             sample_timeout: float | None, progress: bool) -> int:
    """Run `config`, print its table and folder; the exit status: 130 when interrupted,
    1 on failures, else 0.

    Raises:
        RunFolderError: an OSError during the run (exit status 3), saying whether the
            finished samples are kept.
    """
    from iseg_bench.reports.tables import summary_frame

    note = unfinished_run_note(out_dir) if resume else None
    if note:
        click.echo(f"note: {note}", err=True)
    try:
        outcome = execute(config, out_dir, progress=progress, resume=resume,
                          fail_fast=fail_fast, sample_timeout=sample_timeout)
    except OSError as err:   # a full disk, a folder made read-only during the run
        kept = (f"; the samples finished so far are kept: fix it and continue with --resume "
                f"{out_dir}" if (out_dir / CONFIG).exists() else "")
        raise RunFolderError(os_error_message(err) + kept) from err
    click.echo(summary_frame([outcome.summary]).to_string(index=False))
    unit = protocol_class(config.protocol).unit_name
    click.echo(f"\nrun folder: {outcome.out_dir}  ({outcome.n_ok} {unit}s done, "
               f"{outcome.n_failed} failed; see failures.csv)")
    if not outcome.complete:
        click.echo(f"incomplete run ({'interrupted' if outcome.interrupted else 'stopped'}):"
                   f" figures cover the samples done; continue with --resume {outcome.out_dir}")
    if outcome.interrupted:
        return INTERRUPTED_EXIT
    return FAILED_EXIT if outcome.n_failed else 0

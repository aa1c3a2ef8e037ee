"""``iseg-bench run --dataset a,b,c`` (or ``suite:NAME``): one run per dataset, one after the
other, into OUT/<dataset>/, with OUT/runs.json listing them (docs/cli.md, "Several
datasets").

Each child is an ordinary run folder; ``--resume OUT`` continues every child that was
started and starts the others, so an interrupted multi-dataset run resumes per dataset.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from iseg_bench.config import RunConfig
from iseg_bench.datasets.registry import expand_datasets
from iseg_bench.errors import ConfigMismatchError
from iseg_bench.run_folder import CONFIG, RUNS_JSON, read_runs_listing, write_json


@dataclass(frozen=True)
class RunSteps:
    """How `run` makes one run, handed over by ``cli.run`` (which imports this module).

    Attributes:
        config: `run`'s settings -> RunConfig (names and options checked).
        folder: (config, --out, --resume) -> the run folder.
        execute: (config, folder, resume?) -> exit status (0 done, 1 failed samples, 130
            interrupted), the run's table printed.
    """

    config: Callable[[dict[str, Any]], RunConfig]
    folder: Callable[[RunConfig, str | None, str | None], Path]
    execute: Callable[[RunConfig, Path, bool], int]


def parent_listing(datasets: list[str]) -> dict[str, Any]:
    """The runs.json object: ``datasets`` (in run order) and ``runs`` {dataset: child
    folder, relative to the parent}."""
    return {"datasets": list(datasets), "runs": {d: d for d in datasets}}


def prepare_parent(parent: Path, datasets: list[str], resume: bool) -> None:
    """Create `parent` and write its runs.json; on resume, check it lists `datasets`.

    Raises:
        ConfigMismatchError: resuming a parent of other datasets, or starting a new run
            into a folder that already holds a multi-dataset run.
    """
    stored = read_runs_listing(parent)
    if stored is not None:
        if not resume:
            raise ConfigMismatchError(f"{parent} already holds a multi-dataset run; continue "
                                      f"it with --resume {parent} or choose another --out")
        if stored.get("datasets") != datasets:
            raise ConfigMismatchError(f"cannot resume {parent}: it ran the datasets "
                                      f"{','.join(stored.get('datasets', []))}, this command "
                                      f"names {','.join(datasets)}")
        return
    parent.mkdir(parents=True, exist_ok=True)
    write_json(parent / RUNS_JSON, parent_listing(datasets))


def run_datasets(settings: dict[str, Any], out: str | None, resume: str | None,
                 fail_fast: bool, steps: RunSteps) -> int:
    """Run the settings on every dataset of ``settings["dataset"]``; the exit status:
    that of an interrupted run (above 1; the later datasets are not started), else 1 when
    any sample failed (``fail_fast``: stop at the first such dataset), else 0.

    Every dataset's settings are checked (names, options) before the first run starts.
    """
    datasets = expand_datasets(settings["dataset"])
    configs = [steps.config({**settings, "dataset": d}) for d in datasets]
    named = dataclasses.replace(configs[0], dataset="+".join(datasets))
    parent = steps.folder(named, out, resume)
    prepare_parent(parent, datasets, resume is not None)
    worst = 0
    for dataset, config in zip(datasets, configs):
        child = parent / dataset
        click.echo(f"\n== {dataset} -> {child}")
        status = steps.execute(config, child,
                               resume is not None and (child / CONFIG).exists())
        if status > 1:   # interrupted (130): the later datasets are not started
            click.echo(f"continue all datasets with --resume {parent}")
            return status
        worst = max(worst, status)
        if status and fail_fast:
            break
    click.echo(f"\n{len(datasets)} datasets in {parent} (listed in {parent / RUNS_JSON}); "
               f"one table: iseg-bench report {parent}")
    return worst

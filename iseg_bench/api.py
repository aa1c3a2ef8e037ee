"""The Python entry points: :func:`evaluate` runs a benchmark in this process into a run
folder and returns the :class:`Run`; :func:`choose_robot`, :func:`model_defaults` and
:func:`robot_defaults` complete a run's settings as the command line does."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd

from iseg_bench.adapters.registry import MODELS
from iseg_bench.config import DEFAULT_PROB_THRESHOLD, RunConfig
from iseg_bench.datasets.base import Dataset
from iseg_bench.errors import RunFolderError, UsageError
from iseg_bench.execution import RunOutcome, execute
from iseg_bench.execution.journal import order_results, read_results
from iseg_bench.execution.outputs import records_frame
from iseg_bench.options import reject_unknown
from iseg_bench.protocols.base import Summary
from iseg_bench.protocols.registry import build_protocol
from iseg_bench.robots.base import robot_kinds
from iseg_bench.robots.registry import ROBOTS
from iseg_bench.run_folder import load_run, read_config
from iseg_bench.thresholds import parse_thresholds

#: the folder under which runs without an explicit folder are written
RUNS_ROOT = Path("runs")


def default_run_folder(config: RunConfig) -> Path:
    """runs/<model>_<dataset>_<robot>_<YYYYmmdd-HHMMSS> (':' and '/' of a model path -> '-')."""
    model = config.model.replace(":", "-").replace("/", "-")
    return RUNS_ROOT / f"{model}_{config.dataset}_{config.robot}_{time.strftime('%Y%m%d-%H%M%S')}"


def model_factory(model: Any) -> Any:
    """The registered factory of the model name `model`, or `model` itself when it is an
    adapter instance (both carry the class attributes ``accepts``, ``options_class``,
    ``prob_threshold`` where the model declares them).

    Raises:
        UnknownNameError: an unknown model name.
    """
    return MODELS.resolve(model) if isinstance(model, str) else model


def model_name(model: Any) -> str:
    """How a run names its model: the registry name, or "module:Class" of an adapter
    instance."""
    if isinstance(model, str):
        return model
    return f"{type(model).__module__}:{type(model).__qualname__}"


def choose_robot(model: Any, robot: str | None, protocol: str = "single-object") -> str:
    """The robot of a run: `robot` when given; else, for a single-object run of a model that
    accepts scribbles only, ``scribbler``; else ``clicker``. The full-image and sequential
    protocols bring their own robots and ignore this one. `model` is a name or an adapter
    instance.

    Raises:
        UnknownNameError: an unknown model or robot.
        UsageError: a single-object run whose robot gives interactions the model does not
            accept (e.g. a click robot with a scribble-only model); a replaying robot (whose
            ``kind`` is None) with another protocol.
    """
    accepts = getattr(model_factory(model), "accepts", None)
    if protocol != "single-object":
        if robot is not None and ROBOTS.resolve(robot).kind is None:
            raise UsageError(f"robot {robot} replays single-object sessions only (use "
                             "--protocol single-object)")
        return robot or "clicker"
    if robot is None:
        robot = "scribbler" if accepts == frozenset({"scribble"}) else "clicker"
    kinds = robot_kinds(ROBOTS.resolve(robot))
    if accepts is not None and not kinds <= accepts:
        plural = [k + ("es" if k.endswith("x") else "s") for k in sorted(kinds - accepts)]
        raise UsageError(f"model {model} accepts {', '.join(sorted(accepts))} only; robot "
                         f"{robot} gives {', '.join(plural)} (choose another --robot)")
    return robot


def model_defaults(model: Any, dataset: str, model_options: dict[str, Any],
                   prob_threshold: float | None) -> tuple[dict[str, Any], float]:
    """(model options, probability threshold) of a run with the model's own defaults filled
    in: a model whose options have a ``dataset`` key gets the run's dataset name (EMC-Click's
    preset uses it: short side 576 on DAVIS); the threshold, when not given, is the model
    class's ``prob_threshold`` (EMC-Click's released evaluation: 0.5), else the field's
    0.49 (``config.DEFAULT_PROB_THRESHOLD``).

    `model` is a name or an adapter instance (whose options were given when it was built).

    Raises:
        UnknownNameError: an unknown model.
        UsageError: model options with an adapter instance.
    """
    factory = model_factory(model)
    if not isinstance(model, str) and model_options:
        raise UsageError("model_options apply to a registered model name; build the adapter "
                         "instance with its options instead")
    options_class = getattr(factory, "options_class", None)
    names = {f.name for f in dataclasses.fields(options_class)} if options_class else set()
    if "dataset" in names and "dataset" not in model_options:
        model_options = {**model_options, "dataset": dataset}
    if prob_threshold is None:
        prob_threshold = float(getattr(factory, "prob_threshold", DEFAULT_PROB_THRESHOLD))
    return model_options, prob_threshold


def robot_defaults(robot: str, robot_options: dict[str, Any]) -> dict[str, Any]:
    """`robot_options` completed by the robot class's ``complete_options`` where it has one
    (the replay robot adds its file's SHA-256, so the run's settings name the exact file).

    Raises:
        UnknownNameError: an unknown robot.
        UsageError: raised by ``complete_options`` (e.g. the replay file does not exist).
    """
    complete = getattr(ROBOTS.resolve(robot), "complete_options", None)
    return dict(complete(dict(robot_options)) if complete else robot_options)


@dataclass
class Run:
    """A run folder: its settings, records and figures (``docs/execution.md``).

    Attributes:
        folder: the run folder.
        config: its settings (the RunConfig of ``config.json``).
        outcome: what :func:`evaluate` reported (None for :meth:`load`).
    """

    folder: Path
    config: RunConfig
    outcome: RunOutcome | None = None

    @classmethod
    def load(cls, folder: str | Path) -> Run:
        """The run in `folder` (written by :func:`evaluate` or ``iseg-bench run``).

        Raises:
            RunFolderError: the folder holds no run (no config.json) or a damaged one.
        """
        stored = read_config(Path(folder))
        if stored is None:
            raise RunFolderError(f"{folder} holds no run (no config.json); run "
                                 "`iseg-bench run ... --out DIR` or iseg_bench.evaluate first")
        return cls(Path(folder), RunConfig.from_json(stored))

    @property
    def name(self) -> str:
        """The run's ``name`` when it has one, else the folder's name."""
        return self.config.name or self.folder.name

    @property
    def summary_json(self) -> dict[str, Any]:
        """summary.json as a dict (the typed :attr:`summary`'s figures and the run's
        counts, names and settings identity).

        Raises:
            RunFolderError: no summary.json yet, or a damaged one.
        """
        return self.outcome.summary if self.outcome is not None else load_run(self.folder)[1]

    @cached_property
    def records(self) -> pd.DataFrame:
        """One row per sample and interaction of the completed units, in unit order, timing
        columns (``model_seconds``) included: the rows records.csv and timings.csv hold,
        with their values as recorded (sample ids as strings). Empty when none completed."""
        units = (read_config(self.folder) or {}).get("units")
        return records_frame(order_results(read_results(self.folder), units))

    @cached_property
    def summary(self) -> Summary | None:
        """The protocol's typed summary of :attr:`records` (e.g. ``SingleObjectSummary``;
        its ``to_json()`` is summary.json's figures); None when no unit completed."""
        if not len(self.records):
            return None
        return build_protocol(self.config).summarize(self.records)


def run_config(model: Any, dataset: str | Dataset, robot: str | None,
               settings: dict[str, Any]) -> RunConfig:
    """The RunConfig :func:`evaluate` runs: `settings` checked, the robot chosen and the
    model's and robot's defaults filled in.

    Raises:
        UsageError: an unknown setting, bad IoU thresholds, model options with an adapter
            instance; UnknownNameError: an unknown model or robot.
    """
    fields = [f.name for f in dataclasses.fields(RunConfig)]
    reject_unknown(settings, [f for f in fields if f not in ("model", "dataset", "robot")],
                   "evaluate")
    settings = dict(settings)
    if "iou_thresholds" in settings:
        settings["iou_thresholds"] = parse_thresholds(settings["iou_thresholds"])
    dataset_name = dataset if isinstance(dataset, str) else dataset.name
    robot = choose_robot(model, robot, settings.get("protocol", "single-object"))
    settings["robot_options"] = robot_defaults(robot, settings.get("robot_options") or {})
    settings["model_options"], settings["prob_threshold"] = model_defaults(
        model, dataset_name, dict(settings.get("model_options") or {}),
        settings.get("prob_threshold"))
    return RunConfig(model=model_name(model), dataset=dataset_name, robot=robot, **settings)


def evaluate(model: Any, dataset: str | Dataset, robot: str | None = None, *,
             out_dir: str | Path | None = None, progress: bool = False,
             fail_fast: bool = False, **settings: Any) -> Run:
    """Evaluate `model` on `dataset` with the robot user `robot`, write the run folder and
    return it as a :class:`Run` (records, typed summary, folder).

    Args:
        model: a registered model name, an importable "package.module:Factory", or an
            adapter instance (``set_image`` and ``predict`` as in ``docs/adapters.md``; the
            run names it "module:Class" and records its ``describe()``).
        dataset: a registered dataset name (its folder under ``data_root`` or
            ``$ISEG_BENCH_DATA``) or a Dataset instance.
        robot: a registered robot name (default: :func:`choose_robot`'s).
        out_dir: the run folder to create (default: :func:`default_run_folder`).
        progress: show a progress bar.
        fail_fast: stop at the first failed sample.
        **settings: any other :class:`~iseg_bench.config.RunConfig` field, e.g.
            ``protocol="full-image"``, ``max_interactions=10``,
            ``iou_thresholds=(0.85, 0.9)``, ``limit=5``, ``model_options={"max_side": 120}``,
            ``name="mine"``. ``workers > 1`` evaluates in worker processes (registry names
            only).

    Returns:
        Run: ``run.records`` (DataFrame), ``run.summary`` (typed), ``run.folder``,
        ``run.outcome`` (counts of completed and failed samples).

    Raises:
        UsageError: an unknown setting, bad IoU thresholds, model options with an adapter
            instance, an instance with ``workers > 1``; UnknownNameError: an unknown model,
            dataset, robot or protocol.
        DatasetError / AdapterError: the dataset or the model cannot be loaded.
        IsegBenchError: `out_dir` already holds a run.
    """
    config = run_config(model, dataset, robot, settings)
    folder = Path(out_dir) if out_dir is not None else default_run_folder(config)
    outcome = execute(config, folder, progress=progress, fail_fast=fail_fast,
                      adapter=None if isinstance(model, str) else model,
                      dataset=None if isinstance(dataset, str) else dataset)
    return Run(outcome.out_dir, config, outcome)

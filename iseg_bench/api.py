"""The Python entry point: :func:`evaluate` runs a benchmark in this process into a run folder."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

from iseg_bench.adapters.registry import MODELS
from iseg_bench.config import DEFAULT_PROB_THRESHOLD, RunConfig
from iseg_bench.errors import UsageError
from iseg_bench.execution import RunOutcome, execute
from iseg_bench.options import reject_unknown
from iseg_bench.robots.base import robot_kinds
from iseg_bench.robots.registry import ROBOTS
from iseg_bench.thresholds import parse_thresholds

#: the folder under which runs without an explicit folder are written
RUNS_ROOT = Path("runs")


def default_run_folder(config: RunConfig) -> Path:
    """runs/<model>_<dataset>_<robot>_<YYYYmmdd-HHMMSS> (':' and '/' of a model path -> '-')."""
    model = config.model.replace(":", "-").replace("/", "-")
    return RUNS_ROOT / f"{model}_{config.dataset}_{config.robot}_{time.strftime('%Y%m%d-%H%M%S')}"


def choose_robot(model: str, robot: str | None, protocol: str = "single-object") -> str:
    """The robot of a run: `robot` when given; else, for a single-object run of a model that
    accepts scribbles only, ``scribbler``; else ``clicker``. The full-image and sequential
    protocols bring their own robots and ignore this one.

    Raises:
        UnknownNameError: an unknown model or robot.
        UsageError: a single-object run whose robot gives interactions the model does not
            accept (e.g. a click robot with a scribble-only model).
    """
    accepts = getattr(MODELS.resolve(model), "accepts", None)
    if protocol != "single-object":
        return robot or "clicker"
    if robot is None:
        robot = "scribbler" if accepts == frozenset({"scribble"}) else "clicker"
    kinds = robot_kinds(ROBOTS.resolve(robot))
    if accepts is not None and not kinds <= accepts:
        plural = [k + ("es" if k.endswith("x") else "s") for k in sorted(kinds - accepts)]
        raise UsageError(f"model {model} accepts {', '.join(sorted(accepts))} only; robot "
                         f"{robot} gives {', '.join(plural)} (choose another --robot)")
    return robot


def model_defaults(model: str, dataset: str, model_options: dict[str, Any],
                   prob_threshold: float | None) -> tuple[dict[str, Any], float]:
    """(model options, probability threshold) of a run with the model's own defaults filled
    in: a model whose options have a ``dataset`` key gets the run's dataset name (EMC-Click's
    preset uses it: short side 576 on DAVIS); the threshold, when not given, is the model
    class's ``prob_threshold`` (EMC-Click's released evaluation: 0.5), else the field's
    0.49 (``config.DEFAULT_PROB_THRESHOLD``).

    Raises:
        UnknownNameError: an unknown model.
    """
    factory = MODELS.resolve(model)
    options_class = getattr(factory, "options_class", None)
    names = {f.name for f in dataclasses.fields(options_class)} if options_class else set()
    if "dataset" in names and "dataset" not in model_options:
        model_options = {**model_options, "dataset": dataset}
    if prob_threshold is None:
        prob_threshold = float(getattr(factory, "prob_threshold", DEFAULT_PROB_THRESHOLD))
    return model_options, prob_threshold


def evaluate(model: str, dataset: str, robot: str | None = None, *,
             out_dir: str | Path | None = None, progress: bool = False,
             fail_fast: bool = False, **settings: Any) -> RunOutcome:
    """Evaluate `model` on `dataset` with the robot user `robot`, write the run folder and
    return its outcome (figures in ``outcome.summary``, records in ``out_dir/records.csv``).

    Args:
        model: a registered model name or an importable "package.module:Factory".
        dataset: a registered dataset name (its folder under ``data_root`` or
            ``$ISEG_BENCH_DATA``).
        robot: a registered robot name (default: :func:`choose_robot`'s).
        out_dir: the run folder to create (default: :func:`default_run_folder`).
        progress: show a progress bar.
        fail_fast: stop at the first failed sample.
        **settings: any other :class:`~iseg_bench.config.RunConfig` field, e.g.
            ``protocol="full-image"``, ``max_interactions=10``,
            ``iou_thresholds=(0.85, 0.9)``, ``limit=5``, ``model_options={"max_side": 120}``.
            ``workers > 1`` evaluates in worker processes.

    Returns:
        RunOutcome: the folder, the summary dict, counts of completed and failed samples.

    Raises:
        UsageError: an unknown setting, bad IoU thresholds; UnknownNameError: an unknown
            model, dataset, robot or protocol.
        DatasetError / AdapterError: the dataset or the model cannot be loaded.
        IsegBenchError: `out_dir` already holds a run.
    """
    fields = [f.name for f in dataclasses.fields(RunConfig)]
    reject_unknown(settings, [f for f in fields if f not in ("model", "dataset", "robot")],
                   "evaluate")
    if "iou_thresholds" in settings:
        settings["iou_thresholds"] = parse_thresholds(settings["iou_thresholds"])
    robot = choose_robot(model, robot, settings.get("protocol", "single-object"))
    settings["model_options"], settings["prob_threshold"] = model_defaults(
        model, dataset, dict(settings.get("model_options") or {}),
        settings.get("prob_threshold"))
    config = RunConfig(model=model, dataset=dataset, robot=robot, **settings)
    folder = Path(out_dir) if out_dir is not None else default_run_folder(config)
    return execute(config, folder, progress=progress, fail_fast=fail_fast)

"""The predictions behind a single-object run's records, made again: the run's model gets
the recorded interactions of one sample, one at a time, exactly as in the run.

A run folder stores interactions and IoUs but no masks (docs/reports.md, "Pictures"). The
runs are deterministic (same config, same records), so feeding the recorded interactions
to the model built from ``config.json`` reproduces each prediction; every replayed IoU is
checked against the recorded one (:attr:`Replay.mismatch`), so a model that is not
deterministic on this machine is reported, never shown silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from iseg_bench.adapters.registry import build_adapter
from iseg_bench.config import RunConfig
from iseg_bench.datasets.registry import get_dataset
from iseg_bench.errors import RunFolderError, UsageError
from iseg_bench.protocols.session import ObjectSession, ObjectState, step
from iseg_bench.robots.replay import parse_interaction
from iseg_bench.run_folder import RECORDS_CSV, load_records, read_config
from iseg_bench.types import Interaction, Sample

#: largest |replayed IoU - recorded IoU| still counted as the same prediction
IOU_TOLERANCE = 1e-9


@dataclass
class Replay:
    """One sample's session made again.

    Attributes:
        sample: the sample (image (H, W, 3) uint8, target and ignore (H, W) bool).
        interactions: the recorded interactions, oldest first (K of them).
        masks: (K, H, W) bool, the prediction after each interaction.
        recorded_iou: (K,) float64, the IoU of records.csv after each interaction.
        replayed_iou: (K,) float64, the IoU of the prediction made again.
    """

    sample: Sample
    interactions: list[Interaction]
    masks: np.ndarray
    recorded_iou: np.ndarray
    replayed_iou: np.ndarray

    @property
    def mismatch(self) -> float:
        """Largest |replayed - recorded| IoU over the interactions (0.0 for a faithful
        replay; compare with ``IOU_TOLERANCE``)."""
        return float(np.max(np.abs(self.replayed_iou - self.recorded_iou), initial=0.0))


def run_config(run_dir: Path) -> RunConfig:
    """The RunConfig of a single-object run folder.

    Raises:
        RunFolderError: no config.json or records.csv in `run_dir`.
        UsageError: the run is not a single-object run (full-image and sequential sessions
            cannot be replayed one sample at a time).
    """
    raw = read_config(Path(run_dir))
    if raw is None or not (Path(run_dir) / RECORDS_CSV).exists():
        raise RunFolderError(f"{run_dir} is not a finished run folder (no config.json or "
                             f"{RECORDS_CSV}); run `iseg-bench run ... --out DIR` first")
    config = RunConfig.from_json(raw)
    if config.protocol != "single-object":
        raise UsageError(f"{run_dir} is a {config.protocol} run; pictures are drawn for "
                         "single-object runs only")
    return config


def sample_records(records: pd.DataFrame, sample_id: str, run_dir: Path) -> pd.DataFrame:
    """The rows of `sample_id` in `records`, ordered by interaction.

    Raises:
        UsageError: the run has no records of that sample (the message lists a few ids).
    """
    ids = records["sample_id"].astype(str)
    rows = records[ids == str(sample_id)].sort_values("interaction")
    if rows.empty:
        known = ", ".join(list(dict.fromkeys(ids))[:5])
        raise UsageError(f"{run_dir} has no records of sample {sample_id!r} (its samples "
                         f"start {known}, ...)")
    return rows


def replay(run_dir: Path, sample_id: str, upto: int | None = None,
           data_root: str | None = None) -> Replay:
    """Make the predictions of `sample_id` after interactions 1..`upto` again.

    Args:
        run_dir: a single-object run folder.
        sample_id: a sample id of its records.
        upto: the last interaction to replay (None: every recorded one); a larger value
            than the sample has is cut to its last one.
        data_root: the data root (default: the run's own, else $ISEG_BENCH_DATA).

    Raises:
        RunFolderError, UsageError: see :func:`run_config` and :func:`sample_records`.
        DatasetError: the run's dataset cannot be found.
        SampleError: the model returned an invalid map.
    """
    run_dir = Path(run_dir)
    config = run_config(run_dir)
    rows = sample_records(load_records(run_dir), sample_id, run_dir)
    if upto is not None:
        rows = rows[rows["interaction"] <= upto]
    dataset = get_dataset(config.dataset, data_root or config.data_root,
                          **config.dataset_options)
    ids = dataset.sample_ids()
    if str(sample_id) not in ids:
        raise UsageError(f"sample {sample_id!r} of {run_dir} is not in the dataset "
                         f"{config.dataset} found now; is --data-root the run's?")
    sample = dataset.load(ids.index(str(sample_id)))
    adapter = build_adapter(config.model, **config.model_options)
    adapter.set_image(sample.image)
    session = ObjectSession(adapter, None, config.prob_threshold)
    state = ObjectState.start(sample)
    interactions, masks = [], []
    for _, row in rows.iterrows():
        interaction = parse_interaction(   # the replay robot's reading of a records row
            row.dropna().to_dict(), f"{run_dir}: sample {sample_id}, interaction "
                                    f"{row['interaction']}")
        step(session, state, [interaction])
        interactions.append(interaction)
        masks.append(state.pred.copy())
    return Replay(sample, interactions, np.array(masks, bool).reshape(-1, *sample.shape),
                  rows["iou"].to_numpy(np.float64),
                  np.array([r["iou"] for r in state.records], np.float64))

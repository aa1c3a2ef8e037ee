"""The lockstep batched loop (docs/execution.md): records identical to the one-sample loop
for a model whose output does not depend on its batch-mates, batches kept full, timing
divided by the batch, failures isolated, and the fallback for models without the hook."""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from iseg_bench.adapters.base import BatchItem
from iseg_bench.adapters.faulty import FaultyAdapter
from iseg_bench.config import RunConfig
from iseg_bench.errors import UsageError
from iseg_bench.execution import execute
from iseg_bench.run_folder import load_records

#: calls of BatchedToy.predict_batch in this process: the number of items of each
CALLS: list[int] = []


class BatchedToy(FaultyAdapter):
    """The faulty toy model (disks at the clicks; NaN for some samples at their 2nd click)
    with a ``predict_batch`` that answers each item on its own image."""

    name = "batched-toy"

    def predict_batch(self, items: Sequence[BatchItem]) -> list[np.ndarray]:
        CALLS.append(len(items))
        out = []
        for it in items:
            self.set_image(it.image)
            out.append(self.predict(it.interactions, it.prev_prob))
        return out


MODEL = f"{__name__}:BatchedToy"


def cfg(model: str = MODEL, batch_size: int = 1, n: int = 14, **kw: object) -> RunConfig:
    return RunConfig(model=model, dataset="synthetic", limit=n, max_interactions=6,
                     stop_at_iou=0.6, batch_size=batch_size,
                     model_options={"faults": "nan:0.25", "at": 2, "radius": 6},
                     dataset_options={"size": [40, 56]}, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("batch_size", [3, 8])
def test_lockstep_records_equal_the_one_sample_loop(tmp_path: Path, batch_size: int) -> None:
    serial = execute(cfg(), tmp_path / "serial", progress=False)
    CALLS.clear()
    batched = execute(cfg(batch_size=batch_size), tmp_path / "b", progress=False)
    assert 0 < serial.n_failed == batched.n_failed and serial.n_ok == batched.n_ok
    for name in ("records.csv", "failures.csv"):
        assert (tmp_path / "b" / name).read_bytes() == (tmp_path / "serial" / name).read_bytes()
    records = load_records(tmp_path / "serial")
    lengths = records.groupby("sample_id")["interaction"].max()
    assert lengths.min() < 6 and lengths.max() == 6          # early stops are mixed in
    # one call per lockstep step: the first calls hold a full batch, and every sample's
    # model call is made exactly once (failed samples included: they fail at click 2)
    assert CALLS[0] == batch_size and max(CALLS) == batch_size
    n_calls_serial = len(records) + serial.n_failed * 2
    assert sum(CALLS) == n_calls_serial and len(CALLS) < n_calls_serial


def test_batch_size_one_is_the_one_sample_loop(tmp_path: Path) -> None:
    CALLS.clear()
    execute(cfg(), tmp_path / "a", progress=False)
    assert CALLS == []                       # predict, never predict_batch
    execute(cfg(batch_size=1, workers=2), tmp_path / "b", progress=False)
    assert (tmp_path / "a" / "records.csv").read_bytes() == \
        (tmp_path / "b" / "records.csv").read_bytes()


def test_batched_seconds_are_the_call_time_divided_by_the_batch(tmp_path: Path) -> None:
    delay = 0.03
    config = dataclasses.replace(cfg(batch_size=4, n=4),
                                 model_options={"delay": delay, "radius": 6})
    execute(config, tmp_path / "t", progress=False)
    rec = load_records(tmp_path / "t")
    first = rec[rec["interaction"] == 1]["model_seconds"]
    # the four first clicks share one call that sleeps 4 x delay: delay each, not 4 x delay
    assert len(first) == 4 and (first >= delay * 0.9).all() and (first < 2 * delay).all()
    run = json.loads((tmp_path / "t" / "summary.json").read_text())["run_seconds"]
    assert run["interactions"] == len(rec) and run["batch_size"] == 4
    assert run["interactions_per_second"] == pytest.approx(len(rec) / run["wall_seconds"])


def test_model_without_predict_batch_falls_back_with_a_notice(tmp_path: Path,
                                                              caplog: pytest.LogCaptureFixture
                                                              ) -> None:
    with caplog.at_level(logging.WARNING, "iseg_bench"):
        execute(cfg("faulty", batch_size=4), tmp_path / "f", progress=False)
    notices = [r.getMessage() for r in caplog.records]
    assert len(notices) == 1 and "no predict_batch" in notices[0]
    execute(cfg("faulty"), tmp_path / "s", progress=False)
    assert (tmp_path / "f" / "records.csv").read_bytes() == \
        (tmp_path / "s" / "records.csv").read_bytes()


def test_batch_size_with_local_workers_or_time_limit_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="--batch-size"):
        execute(cfg(batch_size=2, workers=2), tmp_path / "w", progress=False)
    with pytest.raises(UsageError, match="--sample-timeout"):
        execute(cfg(batch_size=2), tmp_path / "t", progress=False, sample_timeout=5)

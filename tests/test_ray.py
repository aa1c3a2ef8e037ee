"""The Ray executor (docs/execution.md) on a local 2-CPU cluster: records identical to a
serial run, and a Ray worker killed mid-run loses nothing finished. Skipped when Ray is not
installed, except under CI=true (the `test` extra installs it)."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from iseg_bench.config import RunConfig
from iseg_bench.execution import execute
from iseg_bench.execution.journal import read_results

if os.environ.get("CI", "").lower() != "true":
    pytest.importorskip("ray")
import ray  # noqa: E402


@pytest.fixture(scope="module", autouse=True)
def local_cluster() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             logging_level="ERROR")
    yield
    ray.shutdown()


def cfg(faults: str, **kw: object) -> RunConfig:
    return RunConfig(model="faulty", dataset="synthetic", limit=12, max_interactions=3,
                     model_options={"faults": faults}, dataset_options={"size": [40, 56]},
                     **kw)  # type: ignore[arg-type]


def test_ray_records_equal_a_serial_run(tmp_path: Path) -> None:
    serial = execute(cfg("raise:0.2"), tmp_path / "s", progress=False)
    on_ray = execute(cfg("raise:0.2", executor="ray", workers=2), tmp_path / "r",
                     progress=False)
    assert serial.n_failed == on_ray.n_failed > 0
    for name in ("records.csv", "failures.csv"):
        assert (tmp_path / "r" / name).read_bytes() == (tmp_path / "s" / name).read_bytes()
    described = [json.loads((tmp_path / d / "config.json").read_text())["describe"]
                 for d in ("s", "r")]
    assert described[0] == described[1] and described[0]["model"]["class"].endswith(
        ":FaultyAdapter")   # the first ready actor described the model, as a serial run does


def test_a_killed_ray_worker_loses_nothing_finished(tmp_path: Path) -> None:
    # "exit" kills the actor's worker process (os._exit) at a sample's first model call;
    # with once_dir only the first time, so the re-tried units succeed
    once = str(tmp_path / "once")
    config = cfg("exit:0.25", executor="ray", workers=2, batch_size=1)
    config = dataclasses.replace(config, model_options={"faults": "exit:0.25",
                                                        "once_dir": once})
    out = execute(config, tmp_path / "r", progress=False)
    execute(cfg(""), tmp_path / "c", progress=False)
    killed = len(os.listdir(once))
    failures = (tmp_path / "r" / "failures.csv").read_text()
    assert killed >= 1 and out.n_failed == 0 and out.n_ok == 12, failures
    assert (tmp_path / "r" / "records.csv").read_bytes() == \
        (tmp_path / "c" / "records.csv").read_bytes()
    # every unit finished before a kill was journaled once and never evaluated again
    lines = [r["unit_id"] for r in read_results(tmp_path / "r")]
    assert sorted(lines) == sorted(set(lines))

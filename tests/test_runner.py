"""Execution (docs/execution.md): determinism serial vs workers, timing split, interruption,
fail-fast, dead workers, time limits, torn journal lines and start-up errors."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from iseg_bench import run_folder
from iseg_bench.config import RunConfig
from iseg_bench.errors import AdapterError, IsegBenchError, UnknownNameError, UsageError
from iseg_bench.execution import execute, journal
from iseg_bench.protocols.single_object import SingleObjectProtocol

SIZE = [48, 64]


def cfg(n=6, k=3, workers=1, **model_options) -> RunConfig:
    return RunConfig(model="faulty", dataset="synthetic", limit=n, max_interactions=k,
                     workers=workers, model_options=model_options,
                     dataset_options={"size": SIZE})


def read(path: Path) -> bytes:
    return Path(path).read_bytes()


def test_serial_and_workers_give_identical_records(tmp_path):
    faults = "raise:0.2,nan:0.2"
    a = execute(cfg(20, faults=faults), tmp_path / "a", progress=False)
    b = execute(cfg(20, workers=2, faults=faults), tmp_path / "b", progress=False)
    assert a.n_failed == b.n_failed > 0 and a.n_ok == b.n_ok > 0
    for name in ("records.csv", "failures.csv"):
        assert read(tmp_path / "a" / name) == read(tmp_path / "b" / name)
    # config.json describes the model as built: in this process, or by the first worker
    described = [json.loads((tmp_path / d / "config.json").read_text())["describe"]
                 for d in "ab"]
    assert described[0] == described[1]
    assert described[0]["model"]["class"] == "iseg_bench.adapters.faulty:FaultyAdapter"
    assert described[0]["robot"] == {"name": "clicker"}
    records = pd.read_csv(tmp_path / "a" / "records.csv")
    assert "model_seconds" not in records.columns          # timing lives in timings.csv
    timings = pd.read_csv(tmp_path / "a" / "timings.csv")
    assert list(timings.columns) == ["sample_id", "interaction", "model_seconds",
                                     "encoder_seconds"]
    assert len(timings) == len(records)
    joined = run_folder.load_records(tmp_path / "a")
    assert joined["model_seconds"].notna().all()
    # records are in unit order: the sample ids appear as in config.json
    units = json.loads((tmp_path / "a" / "config.json").read_text())["units"]
    seen = list(dict.fromkeys(records["sample_id"]))
    assert seen == [u for u in units if u in set(seen)]


def test_summary_states_counts_and_completeness(tmp_path):
    out = execute(cfg(8, faults="raise:0.3"), tmp_path / "r", progress=False)
    s = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert s["complete"] is True and s["n_units"] == 8
    assert s["n_failed"] == out.n_failed and s["n_samples"] == out.n_ok == 8 - out.n_failed
    md = (tmp_path / "r" / "summary.md").read_text()
    header, _, row = md.splitlines()[:3]
    cells = dict(zip(header.split("|"), row.split("|")))
    assert cells[" failed "].strip() == str(out.n_failed)       # next to the figures


def test_keyboard_interrupt_keeps_finished_units_and_marks_incomplete(tmp_path, monkeypatch):
    original = SingleObjectProtocol.evaluate
    calls = {"n": 0}

    def interrupting(self, unit, ctx):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt
        return original(self, unit, ctx)

    monkeypatch.setattr(SingleObjectProtocol, "evaluate", interrupting)
    out = execute(cfg(6), tmp_path / "r", progress=False)
    assert out.interrupted and not out.complete and out.n_ok == 3
    s = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert s["complete"] is False and s["n_samples"] == 3 and s["n_units"] == 6
    monkeypatch.setattr(SingleObjectProtocol, "evaluate", original)
    resumed = execute(cfg(6), tmp_path / "r", progress=False, resume=True)
    assert resumed.complete and resumed.n_skipped == 3 and resumed.n_ok == 6
    execute(cfg(6), tmp_path / "full", progress=False)
    assert read(tmp_path / "r" / "records.csv") == read(tmp_path / "full" / "records.csv")


def test_fail_fast_stops_at_first_failure(tmp_path):
    out = execute(cfg(10, faults="raise:0.3"), tmp_path / "r", progress=False, fail_fast=True)
    assert out.n_failed == 1 and not out.complete
    results = list(journal.read_results(tmp_path / "r"))
    assert results[-1]["status"] == "failed"
    assert all(r["status"] == "ok" for r in results[:-1])
    assert json.loads((tmp_path / "r" / "summary.json").read_text())["complete"] is False


def test_dead_worker_is_retried_once_then_recorded(tmp_path):
    out = execute(cfg(4, workers=2, faults="exit:0.5"), tmp_path / "r", progress=False)
    failures = pd.read_csv(tmp_path / "r" / "failures.csv")
    assert out.n_failed == len(failures) > 0
    assert failures["error"].str.startswith("WorkerDied").all()
    assert failures["error"].str.contains("2 times").all()
    # a worker that dies only on the first attempt: the retry succeeds and the records equal
    # a clean run's
    execute(cfg(4, workers=2, faults="exit:0.5", once_dir=str(tmp_path / "once")),
            tmp_path / "once-run", progress=False)
    execute(cfg(4), tmp_path / "clean", progress=False)
    assert read(tmp_path / "once-run" / "records.csv") == read(tmp_path / "clean" / "records.csv")
    assert len(list((tmp_path / "once").iterdir())) == len(failures)


def test_sample_timeout_kills_and_records(tmp_path):
    out = execute(cfg(4, faults="sleep:0.5"), tmp_path / "r", progress=False,
                  sample_timeout=1.0)
    failures = pd.read_csv(tmp_path / "r" / "failures.csv")
    assert out.n_failed == len(failures) > 0 and out.n_ok > 0
    assert failures["error"].str.startswith("SampleTimeout").all()
    with pytest.raises(IsegBenchError):
        execute(cfg(2), tmp_path / "bad", progress=False, sample_timeout=0)


def test_torn_last_line_is_dropped_and_repaired(tmp_path):
    execute(cfg(3), tmp_path / "r", progress=False)
    path = tmp_path / "r" / run_folder.RECORDS
    data = path.read_bytes()
    torn = data[:-40]                       # the last line loses its end (and newline)
    path.write_bytes(torn)
    assert [r["unit_id"] for r in journal.read_results(tmp_path / "r")] == \
        json.loads((tmp_path / "r" / "config.json").read_text())["units"][:2]
    # a line cut just before its newline is dropped too, even though it parses
    path.write_bytes(data[:-1])
    assert len(list(journal.read_results(tmp_path / "r"))) == 2
    writer = journal.RecordWriter(path)     # cuts the partial line before appending
    writer.write({"unit_id": "x", "status": "failed", "error": "e", "records": [],
                  "value": np.float32(0.5), "arr": np.arange(2)})
    writer.close()
    lines = path.read_text().splitlines()
    assert len(lines) == 3 and json.loads(lines[-1])["value"] == 0.5
    # resume re-evaluates the dropped unit and ends identical to an uninterrupted run
    path.write_bytes(torn)
    out = execute(cfg(3), tmp_path / "r", progress=False, resume=True)
    assert out.complete and out.n_skipped == 2
    execute(cfg(3), tmp_path / "full", progress=False)
    assert read(tmp_path / "r" / "records.csv") == read(tmp_path / "full" / "records.csv")


def test_start_up_errors_leave_no_run(tmp_path):
    for workers in (1, 2):
        with pytest.raises(AdapterError, match="unknown fault"):
            execute(cfg(3, workers=workers, faults="bogus:0.5"), tmp_path / f"r{workers}",
                    progress=False)
        assert not (tmp_path / f"r{workers}" / "config.json").exists()
    execute(cfg(2), tmp_path / "ok", progress=False)
    with pytest.raises(IsegBenchError, match="already holds a run"):
        execute(cfg(2), tmp_path / "ok", progress=False)


def test_usage_errors_of_the_model_or_robot_pass_through_unchanged(tmp_path, monkeypatch):
    """A bad option or name is the user's: it must not become an AdapterError blaming the
    model, neither in this process nor when a worker process reports it."""
    with pytest.raises(UnknownNameError, match="unknown robot 'nope'"):
        execute(dataclasses.replace(cfg(3, workers=2), robot="nope"), tmp_path / "w",
                progress=False)
    assert not (tmp_path / "w" / "config.json").exists()

    def bad_option(self, dataset, adapter=None):
        raise UsageError("robot clicker: unknown option(s) bogus; allowed: none")

    monkeypatch.setattr(SingleObjectProtocol, "build_context", bad_option)
    with pytest.raises(UsageError) as info:
        execute(cfg(3), tmp_path / "s", progress=False)
    assert not isinstance(info.value, AdapterError) and "robot clicker" in str(info.value)


def test_distance_transform_is_stable_inside_a_run():
    """OpenCV's IPP precise distance transform varies between calls (opencv#24082); the
    run switches IPP off, after which the reference clicker's transform is stable."""
    import hashlib

    from iseg_bench.datasets.registry import get_dataset
    from iseg_bench.geometry import padded_distance
    from iseg_bench.masks import deterministic_opencv

    ds = get_dataset("synthetic", None, size=SIZE)
    masks = [ds.load(i).target for i in range(20)]
    with deterministic_opencv():
        for mask in masks:
            seen = set()
            for _ in range(8):
                junk = [np.random.rand(int(n)) for n in np.random.randint(10, 5000, 3)]
                seen.add(hashlib.md5(padded_distance(mask).tobytes()).hexdigest())
                del junk
            assert len(seen) == 1

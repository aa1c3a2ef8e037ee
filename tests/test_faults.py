"""Fault injection: a model that raises, returns NaN/inf, the wrong shape, the
wrong dtype, values outside [0, 1] or nothing costs that sample only; the run goes on, the
exit status is 1, the summary counts failures and its figures cover completed samples."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from iseg_bench.adapters.faulty import FaultyAdapter, parse_faults
from iseg_bench.adapters.registry import build_adapter
from iseg_bench.config import RunConfig
from iseg_bench.datasets.registry import get_dataset
from iseg_bench.execution import execute
from iseg_bench.types import Click

SIZE = [48, 64]
ALL = "raise:0.1,nan:0.1,inf:0.1,shape:0.1,dtype:0.1,range:0.1,none:0.1"
REASONS = {"raise": "RuntimeError: injected fault", "nan": "NaN or inf", "inf": "NaN or inf",
           "shape": "shape (49, 64), expected (48, 64)", "dtype": "dtype uint8",
           "range": "values in [0, 2]", "none": "returned NoneType"}


def expected_faults(n: int, spec: str) -> dict[str, str | None]:
    ds = get_dataset("synthetic", None, size=SIZE)
    adapter = FaultyAdapter(faults=spec)
    return {ds.sample_ids()[i]: adapter.fault_for(ds.load(i).image) for i in range(n)}


def test_parse_and_select():
    assert parse_faults("raise:0.2,nan:0.3") == [("raise", 0.2), ("nan", 0.3)]
    assert parse_faults("nan") == [("nan", 1.0)] and parse_faults(None) == []
    for bad in ("boom:0.1", "raise:1.5", "raise:0.7,nan:0.7"):
        with pytest.raises(ValueError):
            parse_faults(bad)
    image = np.zeros((8, 8, 3), np.uint8)
    assert FaultyAdapter(faults="raise:1").fault_for(image) == "raise"
    assert FaultyAdapter(faults=None).fault_for(image) is None
    adapter = build_adapter("faulty", faults="nan:1", at=2)
    adapter.set_image(image)
    first = adapter.predict([Click(1, 1, True)], np.zeros((8, 8), np.float32))
    assert first.dtype == np.float32 and first[1, 1] == 1.0 and np.isfinite(first).all()
    second = adapter.predict([Click(1, 1, True), Click(5, 5, False)], first)
    assert np.isnan(second).any()


def test_every_fault_costs_its_sample_only(tmp_path):
    n = 20
    expected = expected_faults(n, ALL)
    assert len({v for v in expected.values() if v}) >= 5     # the run exercises most kinds
    config = RunConfig(model="faulty", dataset="synthetic", limit=n, max_interactions=3,
                       model_options={"faults": ALL, "at": 2},
                       dataset_options={"size": SIZE})
    out = execute(config, tmp_path / "r", progress=False)
    failures = pd.read_csv(tmp_path / "r" / "failures.csv")
    got = dict(zip(failures["unit_id"], failures["error"]))
    assert set(got) == {k for k, v in expected.items() if v}
    for unit, reason in got.items():
        assert REASONS[expected[unit]] in reason, (expected[unit], reason)
    records = pd.read_csv(tmp_path / "r" / "records.csv")
    assert set(records["sample_id"]) == {k for k, v in expected.items() if not v}
    assert records["iou"].between(0, 1).all()
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert summary["n_failed"] == len(got) == out.n_failed
    assert summary["n_samples"] == n - len(got) and summary["complete"] is True
    assert all(np.isfinite(v) for v in summary["miou"])


def test_cli_exit_status_and_fail_fast(tmp_path):
    base = [sys.executable, "-m", "iseg_bench.cli", "run", "--model", "faulty", "--dataset",
            "synthetic", "--dataset-opt", f"size={json.dumps(SIZE)}", "--limit", "6",
            "--max-clicks", "2", "--model-opt", "faults=raise:0.5", "--no-progress"]
    res = subprocess.run(base + ["--out", str(tmp_path / "a")], capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 1, res.stderr
    assert "failed" in res.stdout
    res = subprocess.run(base + ["--out", str(tmp_path / "b"), "--fail-fast"],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 1 and "incomplete run (stopped)" in res.stdout
    summary = json.loads((tmp_path / "b" / "summary.json").read_text())
    assert summary["n_failed"] == 1 and summary["complete"] is False
    res = subprocess.run(base[:-3] + ["--out", str(tmp_path / "c")], capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0, res.stderr

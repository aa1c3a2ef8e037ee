"""Runs that cannot be corrupted (issue 15): a model's sys.exit is its sample's failure,
workers die with the main process, one run at a time per run folder, bad option values are
one-line usage errors, 16-bit trimaps decode by bit depth."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd

SIZE = [48, 64]


def run_args(out: Path, *extra: str) -> list[str]:
    """`iseg-bench run` of the faulty toy model on small synthetic samples into `out`."""
    return [sys.executable, "-m", "iseg_bench.cli", "run", "--model", "faulty", "--dataset",
            "synthetic", "--dataset-opt", f"size={json.dumps(SIZE)}", "--max-clicks", "2",
            "--no-progress", "--out", str(out), *extra]


def test_sys_exit_of_a_model_is_that_samples_failure(tmp_path):
    out = tmp_path / "r"
    res = subprocess.run(run_args(out, "--limit", "8", "--model-opt", "faults=sys_exit:0.5"),
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 1, (res.stdout, res.stderr)
    failures = pd.read_csv(out / "failures.csv")
    assert len(failures) > 0 and (failures["error"] == "SystemExit: 0").all()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_failed"] == len(failures) and summary["complete"] is True
    assert summary["n_samples"] == 8 - len(failures) > 0

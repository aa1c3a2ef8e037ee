"""Resume (docs/execution.md): a real `iseg-bench run` killed with SIGKILL (and stopped with
SIGTERM) mid-run is resumed to records byte-identical to an uninterrupted run; mismatching settings
are refused naming the setting; failed units are re-tried."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from iseg_bench import run_folder
from iseg_bench.config import RunConfig
from iseg_bench.errors import ConfigMismatchError, IsegBenchError
from iseg_bench.execution import execute, journal

SIZE = [48, 64]
N, K = 10, 3


def cli_args(out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "iseg_bench.cli", "run", "--model", "faulty",
            "--dataset", "synthetic", "--dataset-opt", f"size={json.dumps(SIZE)}",
            "--limit", str(N), "--max-clicks", str(K), "--model-opt", "delay=0.05",
            "--no-progress", *extra]


def config(**changes) -> RunConfig:
    base = dict(model="faulty", dataset="synthetic", limit=N, max_interactions=K,
                model_options={"delay": 0.05}, dataset_options={"size": SIZE})
    return RunConfig(**{**base, **changes})


def journal_lines(run_dir: Path) -> int:
    path = run_dir / run_folder.RECORDS
    return path.read_bytes().count(b"\n") if path.exists() else 0


def start_and_stop(out: Path, sig: int, after_units: int, *extra: str) -> subprocess.Popen:
    proc = subprocess.Popen(cli_args(out, "--out", str(out), *extra),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while journal_lines(out) < after_units:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "run made no progress"
        time.sleep(0.02)
    proc.send_signal(sig)
    proc.wait(30)
    return proc


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("full") / "run"
    execute(config(), out, progress=False)
    return out


def test_sigkill_then_resume_gives_identical_records(tmp_path, uninterrupted):
    out = tmp_path / "run"
    proc = start_and_stop(out, signal.SIGKILL, 3)
    assert proc.returncode == -signal.SIGKILL
    done = list(journal.read_results(out))
    assert 3 <= len(done) < N                        # finished units survived the kill
    assert not (out / "summary.json").exists()
    res = subprocess.run(cli_args(out, "--resume", str(out)), capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr
    assert (out / "records.csv").read_bytes() == (uninterrupted / "records.csv").read_bytes()
    assert (out / "failures.csv").read_bytes() == (uninterrupted / "failures.csv").read_bytes()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["complete"] is True and summary["n_samples"] == N
    full = json.loads((uninterrupted / "summary.json").read_text())
    for key in ("noc", "nof", "miou", "auc", "proportion_above", "corrective_accuracy"):
        assert summary[key] == full[key]


def test_sigterm_writes_incomplete_summary(tmp_path, uninterrupted):
    out = tmp_path / "run"
    proc = start_and_stop(out, signal.SIGTERM, 2)
    assert proc.returncode == 130, proc.communicate()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["complete"] is False
    assert summary["n_samples"] == len(list(journal.read_results(out))) < N
    outcome = execute(config(), out, progress=False, resume=True)
    assert outcome.complete and outcome.n_skipped == summary["n_samples"]
    assert (out / "records.csv").read_bytes() == (uninterrupted / "records.csv").read_bytes()


def test_mismatch_names_the_setting(tmp_path):
    out = tmp_path / "run"
    execute(config(limit=2, model_options={}), out, progress=False)
    with pytest.raises(ConfigMismatchError, match="'max_interactions': the run has 3"):
        execute(config(limit=2, model_options={}, max_interactions=5), out, progress=False,
                resume=True)
    with pytest.raises(ConfigMismatchError, match="model_options"):
        execute(config(limit=2), out, progress=False, resume=True)
    with pytest.raises(ConfigMismatchError, match="samples: the run has 2, this command 3"):
        execute(config(limit=3, model_options={}), out, progress=False, resume=True)
    stored = json.loads((out / "config.json").read_text())
    stored["versions"]["numpy"] = "0.0.1"
    (out / "config.json").write_text(json.dumps(stored))
    with pytest.raises(ConfigMismatchError, match="version of numpy: the run used '0.0.1'"):
        execute(config(limit=2, model_options={}), out, progress=False, resume=True)
    with pytest.raises(IsegBenchError, match="holds no run"):
        execute(config(limit=2), tmp_path / "empty", progress=False, resume=True)
    # execution settings may change on resume
    stored["versions"] = json.loads(json.dumps(
        __import__("iseg_bench.config", fromlist=["versions"]).versions()))
    (out / "config.json").write_text(json.dumps(stored))
    ok = execute(config(limit=2, model_options={}, workers=2), out, progress=False,
                 resume=True)
    assert ok.complete and ok.n_skipped == 2


def test_cli_mismatch_is_a_clear_error(tmp_path):
    out = tmp_path / "run"
    execute(config(limit=2, model_options={}), out, progress=False)
    res = subprocess.run([sys.executable, "-m", "iseg_bench.cli", "run", "--model", "faulty",
                          "--dataset", "synthetic", "--dataset-opt", f"size={json.dumps(SIZE)}",
                          "--limit", "2", "--max-clicks", "4", "--resume", str(out),
                          "--no-progress"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 2
    assert "max_interactions" in res.stderr and "the run has 3" in res.stderr


def test_resume_retries_failed_units(tmp_path):
    # "sleep" samples time out in the first attempt, then finish when resumed without limit
    opts = {"faults": "sleep:0.5", "sleep_seconds": 1.5}
    out = tmp_path / "run"
    first = execute(config(limit=4, model_options=opts), out, progress=False,
                    sample_timeout=0.75)
    assert first.n_failed > 0 and first.complete
    second = execute(config(limit=4, model_options=opts), out, progress=False, resume=True)
    assert second.n_failed == 0 and second.n_skipped == 4 - first.n_failed
    execute(config(limit=4, model_options={}), tmp_path / "clean", progress=False)
    assert (out / "records.csv").read_bytes() == \
        (tmp_path / "clean" / "records.csv").read_bytes()
    # the journal keeps both attempts; the newest counts
    lines = list(journal.read_results(out))
    assert len(lines) == 4 + first.n_failed

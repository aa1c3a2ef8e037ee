"""Runs that cannot be corrupted (issue 15): a model's sys.exit is its sample's failure,
workers die with the main process, one run at a time per run folder, bad option values are
one-line usage errors, 16-bit trimaps decode by bit depth."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

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


def descendants(pid: int) -> set[int]:
    """Every live descendant process of `pid` (Linux /proc)."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        for task in Path(f"/proc/{todo.pop()}/task").glob("*"):
            try:
                children = {int(c) for c in (task / "children").read_text().split()}
            except OSError:
                continue
            todo += children - found
            found |= children
    return {p for p in found if alive(p)}


def alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie waiting for its reaper does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal: Linux")
def test_workers_die_with_a_sigkilled_main_process(tmp_path):
    out = tmp_path / "r"
    # half the samples keep their worker busy for a minute (a model stuck in its work)
    proc = subprocess.Popen(run_args(out, "--limit", "40", "--workers", "2", "--model-opt",
                                     "faults=sleep:0.5", "--model-opt", "sleep_seconds=60"),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: set[int] = set()
    try:
        deadline = time.monotonic() + 60
        while not (out / "records.jsonl").exists() or not (out / "records.jsonl").read_bytes():
            assert proc.poll() is None and time.monotonic() < deadline, "no unit finished"
            time.sleep(0.05)
        time.sleep(0.5)     # both workers are now inside a unit, most likely a sleeping one
        workers = descendants(proc.pid)
        assert len(workers) >= 2
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        deadline = time.monotonic() + 5
        while any(alive(p) for p in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [p for p in workers if alive(p)], "workers outlived the main process"
    finally:
        for pid in workers:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


def wait_for_first_unit(proc: subprocess.Popen, out: Path) -> None:
    """Wait until the run `proc` writing `out` has journalled a unit."""
    deadline = time.monotonic() + 60
    while not (out / "records.jsonl").exists() or not (out / "records.jsonl").read_bytes():
        assert proc.poll() is None and time.monotonic() < deadline, "no unit finished"
        time.sleep(0.05)


def assert_folder_is_the_run(out: Path, max_clicks: int, n: int) -> None:
    """`out` holds exactly one finished run of `n` samples with `max_clicks` interactions."""
    config = json.loads((out / "config.json").read_text())
    summary = json.loads((out / "summary.json").read_text())
    assert config["max_interactions"] == max_clicks == summary["config"]["max_interactions"]
    assert summary["complete"] is True and summary["n_samples"] == n
    records = pd.read_csv(out / "records.csv")
    assert records["interaction"].max() == max_clicks
    assert len(records) == n * max_clicks and not records.duplicated(
        ["sample_id", "interaction"]).any()
    assert not (out / "run.lock").exists()


def test_a_second_run_or_resume_into_a_busy_folder_is_refused_naming_the_holder(tmp_path):
    out, gate = tmp_path / "r", tmp_path / "gate"
    # the first run waits inside its first sample, holding the lock, until the gate opens
    first = subprocess.Popen(run_args(out, "--limit", "6", "--model-opt", f"wait_for={gate}"),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not (out / "config.json").exists():   # written under the lock
            assert first.poll() is None and time.monotonic() < deadline, first.communicate()
            time.sleep(0.05)
        for extra in (["--max-clicks", "3"], ["--resume", str(out)]):
            second = subprocess.run(run_args(out, "--limit", "6", *extra), capture_output=True,
                                    text=True, timeout=120)
            assert second.returncode == 2, (second.stdout, second.stderr)
            lines = second.stderr.strip().splitlines()
            assert len(lines) == 1 and f"in use by another iseg-bench run (pid {first.pid})" \
                in lines[0], second.stderr
        assert first.poll() is None    # still waiting: the refusals came while it held the lock
    finally:
        gate.touch()
    assert first.wait(120) == 0, first.communicate()
    assert_folder_is_the_run(out, 2, 6)


def test_two_runs_started_at_once_never_mix(tmp_path):
    out, gate = tmp_path / "r", tmp_path / "gate"
    # whichever run takes the lock waits inside its first sample until the gate opens, so
    # the other surely tries the folder while it is held
    procs = {clicks: subprocess.Popen(run_args(out, "--limit", "4", "--max-clicks",
                                               str(clicks), "--model-opt", f"wait_for={gate}"),
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for clicks in (2, 3)}
    try:
        deadline = time.monotonic() + 120
        while all(p.poll() is None for p in procs.values()):
            assert time.monotonic() < deadline, "neither run was refused"
            time.sleep(0.05)
    finally:
        gate.touch()
    loser = next(clicks for clicks, p in procs.items() if p.poll() is not None)
    winner = 5 - loser
    assert procs[loser].returncode == 2
    message = procs[loser].communicate()[1]
    assert message.startswith("error: ") and len(message.strip().splitlines()) == 1
    assert "in use by another iseg-bench run" in message
    assert procs[winner].wait(120) == 0, procs[winner].communicate()
    assert_folder_is_the_run(out, winner, 4)


def test_a_failed_start_leaves_no_folder(tmp_path):
    res = subprocess.run(run_args(tmp_path / "new" / "r", "--limit", "2", "--model-opt",
                                  "faults=boom"), capture_output=True, text=True, timeout=120)
    assert res.returncode == 2 and "boom" in res.stderr
    assert not (tmp_path / "new" / "r").exists()


@pytest.mark.parametrize("flag,value,message", [
    ("--prob-threshold", "nan", "--prob-threshold must be in (0, 1)"),
    ("--prob-threshold", "1.5", "--prob-threshold must be in (0, 1)"),
    ("--prob-threshold", "0", "--prob-threshold must be in (0, 1)"),
    ("--prob-threshold", "1", "--prob-threshold must be in (0, 1)"),
    ("--sample-timeout", "inf", "--sample-timeout must be a finite number of seconds > 0"),
    ("--sample-timeout", "nan", "--sample-timeout must be a finite number of seconds > 0"),
])
def test_bad_threshold_or_time_limit_is_a_one_line_usage_error(tmp_path, flag, value, message):
    out = tmp_path / "r"
    res = subprocess.run(run_args(out, "--limit", "2", flag, value), capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 2, (res.stdout, res.stderr)
    assert res.stderr.startswith(f"error: {message}") and res.stderr.count("\n") == 1
    assert not out.exists()


def write_grabcut(root: Path, n: int) -> None:
    """A GrabCut folder of `n` 48x64 samples s0..s<n-1> (an object square in each)."""
    for i in range(n):
        image = np.full((48, 64, 3), 40 * i, np.uint8)
        mask = np.zeros((48, 64), np.uint8)
        mask[10:30, 10 + i:40 + i] = 255
        for sub, name, array in (("data_GT", f"s{i}.jpg", image),
                                 ("boundary_GT", f"s{i}.bmp", mask)):
            (root / "GrabCut" / sub).mkdir(parents=True, exist_ok=True)
            assert cv2.imwrite(str(root / "GrabCut" / sub / name), array)


def test_resume_with_changed_data_files_is_refused_naming_the_samples(tmp_path):
    first, moved = tmp_path / "d1", tmp_path / "d2"
    write_grabcut(first, 3)
    out = tmp_path / "r"
    args = [sys.executable, "-m", "iseg_bench.cli", "run", "--model", "faulty", "--dataset",
            "grabcut", "--max-clicks", "2", "--no-progress"]
    assert subprocess.run(args + ["--data-root", str(first), "--out", str(out)],
                          capture_output=True, timeout=120).returncode == 0
    journal = (out / "records.jsonl").read_bytes()
    shutil.copytree(first, moved)      # the same files elsewhere: the run continues
    same = subprocess.run(args + ["--data-root", str(moved), "--resume", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert same.returncode == 0, same.stderr
    mask = cv2.imread(str(moved / "GrabCut" / "boundary_GT" / "s1.bmp"), cv2.IMREAD_UNCHANGED)
    mask[40:, :] = 255                 # one mask edited, its name kept
    assert cv2.imwrite(str(moved / "GrabCut" / "boundary_GT" / "s1.bmp"), mask)
    edited = subprocess.run(args + ["--data-root", str(moved), "--resume", str(out)],
                            capture_output=True, text=True, timeout=120)
    assert edited.returncode == 2, (edited.stdout, edited.stderr)
    assert "data: the files of 1 sample(s) differ" in edited.stderr
    assert "s1" in edited.stderr and "s0" not in edited.stderr and "s2" not in edited.stderr
    assert (out / "records.jsonl").read_bytes() == journal    # nothing was added


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("finished") / "r"
    res = subprocess.run(run_args(out, "--limit", "2"), capture_output=True, timeout=120)
    assert res.returncode == 0, res.stderr
    return out


def cli(*args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "iseg_bench.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=120)


def assert_one_line_error(res: subprocess.CompletedProcess[str], *parts: str,
                          code: int = 2) -> None:
    assert res.returncode == code, (res.stdout, res.stderr)
    assert res.stderr.startswith("error: ") and res.stderr.count("\n") == 1, res.stderr
    assert all(part in res.stderr for part in parts), res.stderr


def test_damaged_or_missing_run_files_and_output_folders_are_one_line_errors(
        tmp_path, finished_run):
    damaged = tmp_path / "damaged"
    shutil.copytree(finished_run, damaged)
    (damaged / "summary.json").write_text('{"n_sam')
    assert_one_line_error(cli("report", damaged), "cannot read", "summary.json", code=3)
    assert_one_line_error(cli("compare", finished_run, damaged), "summary.json", code=3)
    (tmp_path / "empty").mkdir()  # a folder holding run folders is a multi-dataset run
    assert_one_line_error(cli("report", tmp_path / "empty"), "is not a finished run folder")
    assert_one_line_error(cli("plot", "-o", tmp_path / "missing" / "x.png", finished_run),
                          "folder", "missing", "does not exist")
    assert_one_line_error(cli("compare", finished_run, finished_run, "-o",
                              tmp_path / "missing" / "x.md"), "does not exist")
    (damaged / "config.json").write_text("[1, 2]")
    assert_one_line_error(cli(*run_args(damaged, "--limit", "2", "--resume", damaged)[3:]),
                          "config.json does not hold a JSON object", code=3)
    assert cli("report", finished_run).returncode == 0


def test_an_unwritable_out_folder_is_a_one_line_error(tmp_path):
    (tmp_path / "file").write_text("in the way")
    assert_one_line_error(cli(*run_args(tmp_path / "file" / "r", "--limit", "2")[3:]),
                          "cannot write the run folder", code=3)


def test_a_factory_returning_none_is_one_error_before_the_run(tmp_path, monkeypatch):
    (tmp_path / "none_factory.py").write_text("def Factory(**options):\n    return None\n")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(tmp_path), *sys.path]))
    out = tmp_path / "r"
    res = cli("run", "--model", "none_factory:Factory", "--dataset", "synthetic", "--limit",
              "3", "--max-clicks", "2", "--no-progress", "--out", out)
    assert_one_line_error(res, "returned None instead of an adapter")
    assert not out.exists()

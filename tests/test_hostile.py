"""A hostile user's inputs (issue 15): corrupt and odd data files, odd file names,
misbehaving models, bad option values, damaged run folders, signals, a full disk, a crash.

Each case asserts the exit status of the documented scheme (docs/cli.md: 0 done, 1 samples
failed, 2 usage or refusal, 3 I/O or environment, 130 interrupted), a key phrase of the
message, and that no finished record was lost. In-process (click's CliRunner) where that
suffices; real processes for signals, a crash and a full disk.
"""

from __future__ import annotations

import json
import os
import resource
import shlex
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
from click.testing import CliRunner, Result
from PIL import Image

from iseg_bench.cli import main

H, W = 48, 64
SIZE = json.dumps([H, W])
FAULTY = ["run", "--model", "faulty", "--max-clicks", "2", "--no-progress"]


def invoke(*args: object, env: dict[str, str | None] | None = None) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args], env=env)


def encode(ext: str, array: np.ndarray) -> bytes:
    ok, data = cv2.imencode(ext, array)
    assert ok
    return bytes(data.tobytes())


def image(i: int) -> np.ndarray:
    img = np.zeros((H, W, 3), np.uint8)
    img[..., 0] = 30 * i
    img[:, :, 1] = np.arange(W, dtype=np.uint8)[None, :] * 3
    return img


def object_mask(i: int, value: int = 255) -> np.ndarray:
    mask = np.zeros((H, W), np.uint8)
    mask[10:30, 10 + i:40 + i] = value
    return mask


def jpeg_roundtrip(array: np.ndarray) -> np.ndarray:
    return np.asarray(cv2.imdecode(np.frombuffer(encode(".jpg", array), np.uint8),
                                   cv2.IMREAD_UNCHANGED))


def png_palette(array: np.ndarray) -> bytes:
    from io import BytesIO

    buf = BytesIO()
    Image.fromarray(array).convert("P", palette=Image.Palette.ADAPTIVE).save(buf, "PNG")
    return buf.getvalue()


#: dataset -> (folder, image sub-folder, mask sub-folder, mask extension)
LAYOUTS = {"grabcut": ("GrabCut", "data_GT", "boundary_GT", ".bmp"),
           "davis": ("DAVIS", "img", "gt", ".png")}


def write_root(root: Path, dataset: str, odd: dict[str, bytes] | None = None) -> Path:
    """A `dataset` folder with good samples s0, s1 (and s2 unless `odd` replaces it by
    {relative path: bytes} files)."""
    folder, images, masks, ext = LAYOUTS[dataset]
    files = {}
    for i in range(2 if odd is not None else 3):
        files[f"{images}/s{i}.png"] = encode(".png", image(i))
        files[f"{masks}/s{i}{ext}"] = encode(ext, object_mask(i))
    files.update(odd or {})
    for rel, data in files.items():
        path = root / folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def assert_records(out: Path, samples: set[str], clicks: int = 2) -> None:
    """records.csv holds exactly `samples`, each with all `clicks` interactions."""
    records = pd.read_csv(out / "records.csv") if (out / "records.csv").stat().st_size else None
    got = set() if records is None else set(records["sample_id"])
    assert got == samples, (got, samples)
    if records is not None:
        assert len(records) == clicks * len(samples)


def good(i: int, dataset: str = "grabcut") -> dict[str, bytes]:
    _, images, masks, ext = LAYOUTS[dataset]
    return {f"{images}/s{i}.png": encode(".png", image(i)),
            f"{masks}/s{i}{ext}": encode(ext, object_mask(i))}


def odd_image(data: bytes, name: str = "s2.png", dataset: str = "grabcut") -> dict[str, bytes]:
    _, images, masks, ext = LAYOUTS[dataset]
    return {f"{images}/{name}": data,
            f"{masks}/{Path(name).stem}{ext}": encode(ext, object_mask(2))}


def odd_mask(data: bytes, dataset: str = "grabcut", ext: str | None = None) -> dict[str, bytes]:
    _, images, masks, own = LAYOUTS[dataset]
    return {f"{images}/s2.png": encode(".png", image(2)), f"{masks}/s2{ext or own}": data}


def trimap(value: int = 255) -> np.ndarray:
    mask = object_mask(2, value)
    mask[9, 12:42] = 128      # a band row
    return mask


rgb16 = (image(2).astype(np.uint16) * 257)
grey16_trimap = trimap().astype(np.uint16) * 257
twelve_bit = (image(2).astype(np.uint16) * 16)
jpeg_trimap = jpeg_roundtrip(trimap())     # saved as JPEG once (quality 95), then as BMP
davis_jpeg = jpeg_roundtrip(cv2.merge([object_mask(2, 128)] * 3))

#: id -> (dataset, files of sample s2, exit status, phrase, samples with records)
DATA_CASES: dict[str, tuple[str, dict[str, bytes], int, str, set[str]]] = {
    "truncated-png-image": ("grabcut", odd_image(encode(".png", image(2))[:60]), 1,
                            "cannot read image", {"s0", "s1"}),
    "empty-image-file": ("grabcut", odd_image(b""), 1, "cannot read image", {"s0", "s1"}),
    "text-named-jpg": ("grabcut", odd_image(b"not an image", "s2.jpg"), 1,
                       "cannot read image", {"s0", "s1"}),
    "rgba-image": ("grabcut", odd_image(encode(".png", cv2.cvtColor(image(2),
                                                                    cv2.COLOR_BGR2BGRA))),
                   0, "run folder", {"s0", "s1", "s2"}),
    "grey-image": ("grabcut", odd_image(encode(".png", image(2)[..., 1])), 0, "run folder",
                   {"s0", "s1", "s2"}),
    "palette-image": ("grabcut", odd_image(png_palette(image(2))), 0, "run folder",
                      {"s0", "s1", "s2"}),
    "16-bit-image": ("grabcut", odd_image(encode(".png", rgb16)), 0, "run folder",
                     {"s0", "s1", "s2"}),
    "12-bit-image": ("grabcut", odd_image(encode(".png", twelve_bit)), 1, "12-bit",
                     {"s0", "s1"}),
    "16-bit-trimap": ("grabcut", odd_mask(encode(".png", grey16_trimap), ext=".png"), 0,
                      "run folder", {"s0", "s1", "s2"}),
    "12-bit-trimap": ("grabcut", odd_mask(encode(".png", trimap().astype(np.uint16) * 16),
                                          ext=".png"), 1, "12-bit", {"s0", "s1"}),
    "jpeg-artifact-trimap": ("grabcut", odd_mask(encode(".bmp", jpeg_trimap)), 1,
                             "distinct values", {"s0", "s1"}),
    "rgb-trimap": ("grabcut", odd_mask(encode(".bmp", cv2.merge([trimap()] * 3))), 0,
                   "run folder", {"s0", "s1", "s2"}),
    "rgba-mask": ("davis", odd_mask(encode(".png", cv2.merge([object_mask(2)] * 3 + [
        np.full((H, W), 255, np.uint8)])), "davis"), 0, "run folder", {"s0", "s1", "s2"}),
    "mask-of-other-size": ("grabcut", odd_mask(encode(".bmp", object_mask(2)[:40])), 1,
                           "width x height", {"s0", "s1"}),
    "empty-mask": ("grabcut", odd_mask(encode(".bmp", object_mask(2, 0))), 1, "empty target",
                   {"s0", "s1"}),
    "band-only-mask": ("grabcut", odd_mask(encode(".bmp", object_mask(2, 128))), 1,
                       "empty target", {"s0", "s1"}),
    "truncated-mask": ("grabcut", odd_mask(encode(".bmp", object_mask(2))[:100]), 1,
                       "cannot read mask", {"s0", "s1"}),
    "jpeg-compressed-davis-mask": ("davis", odd_mask(encode(".png", davis_jpeg), "davis"), 1,
                                   "distinct values", {"s0", "s1"}),
    "davis-four-levels": ("davis", odd_mask(encode(".png", np.where(
        cv2.merge([object_mask(2)] * 3) > 0, np.array([128, 192, 224], np.uint8),
        0).astype(np.uint8)), "davis"), 0, "run folder", {"s0", "s1", "s2"}),
    "name-with-spaces": ("grabcut", {**good(2), "data_GT/a b.png": encode(".png", image(3)),
                                     "boundary_GT/a b.bmp": encode(".bmp", object_mask(3))},
                         0, "run folder", {"s0", "s1", "s2", "a b"}),
    "unicode-name": ("grabcut", {**good(2), "data_GT/äpfel-猫.png": encode(".png", image(3)),
                                 "boundary_GT/äpfel-猫.bmp": encode(".bmp", object_mask(3))},
                     0, "run folder", {"s0", "s1", "s2", "äpfel-猫"}),
    "hidden-files-skipped": ("grabcut", {**good(2), "data_GT/.DS_Store": b"junk",
                                         "boundary_GT/._s2.bmp": b"junk"},
                             0, "run folder", {"s0", "s1", "s2"}),
    "mask-without-image": ("grabcut", {**good(2), "boundary_GT/s9.bmp":
                                       encode(".bmp", object_mask(1))},
                           3, "without an image", set()),
    "two-files-one-stem": ("grabcut", {**good(2), "data_GT/s2.jpg": encode(".jpg", image(2))},
                           3, "share the stem", set()),
}


@pytest.mark.parametrize("case", list(DATA_CASES))
def test_odd_data_files(tmp_path, case):
    dataset, odd, code, phrase, kept = DATA_CASES[case]
    root = write_root(tmp_path / "data", dataset, odd)
    out = tmp_path / "r"
    res = invoke(*FAULTY, "--dataset", dataset, "--data-root", root, "--out", out)
    assert res.exit_code == code, res.output
    if code == 1:
        failures = pd.read_csv(out / "failures.csv")
        assert failures["error"].str.contains(phrase, regex=False).all(), failures
        assert set(failures["unit_id"]) == {"s2"}
    else:
        assert phrase in res.output
    if code in (0, 1):
        assert_records(out, kept)
    else:
        assert not out.exists() and "Traceback" not in res.output


def test_mask_level_limit_is_exactly_eight_values():
    from iseg_bench.datasets.decoders import MAX_MASK_LEVELS, check_mask_levels

    assert MAX_MASK_LEVELS == 8
    check_mask_levels(np.arange(8, dtype=np.uint8).reshape(2, 4))
    with pytest.raises(ValueError, match="mask with 9 distinct values"):
        check_mask_levels(np.arange(9, dtype=np.uint8).reshape(3, 3))


def test_missing_data_folder_and_missing_data_root(tmp_path):
    res = invoke(*FAULTY, "--dataset", "grabcut", "--data-root", tmp_path, "--out",
                 tmp_path / "r")
    assert res.exit_code == 3 and "GrabCut/ not found" in res.output
    res = invoke(*FAULTY, "--dataset", "grabcut", "--out", tmp_path / "r",
                 env={"ISEG_BENCH_DATA": None})
    assert res.exit_code == 2 and "no data root given" in res.output
    assert not (tmp_path / "r").exists()


SYNTH = [*FAULTY, "--dataset", "synthetic", "--dataset-opt", f"size={SIZE}", "--limit", "6"]

#: fault -> key phrase of its failures
MODEL_FAULTS = {"raise": "RuntimeError: injected fault", "nan": "NaN or inf",
                "inf": "NaN or inf", "shape": "shape (49, 64)", "dtype": "dtype uint8",
                "range": "values in [0, 2]", "none": "returned NoneType",
                "sys_exit": "SystemExit: 0"}


def expected_ok(spec: str) -> set[str]:
    from iseg_bench.adapters.faulty import FaultyAdapter
    from iseg_bench.datasets.registry import get_dataset

    ds = get_dataset("synthetic", None, size=[H, W])
    model = FaultyAdapter(faults=spec)
    return {ds.sample_ids()[i] for i in range(6) if model.fault_for(ds.load(i).image) is None}


@pytest.mark.parametrize("fault", list(MODEL_FAULTS))
def test_misbehaving_model_costs_its_samples_only(tmp_path, fault):
    spec = f"{fault}:0.5"
    out = tmp_path / "r"
    res = invoke(*SYNTH, "--model-opt", f"faults={spec}", "--out", out)
    assert res.exit_code == 1, res.output
    failures = pd.read_csv(out / "failures.csv")
    assert len(failures) and failures["error"].str.contains(MODEL_FAULTS[fault],
                                                            regex=False).all()
    kept = expected_ok(spec)
    assert_records(out, kept)
    assert "(incomplete" not in res.output and f"({len(failures)} failed)" in res.output


def test_model_sleeping_past_the_time_limit_is_that_samples_failure(tmp_path):
    out = tmp_path / "r"
    res = invoke(*SYNTH, "--model-opt", "faults=sleep:0.3", "--model-opt", "sleep_seconds=60",
                 "--sample-timeout", "3", "--out", out)
    assert res.exit_code == 1, res.output
    failures = pd.read_csv(out / "failures.csv")
    assert len(failures) and failures["error"].str.contains("SampleTimeout").all()
    assert_records(out, expected_ok("sleep:0.3"))


@pytest.mark.parametrize("body,phrase", [
    ("return None", "returned None instead of an adapter"),
    ("raise RuntimeError('no GPU here')", "no GPU here"),
    ("raise SystemExit(0)", "SystemExit"),
], ids=["returns-none", "raises", "sys-exit"])
def test_a_factory_that_fails_is_one_error_before_the_run(tmp_path, monkeypatch, body, phrase):
    module = f"hostile_factory_{len(body)}"    # one module per case: imports are cached
    (tmp_path / f"{module}.py").write_text(f"def Factory(**options):\n    {body}\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    out = tmp_path / "r"
    res = invoke("run", "--model", f"{module}:Factory", "--dataset", "synthetic",
                 "--limit", "2", "--no-progress", "--out", out)
    assert res.exit_code == 2 and phrase in res.output, res.output
    assert not out.exists()


#: id -> (extra run arguments, key phrase); every one is a usage error, exit 2, no folder
BAD_OPTIONS = {
    "limit-0": (["--limit", "0"], "--limit"),
    "limit-negative": (["--limit", "-1"], "--limit"),
    "limit-text": (["--limit", "many"], "--limit"),
    "max-clicks-0": (["--max-clicks", "0"], "--max-clicks"),
    "threshold-above-1": (["--iou-thresholds", "1.5"], "outside (0, 1]"),
    "threshold-text": (["--iou-thresholds", "abc"], "is not a number"),
    "threshold-empty": (["--iou-thresholds", ""], "--iou-thresholds"),
    "threshold-repeated": (["--iou-thresholds", "0.9,0.90"], "given twice"),
    "threshold-zero": (["--iou-thresholds", "0"], "outside (0, 1]"),
    "prob-threshold-nan": (["--prob-threshold", "nan"], "--prob-threshold must be in (0, 1)"),
    "prob-threshold-1": (["--prob-threshold", "1"], "--prob-threshold must be in (0, 1)"),
    "prob-threshold-negative": (["--prob-threshold", "-0.2"],
                                "--prob-threshold must be in (0, 1)"),
    "timeout-0": (["--sample-timeout", "0"], "--sample-timeout"),
    "timeout-inf": (["--sample-timeout", "inf"], "finite number of seconds"),
    "timeout-nan": (["--sample-timeout", "nan"], "finite number of seconds"),
    "workers-0": (["--workers", "0"], "--workers"),
    "opt-not-key-value": (["--model-opt", "x"], "is not key=value"),
    "unknown-model-opt": (["--model-opt", "colour=red"], "colour"),
    "bad-fault-spec": (["--model-opt", "faults=boom"], "unknown fault 'boom'"),
    "dataset-opt-out-of-range": (["--dataset-opt", "size=[10, 10]"], "need"),
    "unknown-protocol": (["--protocol", "nope"], "nope"),
    "unknown-robot": (["--robot", "nope"], "nope"),
    "unknown-compat": (["--compat", "foo"], "foo"),
    "robot-opt-unknown-key": (["--robot-opt", "speed=3"], "speed"),
}


@pytest.mark.parametrize("case", list(BAD_OPTIONS))
def test_bad_option_values_are_usage_errors(tmp_path, case):
    extra, phrase = BAD_OPTIONS[case]
    out = tmp_path / "new" / "r"
    res = invoke(*SYNTH, *extra, "--out", out)
    assert res.exit_code == 2, res.output
    assert phrase in res.output and "Traceback" not in res.output
    assert not out.exists() and not out.parent.exists()


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """A finished run, one with failures, an interrupted one (fail-fast), copies to damage."""
    base = tmp_path_factory.mktemp("runs")
    done, failed, stopped = base / "done", base / "failed", base / "stopped"
    assert invoke(*SYNTH, "--out", done).exit_code == 0
    assert invoke(*SYNTH, "--model-opt", "faults=raise:0.5", "--out", failed).exit_code == 1
    assert invoke(*SYNTH, "--model-opt", "faults=raise:0.5", "--fail-fast",
                  "--out", stopped).exit_code == 1
    return {"done": done, "failed": failed, "stopped": stopped}


def damaged_copy(tmp_path: Path, run: Path, name: str, text: str) -> Path:
    copy = tmp_path / "copy"
    shutil.copytree(run, copy)
    (copy / name).write_text(text)
    return copy


@pytest.mark.parametrize("command", ["report", "plot", "compare"])
@pytest.mark.parametrize("damage,code,phrase", [
    ("torn", 3, "cannot read"), ("list", 3, "does not hold a JSON object"),
    ("binary", 3, "cannot read"),
])
def test_damaged_summary_given_to_report_plot_compare(tmp_path, runs, command, damage, code,
                                                      phrase):
    text = {"torn": '{"n_sam', "list": "[1, 2]", "binary": "\udcff"}[damage]
    copy = tmp_path / "copy"
    shutil.copytree(runs["done"], copy)
    (copy / "summary.json").write_bytes(text.encode("utf-8", "surrogateescape"))
    args = {"report": ["report", copy], "plot": ["plot", copy, "-o", tmp_path / "x.png"],
            "compare": ["compare", runs["done"], copy]}[command]
    res = invoke(*args)
    assert res.exit_code == code and phrase in res.output and "summary.json" in res.output
    assert (runs["done"] / "records.csv").stat().st_size > 0


def test_corrupt_records_csv_does_not_change_report(tmp_path, runs):
    before = invoke("report", runs["done"])
    copy = damaged_copy(tmp_path, runs["done"], "records.csv", "garbage,\n\x00\x01")
    after = invoke("report", copy)
    assert before.exit_code == after.exit_code == 0 and before.output == after.output


def test_report_and_plot_mark_failed_and_incomplete_runs(tmp_path, runs):
    res = invoke("report", runs["done"], runs["failed"], runs["stopped"])
    assert res.exit_code == 0
    n_failed = len(pd.read_csv(runs["failed"] / "failures.csv"))
    lines = res.output.splitlines()
    assert any(f"faulty / synthetic ({n_failed} failed)" in line for line in lines)
    assert any("faulty / synthetic (incomplete " in line and "1 failed)" in line
               for line in lines)
    assert "faulty / synthetic clicker" in lines[1]     # the finished run: no mark
    res = invoke("plot", runs["failed"], runs["stopped"], "-o", tmp_path / "x.png")
    assert res.exit_code == 0 and (tmp_path / "x.png").stat().st_size > 0


@pytest.mark.parametrize("case,code,phrase", [
    ("empty-folder", 2, "is not a finished run folder"),
    ("unfinished-run", 2, "is an unfinished run"),
    ("plot-missing-folder", 2, "does not exist"),
    ("compare-missing-folder", 2, "does not exist"),
    ("compare-incomplete", 2, "incomplete"),
    ("compare-bad-tolerance", 2, "tolerance"),
    ("resume-not-a-run", 2, "holds no run"),
    ("new-run-into-a-run", 2, "already holds a run"),
    ("out-and-resume-differ", 2, "name different folders"),
    ("resume-damaged-config", 3, "config.json"),
    ("resume-other-settings", 2, "setting 'max_interactions'"),
])
def test_run_folder_misuse(tmp_path, runs, case, code, phrase):
    done = runs["done"]
    journal = (done / "records.jsonl").read_bytes()
    unfinished, empty = tmp_path / "unfinished", tmp_path / "empty"
    unfinished.mkdir()
    empty.mkdir()
    (unfinished / "config.json").write_text((done / "config.json").read_text())
    args: list[object] = {
        "empty-folder": ["report", empty],
        "unfinished-run": ["report", unfinished],
        "plot-missing-folder": ["plot", done, "-o", tmp_path / "missing" / "x.png"],
        "compare-missing-folder": ["compare", done, done, "-o", tmp_path / "missing" / "x.md"],
        "compare-incomplete": ["compare", done, runs["stopped"]],
        "compare-bad-tolerance": ["compare", done, done, "--tolerance", "noc=-1"],
        "resume-not-a-run": [*SYNTH, "--resume", empty],
        "new-run-into-a-run": [*SYNTH, "--out", done],
        "out-and-resume-differ": [*SYNTH, "--out", tmp_path / "x", "--resume", done],
        "resume-damaged-config": [*SYNTH, "--resume", damaged_copy(tmp_path, done,
                                                                   "config.json", "{")],
        "resume-other-settings": [*SYNTH, "--max-clicks", "3", "--resume", done],
    }[case]
    res = invoke(*args)
    assert res.exit_code == code, res.output
    assert phrase in res.output and "Traceback" not in res.output
    assert (done / "records.jsonl").read_bytes() == journal


def test_report_of_an_unfinished_run_gives_a_resume_command_that_works(tmp_path, runs):
    failed = runs["failed"]
    out = tmp_path / "odd name" / "ä b"       # a folder name the shell must quote
    out.mkdir(parents=True)
    (out / "config.json").write_bytes((failed / "config.json").read_bytes())
    lines = (failed / "records.jsonl").read_bytes().splitlines(keepends=True)
    (out / "records.jsonl").write_bytes(b"".join(lines[:2]))   # two units, then a stop
    res = invoke("report", out)
    assert res.exit_code == 2 and "stopped before writing its summary" in res.output
    command = shlex.split(res.output.split("continue it with: ")[1])
    assert command[:2] == ["iseg-bench", "run"] and command[-2:] == ["--resume", str(out)]
    resumed = invoke(*command[1:], "--no-progress")
    assert resumed.exit_code == 1, resumed.output        # the same failed samples
    assert (out / "records.jsonl").read_bytes().startswith(b"".join(lines[:2]))
    assert (out / "records.csv").read_bytes() == (failed / "records.csv").read_bytes()


def test_torn_journal_line_is_dropped_and_resume_completes(tmp_path, runs):
    copy = tmp_path / "r"
    shutil.copytree(runs["done"], copy)
    lines = (copy / "records.jsonl").read_bytes().splitlines(keepends=True)
    (copy / "records.jsonl").write_bytes(b"".join(lines[:3]) + lines[3][:40])
    (copy / "summary.json").unlink()
    res = invoke(*SYNTH, "--resume", copy)
    assert res.exit_code == 0, res.output
    assert (copy / "records.csv").read_bytes() == (runs["done"] / "records.csv").read_bytes()


@pytest.mark.skipif(not Path("/sys").is_dir() or os.access("/sys", os.W_OK)
                    and not os.path.ismount("/sys"), reason="needs a read-only /sys")
def test_read_only_output_folder_is_an_environment_error(tmp_path):
    res = invoke(*SYNTH, "--out", "/sys/iseg-bench-hostile/r")
    assert res.exit_code == 3 and "cannot write the run folder" in res.output, res.output


def test_oserror_in_a_command_is_one_line_exit_3(tmp_path, runs, monkeypatch):
    import iseg_bench.reports as reports

    def full_disk(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device", str(tmp_path / "x.png"))

    monkeypatch.setattr(reports, "plot_runs", full_disk)
    res = invoke("plot", runs["done"], "-o", tmp_path / "x.png")
    assert res.exit_code == 3 and "No space left on device" in res.output, res.output
    assert "x.png" in res.output


def test_ctrl_c_in_report_is_exit_130(runs, monkeypatch):
    import iseg_bench.reports.formats as formats

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(formats, "render_report", interrupted)
    res = invoke("report", runs["done"])
    assert res.exit_code == 130 and "interrupted" in res.output


# ---- real processes: signals, a crash, a full disk -------------------------------------

def cli_process(*args: object, **kwargs: object) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "iseg_bench.cli", *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            **kwargs)  # type: ignore[call-overload]


def wait_for_units(out: Path, n: int, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while True:
        journal = out / "records.jsonl"
        if journal.exists() and journal.read_bytes().count(b"\n") >= n:
            return
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)


SLOW = [*FAULTY, "--dataset", "synthetic", "--dataset-opt", f"size={SIZE}", "--limit", "8",
        "--model-opt", "delay=0.05"]


@pytest.mark.parametrize("sig,code", [(signal.SIGINT, 130), (signal.SIGKILL, -9)],
                         ids=["int", "kill"])   # SIGTERM: tests/test_resume.py
def test_signals_keep_every_finished_record_and_resume_completes(tmp_path, sig, code):
    out = tmp_path / "r"
    proc = cli_process(*SLOW, "--out", out)
    wait_for_units(out, 2, proc)
    proc.send_signal(sig)
    assert proc.wait(60) == code
    stdout, _ = proc.communicate()
    done = (out / "records.jsonl").read_bytes()
    if sig == signal.SIGKILL:
        res = invoke("report", out)
        assert res.exit_code == 2 and "died while evaluating synthetic_" in res.output
    else:
        assert "incomplete run (interrupted)" in stdout
        assert json.loads((out / "summary.json").read_text())["complete"] is False
    res = invoke(*SLOW, "--resume", out)
    assert res.exit_code == 0, res.output
    assert (out / "records.jsonl").read_bytes().startswith(done)
    assert_records(out, {f"synthetic_0_{i:04d}" for i in range(8)})


def test_segfaulting_model_in_a_serial_run_says_where_and_how_to_resume(tmp_path):
    out = tmp_path / "r"
    args = [*FAULTY, "--dataset", "synthetic", "--dataset-opt", f"size={SIZE}", "--limit", "8",
            "--model-opt", "faults=segv:0.3"]
    proc = cli_process(*args, "--out", out)
    assert proc.wait(120) == -signal.SIGSEGV
    journal = (out / "records.jsonl").read_bytes()
    assert "Segmentation fault" in (out / "crash.log").read_text()
    res = invoke("report", out)
    assert res.exit_code == 2, res.output
    message = res.output
    assert "died while evaluating synthetic_0_" in message and "crash.log" in message
    command = message.split("continue it with: ")[1].strip()
    # in a worker process (one, started for the time limit) the crash costs its sample only
    resumed = cli_process(*shlex.split(command)[1:], "--sample-timeout", "60", "--no-progress")
    assert resumed.wait(120) == 1, resumed.communicate()
    _, stderr = resumed.communicate()
    assert "died while evaluating" in stderr and "--workers 2" in stderr
    assert (out / "records.jsonl").read_bytes().startswith(journal)
    failures = pd.read_csv(out / "failures.csv")
    assert failures["error"].str.contains("WorkerDied").all() and len(failures) >= 1
    assert not (out / "crash.log").exists()


def small_files() -> None:
    """In the child: files may not grow past 6 kB, and writing past it fails (EFBIG)
    instead of killing the process."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (6000, 6000))


def test_full_disk_during_a_run_is_exit_3_and_keeps_finished_samples(tmp_path):
    out = tmp_path / "r"
    args = [*FAULTY, "--dataset", "synthetic", "--dataset-opt", f"size={SIZE}", "--limit", "20"]
    # coverage's own data file could not grow past the limit either: this child goes unmeasured
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_PROCESS_")}
    proc = cli_process(*args, "--out", out, preexec_fn=small_files, env=env)
    assert proc.wait(120) == 3
    _, stderr = proc.communicate()
    assert stderr.startswith("error: I/O error") and stderr.count("\n") == 1, stderr
    assert "finished so far are kept" in stderr and f"--resume {out}" in stderr
    journal = (out / "records.jsonl").read_bytes()
    assert journal.count(b"\n") >= 1
    res = invoke(*args, "--resume", out)
    assert res.exit_code == 0, res.output
    assert (out / "records.jsonl").read_bytes().startswith(journal.rpartition(b"\n")[0])
    assert_records(out, {f"synthetic_0_{i:04d}" for i in range(20)})

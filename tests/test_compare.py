"""`compare` (regression tables for CI) on hand-made summaries: directions of every
figure family, tolerances, refusal when protocol settings or samples differ, CLI exits."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from iseg_bench.cli import main
from iseg_bench.errors import ConfigMismatchError, IsegBenchError
from iseg_bench.reports import compare as compare_views
from iseg_bench.reports import compare_paths, load_view, parse_tolerances

CONFIG = {"model": "m", "dataset": "grabcut", "robot": "clicker", "protocol": "single-object",
          "max_interactions": 20, "prob_threshold": 0.49, "iou_thresholds": [0.85, 0.9],
          "stop_at_iou": None, "compat": None, "seed": 0, "model_options": {},
          "robot_options": {}, "dataset_options": {}, "protocol_options": {}}
SUMMARY = {"model": "m", "dataset": "grabcut", "robot": "clicker", "interaction": "click",
           "n_samples": 50, "n_failed": 0, "n_units": 50, "complete": True,
           "units_sha1": "abc", "noc": {"0.85": 2.0, "0.90": 3.0},
           "nof": {"0.85": 1, "0.90": 2}, "miou": [0.7, 0.8, 0.85, 0.88, 0.9] + [0.9] * 15,
           "auc": 0.87, "seconds_per_click": {"first": 0.1, "later": 0.05},
           "config": CONFIG}


def write(tmp_path: Path, name: str, summary: dict) -> Path:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(summary))
    return path


def variant(**changes) -> dict:
    s = copy.deepcopy(SUMMARY)
    for key, value in changes.items():
        s[key] = value
    return s


def compare(baseline: Path, candidate: Path, tolerances: dict | None = None):
    """compare of two run folders or summary.json files."""
    return compare_views(load_view(baseline), load_view(candidate), tolerances)


def rows(result) -> dict:
    return {r.figure: r for r in result.rows}


def test_identical_runs_have_no_regression(tmp_path):
    a = write(tmp_path, "a", SUMMARY)
    result = compare(a, a)
    assert not result.regressions
    r = rows(result)
    assert set(r) >= {"NoC@85", "NoC@90", "NoF@85", "mIoU@1", "mIoU@5", "mIoU@10", "mIoU@20",
                      "AuC", "failed samples", "s/click (first)"}
    assert r["s/click (first)"].status == "info"          # timing is not checked by default
    assert "No regression" in result.markdown()


def test_directions_and_tolerances(tmp_path):
    a = write(tmp_path, "a", SUMMARY)
    worse = variant(noc={"0.85": 2.04, "0.90": 2.5}, nof={"0.85": 2, "0.90": 2},
                    miou=[0.69] + SUMMARY["miou"][1:], auc=0.871)
    b = write(tmp_path, "b", worse)
    r = rows(compare(a, b))
    assert r["NoC@85"].status == "REGRESSION" and r["NoC@90"].status == "better"
    assert r["NoF@85"].status == "REGRESSION" and r["NoF@90"].status == "ok"
    assert r["mIoU@1"].status == "REGRESSION" and r["AuC"].status == "better"
    assert r["NoC@85"].delta == pytest.approx(0.04)
    r = rows(compare(a, b, parse_tolerances("noc=0.05,miou=0.02,nof@85=1")))
    assert [x.figure for x in r.values() if x.status == "REGRESSION"] == []
    r = rows(compare(a, b, parse_tolerances("noc@85=0.01,noc=0.5,nof=1,miou=0.1")))
    assert r["NoC@85"].status == "REGRESSION" and r["NoC@85"].tolerance == 0.01
    # timing is checked when asked for; failures are a regression of their own
    slow = write(tmp_path, "slow", variant(seconds_per_click={"first": 0.3, "later": 0.05},
                                           n_failed=2))
    r = rows(compare(a, slow, parse_tolerances("seconds=0.1")))
    assert r["s/click (first)"].status == "REGRESSION"
    assert r["failed samples"].status == "REGRESSION"
    assert "different failed samples" in compare(a, slow).markdown()


def test_scribble_runs_say_noi_and_splits_are_compared(tmp_path):
    s = variant(interaction="scribble",
                splits={"thing": {"noc": {"0.85": 2.0}, "miou": [0.5] * 20, "auc": 0.5},
                        "stuff": {"noc": {"0.85": 4.0}, "miou": [0.4] * 20, "auc": 0.4}})
    t = copy.deepcopy(s)
    t["splits"]["stuff"]["noc"]["0.85"] = 5.0
    result = compare(write(tmp_path, "a", s), write(tmp_path, "b", t))
    assert [r.figure for r in result.regressions] == ["NoI@85 [stuff]"]


@pytest.mark.parametrize("key,value,why", [
    ("robot", "dios-clicker", "robot"), ("max_interactions", 10, "max_interactions"),
    ("iou_thresholds", [0.8], "iou_thresholds"), ("prob_threshold", 0.5, "prob_threshold"),
    ("dataset", "berkeley", "dataset")])
def test_refuses_different_protocol_settings(tmp_path, key, value, why):
    other = variant(config={**CONFIG, key: value})
    with pytest.raises(ConfigMismatchError, match=why):
        compare(write(tmp_path, "a", SUMMARY), write(tmp_path, "b", other))


def test_model_may_differ_but_samples_may_not(tmp_path):
    a = write(tmp_path, "a", SUMMARY)
    other_model = variant(model="n", config={**CONFIG, "model": "n",
                                             "model_options": {"iterations": 1}})
    assert compare(a, write(tmp_path, "b", other_model)).rows
    with pytest.raises(ConfigMismatchError, match="sample lists differ"):
        compare(a, write(tmp_path, "c", variant(units_sha1="zzz")))
    with pytest.raises(ConfigMismatchError, match="baseline has 50, candidate 40"):
        compare(a, write(tmp_path, "d", variant(units_sha1=None, n_units=40)))
    with pytest.raises(ConfigMismatchError, match="incomplete"):
        compare(a, write(tmp_path, "e", variant(complete=False)))


def test_run_folders_use_the_unit_list(tmp_path):
    for name, units in (("a", ["s1", "s2"]), ("b", ["s1", "s3"])):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "summary.json").write_text(json.dumps(variant(units_sha1=None)))
        (folder / "config.json").write_text(json.dumps({**CONFIG, "units": units}))
    with pytest.raises(ConfigMismatchError, match="samples"):
        compare(tmp_path / "a", tmp_path / "b")
    assert not compare(tmp_path / "a", tmp_path / "a" / "summary.json").regressions


def test_bad_tolerance_strings():
    for bad in ("noc", "speed=1", "noc=-1", "noc=x"):
        with pytest.raises((ValueError, IsegBenchError)):
            compare_paths(Path("x"), Path("y"), bad)


def test_cli_exit_codes(tmp_path):
    a = write(tmp_path, "a", SUMMARY)
    b = write(tmp_path, "b", variant(noc={"0.85": 2.5, "0.90": 3.0}))
    runner = CliRunner()
    ok = runner.invoke(main, ["compare", str(a), str(a)])
    assert ok.exit_code == 0 and ok.output.count("| ok |") >= 5
    bad = runner.invoke(main, ["compare", str(a), str(b), "-o", str(tmp_path / "t.md")])
    assert bad.exit_code == 1 and "**REGRESSION**" in bad.output
    assert (tmp_path / "t.md").read_text().startswith("Baseline:")
    tolerated = runner.invoke(main, ["compare", str(a), str(b), "--tolerance", "noc=0.5"])
    assert tolerated.exit_code == 0
    c = write(tmp_path, "c", variant(config={**CONFIG, "robot": "dios-clicker"}))
    refused = runner.invoke(main, ["compare", str(a), str(c)])
    assert refused.exit_code == 2 and "robot" in refused.output

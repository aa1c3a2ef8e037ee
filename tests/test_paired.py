"""The paired test of `compare` and its tolerance mode (reports/paired.py, compare.py) on
run folders made from the golden clicker-grabcut run (3 samples, 8 clicks) with hand-made
changes of the candidate's IoUs."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from click.testing import CliRunner

from iseg_bench.cli import main
from iseg_bench.protocols.single_object_figures import single_object_summary
from iseg_bench.reports import compare_paths

GOLDEN = Path(__file__).resolve().parent / "golden" / "clicker-grabcut"


def _run(tmp_path: Path, name: str, change: Callable[[pd.DataFrame], None]) -> Path:
    """A copy of the golden run whose records were changed by `change` and whose summary
    was recomputed from them."""
    out = tmp_path / name
    shutil.copytree(GOLDEN, out)
    records = pd.read_csv(out / "records.csv")
    change(records)
    records.to_csv(out / "records.csv", index=False)  # no timings.csv, as in tests/golden
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    records["model_seconds"] = 0.0
    summary.update(single_object_summary(records, 8, [0.85, 0.9, 0.95], None, None).to_json())
    (out / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    return out


def _shift(deltas: dict[int, float]) -> Callable[[pd.DataFrame], None]:
    def change(records: pd.DataFrame) -> None:
        ids = list(dict.fromkeys(records["sample_id"]))
        for i, d in deltas.items():
            rows = records["sample_id"] == ids[i]
            records.loc[rows, "iou"] = np.clip(records.loc[rows, "iou"] + d, 0, 1)
    return change


def _rows(result) -> dict:
    return {r.figure: r for r in result.rows}


def test_identical_runs_have_p_one(tmp_path: Path) -> None:
    a = _run(tmp_path, "a", lambda r: None)
    rows = _rows(compare_paths(a, a))
    assert rows["AuC"].p_value == 1.0 and rows["NoC@90"].p_value == 1.0
    assert rows["NoF@90"].p_value is None  # counts get no test
    assert rows["mIoU@5"].p_value == 1.0


def test_a_consistent_drop_is_significant(tmp_path: Path) -> None:
    a = _run(tmp_path, "a", lambda r: None)
    b = _run(tmp_path, "b", _shift({0: -0.1, 1: -0.1, 2: -0.1}))
    result = compare_paths(a, b, alpha=0.05)
    # every sample worse: no resample mean difference is >= 0
    assert _rows(result)["AuC"].p_value == 0.0
    assert _rows(result)["AuC"].status == "REGRESSION"
    assert "< 0.001" in result.markdown()


def test_a_drop_of_one_sample_is_not(tmp_path: Path) -> None:
    a = _run(tmp_path, "a", lambda r: None)
    b = _run(tmp_path, "b", _shift({0: -0.3, 1: 0.05, 2: 0.05}))
    plain, tested = compare_paths(a, b), compare_paths(a, b, alpha=0.05)
    assert _rows(plain)["AuC"].status == "REGRESSION"
    # a resample's mean difference is >= 0 only without sample 0: (2/3)^3 = 0.30 of them
    p = _rows(tested)["AuC"].p_value
    assert p is not None and abs(p - 2 * (2 / 3) ** 3) < 0.1
    assert _rows(tested)["AuC"].status == "worse, n.s."
    assert "AuC" not in [r.figure for r in tested.regressions]


def test_pairs_by_sample_id(tmp_path: Path) -> None:
    a = _run(tmp_path, "a", lambda r: None)
    b = _run(tmp_path, "b", _shift({0: -0.3, 1: 0.05, 2: 0.05}))
    c = _run(tmp_path, "c", _shift({0: -0.3, 1: 0.05, 2: 0.05}))
    records = pd.read_csv(c / "records.csv")
    records.iloc[::-1].to_csv(c / "records.csv", index=False)  # samples in another order
    pb = {r.figure: r.p_value for r in compare_paths(a, b).rows}
    pc = {r.figure: r.p_value for r in compare_paths(a, c).rows}
    assert pb == pc


def test_cli_significant_only(tmp_path: Path) -> None:
    a = _run(tmp_path, "a", lambda r: None)
    b = _run(tmp_path, "b", _shift({0: -0.3, 1: 0.05, 2: 0.05}))
    runner = CliRunner()
    assert runner.invoke(main, ["compare", str(a), str(b)]).exit_code == 1
    result = runner.invoke(main, ["compare", str(a), str(b), "--significant-only"])
    assert "| p |" in result.output
    # what stays a regression is significant: NoF and failed counts have no test
    regressions = [line for line in result.output.splitlines() if "**REGRESSION**" in line]
    assert all(line.split("|")[1].strip().startswith("NoF") for line in regressions)
    no_records = runner.invoke(main, ["compare", str(a / "summary.json"), str(tmp_path / "x"),
                                      "--significant-only"])
    assert no_records.exit_code == 2
    (tmp_path / "s").mkdir()
    shutil.copy(b / "summary.json", tmp_path / "s" / "summary.json")
    summary_only = runner.invoke(main, ["compare", str(a), str(tmp_path / "s"),
                                        "--significant-only"])
    assert summary_only.exit_code != 0 and "needs the paired test" in summary_only.output

"""The papers' pivot table and the interval columns of `iseg-bench report` (reports/pivot.py,
reports/ci.py, reports/formats.py), on hand-edited copies of the golden summaries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from iseg_bench.cli import main
from iseg_bench.errors import IsegBenchError
from iseg_bench.reports.pivot import pivot, pivot_frame, pivot_latex, pivot_markdown
from iseg_bench.reports.tables import summary_frame

GOLDEN = Path(__file__).resolve().parent / "golden"


def _summary(name: str, model: str, noc90: float, auc: float) -> dict:
    s = json.loads((GOLDEN / name / "summary.json").read_text(encoding="utf-8"))
    s["model"] = model
    s["noc"]["0.90"] = noc90
    s["auc"] = auc
    return s


def _runs() -> list[dict]:
    # model "a" is best on GrabCut NoC@90, "b" on DAVIS; AuC ties on GrabCut when shown
    return [_summary("clicker-grabcut", "a", 3.5, 0.81234),
            _summary("clicker-davis-workers2", "a", 6.0, 0.5),
            _summary("clicker-grabcut", "b", 4.25, 0.81226),
            _summary("clicker-davis-workers2", "b", 5.0, 0.4)]


def test_layout_and_values() -> None:
    runs = _runs()
    frame = pivot_frame(pivot(runs))
    assert list(frame["run"]) == ["a", "b"]
    assert [c for c in frame.columns if c.startswith("grabcut")] == [
        "grabcut NoC@85", "grabcut NoC@90", "grabcut NoC@95", "grabcut NoF@85",
        "grabcut NoF@90", "grabcut NoF@95", "grabcut AuC"]
    assert frame.loc[1, "davis NoC@90"] == 5.0
    assert frame.loc[0, "grabcut NoF@95"] == runs[0]["nof"]["0.95"]


def test_best_values_are_bold() -> None:
    head, _, a, b = ([c.strip() for c in line.strip("|").split("|")]
                     for line in pivot_markdown(pivot(_runs(), "noc,auc")).splitlines())
    col = head.index("grabcut NoC@90")
    assert a[col] == "**3.50**" and b[col] == "4.25"
    col = head.index("davis NoC@90")
    assert a[col] == "6.00" and b[col] == "**5.00**"
    col = head.index("grabcut AuC")  # 0.8123 both, as shown: a tie, both marked
    assert a[col] == b[col] == "**0.8123**"
    col = head.index("davis AuC")  # highest is best
    assert a[col] == "**0.5000**" and b[col] == "0.4000"


def test_single_run_marks_nothing() -> None:
    assert "**" not in pivot_markdown(pivot(_runs()[:2]))


def test_latex_is_booktabs_with_intervals() -> None:
    runs = _runs()
    tex = pivot_latex(pivot(runs, "noc"), ci=True)
    assert "\\toprule" in tex and "\\midrule" in tex and "\\bottomrule" in tex
    assert "\\multicolumn{3}{c}{grabcut} & \\multicolumn{3}{c}{davis}" in tex
    assert "\\cmidrule(lr){2-4} \\cmidrule(lr){5-7}" in tex
    lo, hi = runs[0]["ci"]["noc"]["0.85"]
    row_a = next(line for line in tex.splitlines() if line.startswith("a &"))
    assert f"{{\\scriptsize [{lo:.2f}, {hi:.2f}]}}" in row_a
    assert "\\textbf{3.50}" in row_a
    assert row_a.endswith("\\\\") and row_a.count("&") == 6


def test_figure_spec_and_errors() -> None:
    frame = pivot_frame(pivot(_runs(), "miou@5"), ci=True)
    assert list(frame.columns) == ["run", "grabcut mIoU@5", "grabcut mIoU@5 lo",
                                   "grabcut mIoU@5 hi", "davis mIoU@5", "davis mIoU@5 lo",
                                   "davis mIoU@5 hi"]
    assert frame.loc[0, "grabcut mIoU@5 lo"] == _runs()[0]["ci"]["miou"][4][0]
    frame = pivot_frame(pivot(_runs(), "noc@85,noc@90"))
    assert list(frame.columns) == ["run", "grabcut NoC@85", "grabcut NoC@90", "davis NoC@85",
                                   "davis NoC@90"]
    for bad in ("noc@x", "auc@5", "miou", "miou@x", "iou"):
        with pytest.raises(IsegBenchError, match=f"unknown figure '{bad}'"):
            pivot(_runs(), bad)
    with pytest.raises(IsegBenchError, match="two runs of 'a' on grabcut"):
        pivot(_runs()[:1] * 2)


def test_report_ci_columns() -> None:
    s = _runs()[0]
    frame = summary_frame([s], ci=True)
    lo, hi = s["ci"]["auc"]
    assert frame.loc[0, "AuC 95% CI"] == f"[{lo:.4f}, {hi:.4f}]"
    cols = list(frame.columns)
    assert cols[cols.index("NoC@90") + 1] == "NoC@90 95% CI"
    assert "NoF@90 95% CI" not in cols  # NoF is a count, no interval
    assert "AuC 95% CI" not in summary_frame([s]).columns


def test_cli_pivot_of_parent_folders(tmp_path: Path) -> None:
    for s in _runs():
        run = tmp_path / s["model"] / s["dataset"]
        run.mkdir(parents=True)
        (run / "summary.json").write_text(json.dumps(s), encoding="utf-8")
    result = CliRunner().invoke(main, ["report", str(tmp_path / "a"), str(tmp_path / "b"),
                                       "--pivot", "--format", "latex", "--ci"])
    assert result.exit_code == 0, result.output
    # a multi-dataset parent's runs, in folder-name order: davis, then grabcut
    assert "\\multicolumn{7}{c}{davis} & \\multicolumn{7}{c}{grabcut}" in result.output
    assert sum(line.startswith(("a &", "b &")) for line in result.output.splitlines()) == 2
    bad = CliRunner().invoke(main, ["report", str(tmp_path), "--format", "latex"])
    assert bad.exit_code != 0 and "not a finished run folder" in bad.output

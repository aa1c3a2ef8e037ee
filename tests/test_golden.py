"""Golden runs: records.csv and summary.json of a fixed set of runs equal the files stored in
tests/golden/, byte for byte (summary.json without its wall-clock timing figures, which
differ between any two runs). The stored files were made on main ae1294a, before the
restructuring of the package; a difference means behaviour changed.

Regenerate (only for an intended change of the numbers, said so in the commit):
    python tests/test_golden.py --write
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from iseg_bench.cli import main

GOLDEN = Path(__file__).resolve().parent / "golden"
DATA = ["--data-root", "{data}"]
RW = ["--model", "random-walker", "--model-opt", "max_side=120"]

#: name -> iseg-bench run arguments ({data} = the benchmark data root)
RUNS: dict[str, list[str]] = {
    "clicker-grabcut": [*RW, "--dataset", "grabcut", *DATA, "--limit", "3", "--max-clicks", "8"],
    "clicker-davis-workers2": [*RW, "--dataset", "davis", *DATA, "--limit", "3",
                               "--max-clicks", "8", "--workers", "2"],
    "scribbler-grabcut": [*RW, "--dataset", "grabcut", *DATA, "--limit", "2", "--robot",
                          "scribbler", "--max-clicks", "6"],
    "scribbler-davis": [*RW, "--dataset", "davis", *DATA, "--limit", "2", "--robot",
                        "scribbler", "--max-clicks", "6", "--stop-at-iou", "0.9"],
    "dios-davis": [*RW, "--dataset", "davis", *DATA, "--limit", "2", "--robot",
                   "dios-clicker", "--max-clicks", "6"],
    "ritm-grabcut": [*RW, "--dataset", "grabcut", *DATA, "--limit", "3", "--max-clicks", "8",
                     "--compat", "ritm", "--iou-thresholds", "0.80,0.85,0.90"],
    "full-image-synthetic": ["--protocol", "full-image", "--model", "random-walker-multi",
                             "--model-opt", "max_side=120", "--dataset", "synthetic-panoptic",
                             "--dataset-opt", "n_samples=2", "--rounds", "2"],
    "sequential-synthetic": ["--protocol", "sequential", "--model", "color-prior",
                             "--model-opt", "max_side=96", "--dataset", "synthetic-categories",
                             "--dataset-opt", "n_categories=2", "--dataset-opt",
                             "per_category=3", "--orders", "2", "--max-clicks", "4",
                             "--stop-at-iou", "0.9"],
}


def _without_timing(obj):
    """The summary with every wall-clock figure (a key naming seconds) removed."""
    if isinstance(obj, dict):
        return {k: _without_timing(v) for k, v in obj.items() if "seconds" not in k}
    if isinstance(obj, list):
        return [_without_timing(v) for v in obj]
    return obj


def run_outputs(name: str, data_root: Path, out: Path) -> dict[str, str]:
    """Run golden run `name` into `out`; {file name: text} of its compared outputs."""
    args = [a.replace("{data}", str(data_root)) for a in RUNS[name]]
    result = CliRunner().invoke(main, ["run", *args, "--out", str(out), "--no-progress"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return {"records.csv": (out / "records.csv").read_text(encoding="utf-8"),
            "summary.json": json.dumps(_without_timing(summary), indent=1, sort_keys=True)}


@pytest.mark.parametrize("name", sorted(RUNS))
def test_golden_run(name: str, data_root: Path, tmp_path: Path) -> None:
    got = run_outputs(name, data_root, tmp_path / name)
    for file, text in got.items():
        expected = (GOLDEN / name / file).read_text(encoding="utf-8")
        assert text == expected, f"{name}/{file} differs from the golden file"


if __name__ == "__main__" and sys.argv[1:] == ["--write"]:
    import tempfile

    root = Path(os.environ.get("ISEG_BENCH_DATA")
                or Path(__file__).resolve().parents[2] / "shared" / "datasets")
    with tempfile.TemporaryDirectory() as tmp:
        for run_name in sorted(RUNS):
            (GOLDEN / run_name).mkdir(parents=True, exist_ok=True)
            for file, text in run_outputs(run_name, root, Path(tmp) / run_name).items():
                (GOLDEN / run_name / file).write_text(text, encoding="utf-8")
            print("wrote", run_name)

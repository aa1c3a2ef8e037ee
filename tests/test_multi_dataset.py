"""`run --dataset a,b` / `suite:NAME`: one run per dataset under one parent folder, resumed per
dataset, and `report PARENT` standing for its child runs (real GrabCut and DAVIS data)."""

import json

import pytest
from click.testing import CliRunner

from iseg_bench.cli import main
from iseg_bench.datasets.registry import SUITES, expand_datasets
from iseg_bench.errors import UnknownNameError
from iseg_bench.run_folder import RECORDS, child_runs, expand_runs


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_dataset_lists_and_suites_expand_in_order_once():
    assert expand_datasets("davis, grabcut") == ["davis", "grabcut"]
    assert expand_datasets("suite:clicks-small,davis") == list(SUITES["clicks-small"])
    with pytest.raises(UnknownNameError, match="known suites: clicks"):
        expand_datasets("suite:nope")
    with pytest.raises(UnknownNameError, match="unknown dataset 'nope'"):
        expand_datasets("grabcut,nope")


def test_multi_dataset_run_resumes_per_dataset(data_root, tmp_path):
    parent = tmp_path / "multi"
    args = ("run", "--model", "instant", "--dataset", "grabcut,davis", "--data-root",
            data_root, "--limit", 2, "--max-clicks", 3, "--no-progress")
    first = invoke(*args, "--out", parent)
    assert first.exit_code == 0, first.output
    listing = json.loads((parent / "runs.json").read_text())
    assert listing == {"datasets": ["grabcut", "davis"],
                       "runs": {"grabcut": "grabcut", "davis": "davis"}}
    assert child_runs(parent) == [parent / "grabcut", parent / "davis"]
    for name in ("grabcut", "davis"):
        config = json.loads((parent / name / "config.json").read_text())
        assert config["dataset"] == name and len(config["units"]) == 2
    grabcut_csv = (parent / "grabcut" / "records.csv").read_bytes()
    davis_csv = (parent / "davis" / "records.csv").read_bytes()

    # interrupted: DAVIS lost its second sample, GrabCut is complete
    journal = parent / "davis" / RECORDS
    journal.write_text(journal.read_text().splitlines(keepends=True)[0])
    again = invoke(*args, "--resume", parent)
    assert again.exit_code == 0, again.output
    assert again.output.count("(2 samples done, 0 failed") == 2
    assert (parent / "grabcut" / "records.csv").read_bytes() == grabcut_csv
    assert (parent / "davis" / "records.csv").read_bytes() == davis_csv

    other = invoke("run", "--model", "instant", "--dataset", "davis,grabcut", "--data-root",
                   data_root, "--limit", 2, "--resume", parent)
    assert other.exit_code == 2 and "ran the datasets grabcut,davis" in other.output
    table = invoke("report", parent, "--format", "csv")
    assert table.exit_code == 0
    rows = table.output.strip().splitlines()[1:]
    assert [r.split(",")[0] for r in rows] == ["instant / grabcut", "instant / davis"]
    assert expand_runs([parent / "grabcut"]) == [parent / "grabcut"]

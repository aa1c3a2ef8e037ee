"""Shards and their merge (docs/execution.md): `--shard I/N` runs joined by `iseg-bench merge`
equal one run byte for byte (records.csv, failures.csv, config.json; summary.json apart from
its timing figures)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from iseg_bench.cli import main
from iseg_bench.errors import UsageError
from iseg_bench.execution.shards import parse_shard, shard_items

ARGS = ["--model", "faulty", "--model-opt", "faults=raise:0.2", "--dataset", "synthetic",
        "--dataset-opt", "size=[40,56]", "--limit", "11", "--max-clicks", "3",
        "--no-progress"]


def _without_timing(obj):
    if isinstance(obj, dict):
        return {k: _without_timing(v) for k, v in obj.items() if "seconds" not in k}
    return obj


def run(*args: str) -> None:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code in (0, 1), result.output + repr(result.exception)


def test_three_shards_merged_equal_a_single_run(tmp_path: Path) -> None:
    run("run", *ARGS, "--out", str(tmp_path / "single"))
    for i in (2, 0, 1):
        run("run", *ARGS, "--shard", f"{i}/3", "--out", str(tmp_path / f"s{i}"))
    shard0 = json.loads((tmp_path / "s0" / "config.json").read_text())
    assert len(shard0["units"]) == 4          # positions 0, 3, 6, 9 of 11
    run("merge", *(str(tmp_path / f"s{i}") for i in (1, 2, 0)), "--out",
        str(tmp_path / "merged"))
    single, merged = tmp_path / "single", tmp_path / "merged"
    for name in ("records.csv", "failures.csv", "config.json"):
        assert (merged / name).read_bytes() == (single / name).read_bytes(), name
    assert (single / "failures.csv").read_text().count("\n") > 1   # failures mixed in
    s, m = (json.loads((d / "summary.json").read_text()) for d in (single, merged))
    assert _without_timing(m) == _without_timing(s)
    assert m["run_seconds"]["interactions"] == s["run_seconds"]["interactions"]


def test_merge_refuses_an_incomplete_set_of_shards(tmp_path: Path) -> None:
    run("run", *ARGS, "--shard", "0/2", "--out", str(tmp_path / "s0"))
    result = CliRunner().invoke(main, ["merge", str(tmp_path / "s0"), "--out",
                                       str(tmp_path / "m")])
    assert result.exit_code == 2 and "shards 0..1" in result.output


def test_shard_parsing_and_round_robin() -> None:
    assert parse_shard("1/4") == (1, 4)
    assert shard_items(list(range(10)), "1/4") == [1, 5, 9]
    assert shard_items(list(range(10)), None) == list(range(10))
    for bad in ("4/4", "-1/2", "1", "a/b"):
        with pytest.raises(UsageError, match="--shard"):
            parse_shard(bad)

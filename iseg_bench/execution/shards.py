"""Shards of a run (``--shard I/N``) and their merge into the folder a single run writes
(``iseg-bench merge``), for clusters without Ray such as SLURM array jobs
(``docs/execution.md``).

Shard I of N evaluates the units at positions I, I + N, I + 2N, ... of the run's unit list
(round robin, so shards get similar work whatever the dataset's order). Its run folder is an
ordinary one whose ``units`` are its own; the merge interleaves the shards back into the
run's order, so the merged records.csv, failures.csv and config.json equal those of a single
run byte for byte, and summary.json does apart from its timing figures.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

from iseg_bench.config import RunConfig
from iseg_bench.errors import IsegBenchError, RunFolderError, UsageError
from iseg_bench.execution.describe import DESCRIBE
from iseg_bench.execution.journal import RecordWriter, order_results, read_results
from iseg_bench.execution.lock import RunFolderLock
from iseg_bench.execution.outputs import RunOutcome, finalize, throughput
from iseg_bench.protocols.registry import build_protocol
from iseg_bench.run_folder import (
    CONFIG,
    DATA_FINGERPRINTS,
    RECORDS,
    SUMMARY,
    load_run,
    read_config,
    write_json,
)

T = TypeVar("T")

_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


def parse_shard(text: str) -> tuple[int, int]:
    """(I, N) of "I/N" with 0 <= I < N.

    Raises:
        UsageError: naming --shard and the expected form.
    """
    m = _SHARD.match(text)
    if m is None or not int(m[1]) < int(m[2]):
        raise UsageError(f"--shard must be I/N with 0 <= I < N (e.g. 0/4), got {text!r}")
    return int(m[1]), int(m[2])


def shard_items(items: Sequence[T], shard: str | None) -> list[T]:
    """The items of shard `shard` ("I/N": positions I, I + N, ...), or all when None.

    Raises:
        UsageError: a malformed `shard`.
    """
    if shard is None:
        return list(items)
    i, n = parse_shard(shard)
    return list(items[i::n])


def _interleave(per_shard: list[list[str]]) -> list[str]:
    """The run's unit order from each shard's units (shard I holds positions I, I + N, ...).

    Raises:
        IsegBenchError: the shard sizes cannot come from one unit list.
    """
    n, total = len(per_shard), sum(len(u) for u in per_shard)
    if [len(u) for u in per_shard] != [len(range(i, total, n)) for i in range(n)]:
        raise IsegBenchError("the shards' unit lists do not split one run: "
                             f"{[len(u) for u in per_shard]} units")
    return [per_shard[j % n][j // n] for j in range(total)]


def _shard_configs(dirs: Sequence[Path]) -> list[tuple[Path, dict[str, Any]]]:
    """(folder, its config.json) of each shard, ordered by shard index, after checking that
    they are shards 0..N-1 of one N with the same settings.

    Raises:
        RunFolderError: a folder holds no run.
        UsageError: a folder is not a shard, shards are missing or repeated, or the
            settings differ.
    """
    found: dict[int, tuple[Path, dict[str, Any]]] = {}
    count = None
    for d in dirs:
        stored = read_config(d)
        if stored is None:
            raise RunFolderError(f"{d} holds no run ({CONFIG} missing)")
        if stored.get("shard") is None:
            raise UsageError(f"{d} is not a shard (it was run without --shard)")
        i, n = parse_shard(stored["shard"])
        if (count is not None and n != count) or i in found:
            raise UsageError(f"{d} is shard {i}/{n}, which does not fit the others")
        count, found[i] = n, (d, stored)
    if count is None or sorted(found) != list(range(count)):
        raise UsageError(f"merge needs shards 0..{(count or 1) - 1}; got "
                         f"{sorted(found)} of {count}")
    shards = [found[i] for i in range(count)]
    configs = [c for _, c in shards]
    ident = [RunConfig.from_json(c).identity() for c in configs]
    if any(x != ident[0] for x in ident) or any(c.get("versions") != configs[0].get("versions")
                                                for c in configs):
        raise UsageError("the shards were run with different settings or library versions")
    return shards


def merge_runs(dirs: Sequence[Path], out_dir: Path) -> RunOutcome:
    """Merge shard folders 0..N-1 of one run into `out_dir` (created), as a single run.

    config.json is the single run's (``shard`` null, every unit, every data fingerprint, the
    first shard's ``describe``);
    the journal holds each unit's last result in unit order; the other files are written as
    at the end of a run. ``summary["run_seconds"]`` adds the shards' wall-clock seconds and
    interactions (a throughput per shard, not of the whole cluster).

    Raises:
        UsageError: see :func:`_shard_configs`; `out_dir` is one of the shards.
        IsegBenchError: `out_dir` already holds a run; the unit lists do not fit.
        RunFolderBusyError: another process holds `out_dir`.
    """
    dirs = [Path(d) for d in dirs]
    out_dir = Path(out_dir)
    if any(d.resolve() == out_dir.resolve() for d in dirs):
        raise UsageError(f"--out {out_dir} is one of the shards; choose a new folder")
    shards = _shard_configs(dirs)
    configs = [c for _, c in shards]
    units = _interleave([list(c["units"]) for c in configs])
    prints = {k: v for c in configs for k, v in (c.get(DATA_FINGERPRINTS) or {}).items()}
    config = dataclasses.replace(RunConfig.from_json(configs[0]), shard=None)
    protocol = build_protocol(config)
    results = order_results([r for d, _ in shards for r in read_results(d)], units)
    with RunFolderLock(out_dir):
        if (out_dir / CONFIG).exists() or (out_dir / RECORDS).exists():
            raise IsegBenchError(f"{out_dir} already holds a run; choose another --out")
        out_dir.mkdir(parents=True, exist_ok=True)
        write_json(out_dir / CONFIG, {**config.to_json(), "versions": configs[0]["versions"],
                                      "units": units,
                                      DATA_FINGERPRINTS: {u: prints[u] for u in units
                                                          if u in prints},
                                      **{k: configs[0][k] for k in (DESCRIBE,)
                                         if k in configs[0]}})
        writer = RecordWriter(out_dir / RECORDS)
        try:
            for result in results:
                writer.write(result)
        finally:
            writer.close()
        return finalize(config, protocol, out_dir, results, unit_order=units,
                        complete=len(results) == len(units),
                        run_seconds=_summed_throughput(dirs, config.batch_size))


def _summed_throughput(dirs: Sequence[Path], batch_size: int) -> dict[str, Any] | None:
    """:func:`throughput` of the shards' summed wall-clock seconds and interactions (None
    when a shard has no figure)."""
    figures = []
    for d in dirs:
        run = load_run(d)[1].get("run_seconds") if (d / SUMMARY).exists() else None
        if run is None:
            return None
        figures.append(run)
    return throughput(sum(f["wall_seconds"] for f in figures),
                      sum(f["interactions"] for f in figures), batch_size)

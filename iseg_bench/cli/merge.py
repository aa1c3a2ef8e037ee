"""``iseg-bench merge``: join the shard folders of one run (``--shard I/N``) into the folder a
single run writes (``docs/execution.md``)."""

from __future__ import annotations

from pathlib import Path

import click

from iseg_bench.execution.shards import merge_runs


@click.command()
@click.argument("dirs", nargs=-1, required=True,
                type=click.Path(file_okay=False, exists=True))
@click.option("--out", required=True, type=click.Path(file_okay=False),
              help="The merged run folder to write (new).")
def merge(dirs: tuple[str, ...], out: str) -> None:
    """Merge the run folders of shards 0..N-1 (run with --shard I/N) into OUT.

    \b
    Example:
      iseg-bench merge runs/davis-shard-* --out runs/davis
    """
    outcome = merge_runs([Path(d) for d in dirs], Path(out))
    click.echo(f"run folder: {outcome.out_dir}  ({outcome.n_ok} done, {outcome.n_failed} "
               f"failed{'' if outcome.complete else '; incomplete: a shard did not finish'})")

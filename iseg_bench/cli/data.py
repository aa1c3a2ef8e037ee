"""``iseg-bench datasets`` (which datasets are found) and ``datasets build`` (manifests)."""

from __future__ import annotations

from pathlib import Path

import click


@click.group(invoke_without_command=True)
@click.option("--data-root", type=click.Path(file_okay=False), default=None,
              help="Folder holding the datasets (default: $ISEG_BENCH_DATA).")
@click.pass_context
def datasets(ctx: click.Context, data_root: str | None) -> None:
    """List every dataset: found or missing, sample counts, expected layout when missing.

    \b
    Sub-commands:
      iseg-bench datasets build ade20k-scribble   # write the ADE20K scribble manifest
    """
    ctx.obj = {"data_root": data_root}
    if ctx.invoked_subcommand is not None:
        return
    from iseg_bench.datasets.listing import list_datasets

    for row in list_datasets(data_root):
        status = "found" if row["found"] else "missing"
        count = "" if row.get("n_samples") is None else f"{row['n_samples']} samples"
        click.echo(f"{row['name']:<18} {status:<8} {count:<14} {row.get('path') or ''}")
        if not row["found"] and row.get("problem"):
            click.echo("    " + str(row["problem"]).splitlines()[0])


@datasets.command("build")
@click.argument("name", type=click.Choice(["ade20k-scribble"]))
@click.option("--seed", default=0, show_default=True, help="Seed of the per-category draw.")
@click.option("--per-category", default=5, show_default=True,
              help="Segments per category (all when fewer exist).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Manifest file (.json or .csv); default: inside the ADE20K folder, "
                   "where the ade20k-scribble dataset looks for it.")
@click.pass_context
def datasets_build(ctx: click.Context, name: str, seed: int, per_category: int,
                   output: str | None) -> None:
    """Build a benchmark manifest from a local dataset copy.

    ade20k-scribble: the ScribbleSeg ADE20K benchmark (Chen et al., Sec. 3.4): 5 segments
    per category of ADE20K panoptic val, drawn from --seed. The paper's own draw cannot be
    reproduced; this one is fixed by its seed and the manifest file.
    """
    from iseg_bench.datasets.ade20k_scribble import build_ade20k_scribble_manifest
    from iseg_bench.datasets.registry import resolve_data_root

    root = resolve_data_root(ctx.obj["data_root"])
    if root is None:
        raise click.UsageError("give --data-root (before 'build') or set ISEG_BENCH_DATA")
    path = build_ade20k_scribble_manifest(root, Path(output) if output else None, seed=seed,
                                          per_category=per_category)
    click.echo(f"wrote {path}")

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
      iseg-bench datasets fetch davis --archive DAVIS.zip   # verify and unpack an archive
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
        if not row["found"]:
            _print_fetch_help(row["name"], data_root)


def _print_fetch_help(name: str, data_root: str | None) -> None:
    """For a missing dataset with known archives: each archive's URL and fetch command."""
    from iseg_bench.datasets.archives import archives_of

    root = f" --data-root {data_root}" if data_root else ""
    for entry in archives_of(name):
        file_name = entry.url.rsplit("/", 1)[-1]
        click.echo(f"    get {entry.url} ({entry.size}), then: iseg-bench datasets fetch "
                   f"{entry.key} --archive {file_name}{root}  (online: --url instead of "
                   "--archive)")


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


@datasets.command("fetch")
@click.argument("name")
@click.option("--archive", "archive_file", type=click.Path(dir_okay=False, exists=True),
              default=None, help="The archive, downloaded already.")
@click.option("--url", is_flag=False, flag_value="", default=None, metavar="[URL]",
              help="Download the archive first: from the official address, or from URL.")
@click.option("--trust-unpinned", is_flag=True, help="Accept an archive whose SHA-256 is not "
              "pinned in the package (the computed hash is printed; compare it yourself).")
@click.pass_context
def datasets_fetch(ctx: click.Context, name: str, archive_file: str | None, url: str | None,
                   trust_unpinned: bool) -> None:
    """Verify an official archive's SHA-256 and unpack it into the layout the loader reads.

    NAME is a dataset (grabcut, berkeley, davis, coco-mval, sbd, pascalvoc,
    ade20k-panoptic) or one part of a dataset of several archives (coco-panoptic:images,
    coco-panoptic:annotations). URLs, sizes and checksums: docs/datasets.md.
    """
    from iseg_bench.datasets.archives import archive, download, unpack_into, verify
    from iseg_bench.datasets.registry import dataset_class, resolve_data_root
    from iseg_bench.errors import DatasetError

    root = resolve_data_root(ctx.obj["data_root"])
    if root is None:
        raise click.UsageError("give --data-root (before 'fetch') or set ISEG_BENCH_DATA")
    entry = archive(name)
    if (archive_file is None) == (url is None):
        raise click.UsageError("give one of --archive FILE or --url")
    path = (Path(archive_file) if archive_file is not None
            else download(url or entry.url, root / ".downloads"))
    digest = verify(entry, path, trust_unpinned)
    click.echo(f"{path}: SHA-256 {digest} "
               f"({'pinned, verified' if entry.sha256 else 'not pinned, trusted'})")
    click.echo(f"unpacked into {unpack_into(entry, path, root)}")
    if entry.note:
        click.echo(f"next: {entry.note}")
    try:
        n = len(dataset_class(entry.dataset).from_root(root))
    except DatasetError as err:
        click.echo(f"{entry.dataset} is not complete yet: {str(err).splitlines()[0]}")
    else:
        click.echo(f"{entry.dataset}: {n} samples found")

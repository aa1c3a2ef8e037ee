"""``iseg-bench show`` (one sample's interactions) and ``gallery`` (the worst samples):
pictures of a single-object run, its predictions made again from config.json."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from iseg_bench.errors import UsageError

if TYPE_CHECKING:
    from iseg_bench.reports.replay import Replay


def _interactions(text: str | None) -> list[int] | None:
    """The k of ``--interaction 1,3,5`` (None when not given).

    Raises:
        click.UsageError: a part that is not a positive integer.
    """
    if text is None:
        return None
    try:
        ks = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        ks = []
    if not ks or min(ks) < 1:
        raise click.UsageError(f"--interaction {text!r}: give positive integers, e.g. 1,3,5")
    return ks


def _output(output: str) -> Path:
    """The -o file, its folder existing and its suffix one the plots write.

    Raises:
        UsageError: a missing folder or an unknown suffix.
    """
    from iseg_bench.reports.plots import check_figure_path

    path = Path(output)
    if not path.parent.is_dir():
        raise UsageError(f"cannot write {output}: the folder {path.parent} does not exist")
    check_figure_path(path)
    return path


def _warn_mismatch(rep: Replay, sample_id: str) -> None:
    """Say on stderr when a replayed prediction is not the recorded one."""
    from iseg_bench.reports.replay import IOU_TOLERANCE

    if rep.mismatch > IOU_TOLERANCE:
        click.secho(f"warning: sample {sample_id}: the prediction made again differs from "
                    f"the run's (IoU off by up to {rep.mismatch:.3g}); the model is not "
                    "deterministic here; the IoU shown is the recorded one", fg="yellow",
                    err=True)


@click.command()
@click.argument("run_dir", metavar="RUN", type=click.Path(exists=True, file_okay=False))
@click.argument("sample_id", metavar="SAMPLE")
@click.option("--interaction", "interaction", default=None, metavar="K[,K...]",
              help="Show the state after interaction k; several (1,3,5) give a strip. "
                   "Default: the sample's last interaction.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Picture to write: .png (300 dpi), .pdf or .svg.")
@click.option("--data-root", type=click.Path(file_okay=False), default=None,
              help="Folder holding the datasets (default: the run's, else $ISEG_BENCH_DATA).")
def show(run_dir: str, sample_id: str, interaction: str | None, output: str,
         data_root: str | None) -> None:
    """Draw SAMPLE of RUN: image, ground-truth contour (yellow), prediction (blue), every
    interaction so far (positive green, negative red) and the IoU.

    The prediction is made again by the run's model from config.json (runs are
    deterministic); a replay that differs from the records is reported.

    \b
    Example:
      iseg-bench show runs/gc-davis 004 --interaction 1,3,5 -o davis-004.png
    """
    from iseg_bench.reports.gallery import run_title
    from iseg_bench.reports.pictures import show_figure
    from iseg_bench.reports.plots import save_figure
    from iseg_bench.reports.replay import replay

    path = _output(output)
    ks = _interactions(interaction)
    rep = replay(Path(run_dir), sample_id, max(ks) if ks else None, data_root)
    n = len(rep.interactions)
    if ks and max(ks) > n:
        raise UsageError(f"--interaction {max(ks)}: sample {sample_id} has {n} interactions")
    _warn_mismatch(rep, sample_id)
    fig = show_figure(rep, ks or [n], f"{run_title(Path(run_dir))}, sample {sample_id}")
    click.echo(save_figure(fig, path))


@click.command()
@click.argument("run_dir", metavar="RUN", type=click.Path(exists=True, file_okay=False))
@click.option("--worst", required=True, type=click.IntRange(1), metavar="N",
              help="How many samples to show.")
@click.option("--at", type=click.IntRange(1), default=None, metavar="K",
              help="Worst = lowest IoU after interaction K (default: the last).")
@click.option("--by", type=click.Choice(["iou", "noc"]), default="iou", show_default=True,
              help="iou: lowest IoU at --at; noc: highest NoC at --threshold.")
@click.option("--threshold", type=click.FloatRange(0, 1, min_open=True), default=0.90,
              show_default=True, help="IoU threshold of --by noc.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Grid picture to write (.png, .pdf, .svg); the IoU curves of the same "
                   "samples go beside it as <name>-curves<suffix>.")
@click.option("--data-root", type=click.Path(file_okay=False), default=None,
              help="Folder holding the datasets (default: the run's, else $ISEG_BENCH_DATA).")
def gallery(run_dir: str, worst: int, at: int | None, by: str, threshold: float,
            output: str, data_root: str | None) -> None:
    """One grid of the N worst samples of RUN, and their IoU curves.

    \b
    Example:
      iseg-bench gallery runs/gc-davis --worst 8 --at 5 -o worst.png
    """
    from iseg_bench.reports.gallery import Worst, curves_figure, gallery_figure, worst_samples
    from iseg_bench.reports.plots import save_figure

    if at is not None and by == "noc":
        raise click.UsageError("--at goes with --by iou; --by noc ranks by NoC@--threshold")
    path = _output(output)
    mode: Worst = "noc" if by == "noc" else "iou"
    click.echo(save_figure(gallery_figure(Path(run_dir), worst, at, mode, threshold,
                                          data_root), path))
    chosen = worst_samples(Path(run_dir), worst, at, mode, threshold)
    curves = path.with_name(f"{path.stem}-curves{path.suffix}")
    click.echo(save_figure(curves_figure(Path(run_dir), chosen), curves))

"""Every CLI command on hand-checked outputs (docs/cli.md): ``datasets``, ``datasets build``,
``models``, ``plot`` of full-image runs and ``--out`` with ``--resume``."""

from __future__ import annotations

import json

import matplotlib.figure
from click.testing import CliRunner

from iseg_bench.cli import main
from tests.test_full_image import run as full_image_run
from tests.test_panoptic import _write_split
from tests.test_resume import N, config


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_datasets_lists_found_and_missing_with_counts(data_root, tmp_path):
    res = invoke("datasets", "--data-root", data_root)
    assert res.exit_code == 0, res.output
    rows = {line.split()[0]: line for line in res.output.splitlines() if line[:1] != " "}
    # the benchmark copies: GrabCut 50 images, DAVIS 345, COCO MVal 401 (docs/datasets.md)
    assert rows["grabcut"].split()[1:3] == ["found", "50"]
    assert rows["davis"].split()[1:3] == ["found", "345"]
    assert rows["coco-mval"].split()[1:3] == ["found", "401"]
    # an empty folder: every dataset read from files is missing, under that folder; the
    # generated (synthetic) ones are always found
    res = invoke("datasets", "--data-root", tmp_path)
    assert res.exit_code == 0
    listed = {line.split()[0]: line.split()[1:] for line in res.output.splitlines()
              if line[:1] != " "}
    assert set(listed) == set(rows)
    assert {n for n, cols in listed.items() if cols[0] == "found"} == {
        n for n in listed if n.startswith("synthetic")}
    assert listed["grabcut"] == ["missing", str(tmp_path / "GrabCut")]


def test_datasets_build_writes_the_seeded_manifest(tmp_path):
    _write_split(tmp_path / "ADEChallengeData2016", "images/validation", "ade20k_panoptic_val",
                 "ade20k_panoptic_val.json", string_ids=True)
    out = tmp_path / "m.json"
    res = invoke("datasets", "--data-root", tmp_path, "build", "ade20k-scribble",
                 "--per-category", 1, "--seed", 3, "-o", out)
    assert res.exit_code == 0, res.output
    assert res.output.strip() == f"wrote {out}"
    data = json.loads(out.read_text())
    # the fixture has 3 categories (person, sky, car): one segment each
    assert (data["seed"], data["per_category"], data["n_samples"]) == (3, 1, 3)
    res = CliRunner(env={"ISEG_BENCH_DATA": ""}).invoke(
        main, ["datasets", "build", "ade20k-scribble"])
    assert res.exit_code == 2 and "give --data-root (before 'build')" in res.output


def test_models_lists_every_registered_model_once():
    from iseg_bench.adapters.registry import MODELS

    res = invoke("models")
    assert res.exit_code == 0
    names = [line.split()[0] for line in res.output.splitlines()]
    assert names == sorted(MODELS.entries())
    assert {"random-walker", "grabcut", "color-prior", "faulty"} <= set(names)


def test_plot_of_full_image_runs_uses_the_fig5_axes(tmp_path, monkeypatch):
    full_image_run(tmp_path, "fi")
    saved = []
    original = matplotlib.figure.Figure.savefig

    def keep(fig, *args, **kwargs):
        saved.append(fig)
        return original(fig, *args, **kwargs)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", keep)
    png = tmp_path / "fig5.png"
    res = invoke("plot", tmp_path / "fi", tmp_path / "fi", "-o", png)
    assert res.exit_code == 0, res.output
    assert res.output.strip() == str(png) and png.read_bytes()[:4] == b"\x89PNG"
    (ax,) = saved[-1].axes
    assert ax.get_xlabel() == "corrective scribbles per region"
    assert ax.get_ylabel() == "mean IoU over all regions (%)"
    assert len(ax.get_lines()) == 2        # one curve per run


def test_out_with_resume_must_name_the_same_folder(tmp_path):
    from iseg_bench.execution import execute

    out = tmp_path / "run"
    execute(config(), out, progress=False)
    args = ["run", "--model", "faulty", "--dataset", "synthetic", "--dataset-opt",
            "size=[48, 64]", "--limit", N, "--max-clicks", 3, "--model-opt", "delay=0.05",
            "--no-progress"]
    res = invoke(*args, "--out", tmp_path / "other", "--resume", out)
    assert res.exit_code == 2
    assert "--out and --resume name different folders; give one" in res.output
    assert not (tmp_path / "other").exists()
    res = invoke(*args, "--out", out, "--resume", out)
    assert res.exit_code == 0, res.output
    assert json.loads((out / "summary.json").read_text())["n_samples"] == N

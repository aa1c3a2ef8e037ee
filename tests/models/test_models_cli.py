"""`iseg-bench train` then `iseg-bench run --checkpoint`: the CLI path of the bundled models."""

import json

import torch  # noqa: F401
from click.testing import CliRunner

from iseg_bench.cli import main  # noqa: E402


def test_train_writes_a_checkpoint_that_run_rebuilds(tmp_path):
    runner = CliRunner()
    ckpt = tmp_path / "emc"
    res = runner.invoke(main, ["train", "--model", "emc-click-tiny", "--dataset", "synthetic",
                               "--max-steps", "1", "--crop", "32x32", "--out", str(ckpt),
                               "--no-progress"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert (ckpt / "model.safetensors").exists()
    arch = json.loads((ckpt / "model.json").read_text())
    assert (arch["model_type"], arch["variant"]) == ("emc-click", "emc-click-tiny")
    res = runner.invoke(main, ["run", "--model", "emc-click", "--checkpoint", str(ckpt),
                               "--dataset", "synthetic", "--limit", "1", "--max-clicks", "2",
                               "--out", str(tmp_path / "run"), "--no-progress"],
                        catch_exceptions=False)
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["n_samples"] == 1 and summary["config"]["model_options"]["checkpoint"]


def test_training_on_an_evaluation_set_needs_the_flag(tmp_path):
    runner = CliRunner()
    args = ["train", "--model", "emc-click-tiny", "--dataset", "grabcut", "--data-root",
            str(tmp_path), "--max-steps", "1", "--out", str(tmp_path / "o"), "--no-progress"]
    res = runner.invoke(main, args)
    assert res.exit_code == 2
    error = [line for line in res.output.splitlines() if "grabcut" in line]
    assert error == ["error: grabcut is an evaluation benchmark; training on it needs "
                     "--allow-eval-set (training sets: coco-lvis, coco-panoptic-train-full, "
                     "sbd-train, synthetic, synthetic-categories, synthetic-panoptic)"]
    assert not (tmp_path / "o").exists()
    # with the flag the gate opens: the next complaint is the missing GrabCut folder
    res = runner.invoke(main, [*args, "--allow-eval-set"])
    assert res.exit_code != 0 and "folder GrabCut/ not found" in res.output
    assert "evaluation benchmark" not in res.output


def test_run_without_checkpoint_says_how_to_get_one(tmp_path, monkeypatch):
    monkeypatch.delenv("ISEG_BENCH_WEIGHTS", raising=False)
    res = CliRunner().invoke(main, ["run", "--model", "acc99net", "--dataset", "synthetic",
                                    "--out", str(tmp_path / "r")])
    assert res.exit_code == 2 and "iseg-bench train" in res.output and "--random-init" in res.output


def test_train_ifis_writes_a_checkpoint_and_refuses_recipe_model_flags(tmp_path):
    runner = CliRunner()
    out = tmp_path / "ifis"
    res = runner.invoke(main, ["train", "--model", "ifis-tiny", "--dataset",
                               "synthetic-panoptic", "--max-steps", "1", "--device", "cpu",
                               "--out", str(out), "--no-progress"])
    assert res.exit_code == 0, res.output
    assert (out / "model.safetensors").is_file() and (out / "model.json").is_file()
    assert json.loads((out / "model.json").read_text())["variant"] == "ifis-tiny"
    res = runner.invoke(main, ["train", "--model", "ifis-tiny", "--dataset",
                               "synthetic-panoptic", "--crop", "32x32", "--batch-size", "2"])
    assert res.exit_code == 2
    assert "--batch-size, --crop" in res.output and "ifis" in res.output


def test_models_lists_released_files_and_convert_writes_our_checkpoint(tmp_path):

    from iseg_bench.models.acc99net import Acc99Net

    res = CliRunner().invoke(main, ["models"])
    assert res.exit_code == 0
    emc = next(line for line in res.output.splitlines() if line.startswith("emc-click "))
    assert "segb0.pth" in emc and "segb3.pth" not in emc
    torch.save(Acc99Net().state_dict(), tmp_path / "InterSegSynthFT.pth")
    res = CliRunner().invoke(main, ["models", "convert", str(tmp_path / "InterSegSynthFT.pth"),
                                    "-o", str(tmp_path / "ours")])
    assert res.exit_code == 0, res.output
    arch = json.loads((tmp_path / "ours" / "model.json").read_text())
    assert arch["model_type"] == "acc99net" and arch["meta"]["source"] == "InterSegSynthFT.pth"


def test_emc_click_runs_get_the_dataset_and_the_authors_threshold():
    from iseg_bench.adapters.torch_models import EMCClickAdapter
    from iseg_bench.api import model_defaults
    from iseg_bench.models.released import EVAL_PRESET

    assert EMCClickAdapter.prob_threshold == EVAL_PRESET["prob_threshold"]
    assert model_defaults("emc-click", "davis", {}, None) == ({"dataset": "davis"}, 0.5)
    assert model_defaults("emc-click", "davis", {"dataset": "x"}, 0.3) == ({"dataset": "x"}, 0.3)
    assert model_defaults("random-walker", "davis", {}, None) == ({}, 0.49)

"""Checkpoints, adapters (random init, caching, zoom-in), pretrained loading, import guard."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
import transformers  # noqa: F401  (the models extra is required: a broken install fails)

pytestmark = pytest.mark.filterwarnings("ignore:.*random weights.*:UserWarning")

from iseg_bench.errors import AdapterError, UsageError  # noqa: E402
from iseg_bench.models.checkpoint import load_checkpoint, save_checkpoint  # noqa: E402
from iseg_bench.models.click_encodings import click_pixel_maps, gaussian_maps  # noqa: E402
from iseg_bench.models.zoo import build_model  # noqa: E402
from iseg_bench.types import Click  # noqa: E402


@pytest.mark.parametrize("hw", [(1, 5), (29, 35), (67, 93)])
def test_acc99net_shapes_and_range_at_odd_sizes(hw):
    m = build_model("acc99net-tiny").eval()
    clicks = [(0, 0, True), (hw[0] - 1, hw[1] - 1, False)]
    g = torch.from_numpy(gaussian_maps(clicks, hw))[None]
    px = torch.from_numpy(click_pixel_maps(clicks, hw))[None]
    with torch.no_grad():
        out = m(torch.rand(1, 3, *hw), g, torch.zeros(1, 1, *hw), px)
    assert out.shape == (1, 1, *hw)
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0


@pytest.mark.parametrize("variant", ["emc-click-tiny", "acc99net-tiny"])
def test_checkpoint_round_trip(tmp_path, variant):
    m = build_model(variant, seed=3).eval()
    save_checkpoint(m, tmp_path / "ck", variant=variant, meta={"note": "test"})
    assert (tmp_path / "ck.safetensors").is_file() and (tmp_path / "ck.json").is_file()
    m2, arch = load_checkpoint(tmp_path / "ck.json")
    assert arch["variant"] == variant and arch["meta"]["note"] == "test"
    for (k, a), (_, b) in zip(m.state_dict().items(), m2.state_dict().items()):
        assert torch.equal(a, b), k


def test_missing_checkpoint_is_a_clear_error(monkeypatch):
    from iseg_bench.adapters.torch_models import Acc99NetAdapter, EMCClickAdapter

    monkeypatch.delenv("ISEG_BENCH_WEIGHTS", raising=False)
    for factory in (EMCClickAdapter, Acc99NetAdapter):
        with pytest.raises(AdapterError, match="iseg-bench train"):
            factory(device="cpu")


def test_weights_folder_lookup(tmp_path, monkeypatch):
    from iseg_bench.adapters.torch_models import Acc99NetAdapter

    save_checkpoint(build_model("acc99net-tiny"), tmp_path / "acc99net", variant="acc99net-tiny")
    monkeypatch.setenv("ISEG_BENCH_WEIGHTS", str(tmp_path))
    ad = Acc99NetAdapter(device="cpu")
    assert ad.weights.endswith("acc99net.safetensors")


def test_emc_adapter_caches_base_features_from_click_2():
    from iseg_bench.adapters.torch_models import EMCClickAdapter

    ad = EMCClickAdapter(device="cpu", random_init="true", variant="emc-click-tiny",
                         short_side=None)
    calls = {"encode": 0, "correct": 0}
    enc, cor = ad.model.encode, ad.model.correct

    def count(name, fn):
        def wrapped(*a, **k):
            calls[name] += 1
            return fn(*a, **k)
        return wrapped

    ad.model.encode, ad.model.correct = count("encode", enc), count("correct", cor)
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (45, 61, 3), dtype=np.uint8)
    ad.set_image(image)
    hist = [Click(20, 30, True)]
    prob = ad.predict(hist, np.zeros((45, 61), np.float32))
    assert prob.shape == (45, 61) and prob.dtype == np.float32
    assert 0 <= prob.min() and prob.max() <= 1
    for c in (Click(5, 5, False), Click(40, 50, True)):
        hist.append(c)
        prob = ad.predict(hist, prob)
    assert calls == {"encode": 1, "correct": 3}
    ad.set_image(image)  # a new sample recomputes the base features
    ad.predict(hist[:1], np.zeros((45, 61), np.float32))
    assert calls["encode"] == 2


def test_adapters_zoom_in_path():
    from iseg_bench.adapters.torch_models import Acc99NetAdapter, EMCClickAdapter

    with pytest.raises(AdapterError, match="does not zoom in"):
        EMCClickAdapter(device="cpu", random_init=True, variant="emc-click-tiny", zoom_in=True)
    ad = Acc99NetAdapter(device="cpu", random_init=True, variant="acc99net-tiny",
                         zoom_in="true", zoom_size=48, short_side=None, preset="plain")
    image = np.random.default_rng(1).integers(0, 255, (70, 90, 3), dtype=np.uint8)
    ad.set_image(image)
    prev = np.zeros((70, 90), np.float32)
    prev[20:40, 30:60] = 0.9
    p1 = ad.predict([Click(30, 45, True)], np.zeros_like(prev))
    p2 = ad.predict([Click(30, 45, True), Click(35, 50, False)], prev)
    assert p1.shape == p2.shape == (70, 90)
    assert ad.describe()["zoom_in"] is True


@pytest.mark.parametrize("name", ["emc-click", "emc-click-b3", "acc99net"])
def test_unknown_model_option_is_a_usage_error_naming_the_model(name):
    from iseg_bench.adapters.registry import MODELS, build_adapter

    assert "zoom_in" in MODELS.resolve(name).options_class.__dataclass_fields__
    with pytest.raises(UsageError, match=rf"model {name}: unknown option\(s\) zoom; "
                                         r"allowed: .*\bzoom_in\b"):
        build_adapter(name, zoom=True)


def test_model_option_defaults_per_model():
    from iseg_bench.adapters.torch_models import Acc99NetAdapter, EMCClickAdapter, EMCClickB3Adapter

    emc = EMCClickAdapter(device="cpu", random_init=True, variant="emc-click-tiny")
    acc = Acc99NetAdapter(device="cpu", random_init=True, variant="acc99net-tiny")
    assert emc.short_side == 384 and acc.short_side is None
    assert EMCClickB3Adapter.default_variant == "emc-click-b3"
    assert EMCClickB3Adapter.name == "emc-click-b3"


def test_registry_names_resolve():
    from iseg_bench.adapters.registry import MODELS

    for name in ("emc-click", "emc-click-b3", "acc99net"):
        assert name in MODELS
        assert MODELS.resolve(name).name == name


def test_pretrained_backbones_from_local_folders(tmp_path):
    """ImageNet-weight loading through transformers, on locally saved tiny folders."""
    from transformers import SegformerConfig, SegformerModel

    from iseg_bench.models.hf_backbones import load_pretrained_segformer
    from iseg_bench.models.zoo import TINY_MIT

    mit = {k: v for k, v in TINY_MIT.items() if k != "decoder_hidden_size"}
    SegformerModel(SegformerConfig(num_channels=3, **mit)).save_pretrained(tmp_path / "mit")
    emc = build_model("emc-click-tiny")
    names = load_pretrained_segformer(emc.base.encoder, str(tmp_path / "mit"))
    src = SegformerModel.from_pretrained(tmp_path / "mit").state_dict()
    conv = "stages.0.patch_embeddings.proj.weight"
    assert conv in names
    w = emc.base.encoder.state_dict()[conv]
    assert torch.equal(w[:, :3], src[conv]) and not w[:, 3:].any()


def test_broken_torchvision_is_hidden(tmp_path):
    """A torchvision that raises on import must not break the backbones' transformers import."""
    fake = tmp_path / "torchvision"
    fake.mkdir()
    (fake / "__init__.py").write_text(
        "raise RuntimeError('operator torchvision::nms does not exist')\n")
    code = textwrap.dedent("""
        import sys
        from iseg_bench.models.hf_backbones import transformers_modules, build_segformer
        transformers_modules()
        assert sys.modules['torchvision'] is None
        build_segformer(3, hidden_sizes=[8, 8, 8, 8], depths=[1, 1, 1, 1],
                        num_attention_heads=[1, 1, 1, 1])
        print('ok')
    """)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), os.getcwd()]))
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "ok" in res.stdout


def test_device_and_option_parsing():
    from iseg_bench.models.runtime import as_bool, autocast, resolve_device

    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type in ("cpu", "cuda")
    if not torch.cuda.is_available():
        with pytest.raises(AdapterError, match="CUDA is not available"):
            resolve_device("cuda:0")
        with pytest.warns(UserWarning, match="only used on CUDA"):
            with autocast(torch.device("cpu"), True):
                pass
    with pytest.raises(AdapterError):
        resolve_device("tpu")
    assert as_bool("true") and as_bool("1") and not as_bool("no") and not as_bool(False)
    with pytest.raises(AdapterError):
        as_bool("maybe")


def test_adapter_rejects_scribbles():
    from iseg_bench.adapters.torch_models import Acc99NetAdapter
    from iseg_bench.types import Scribble

    ad = Acc99NetAdapter(device="cpu", random_init=True, variant="acc99net-tiny")
    ad.set_image(np.zeros((20, 20, 3), np.uint8))
    with pytest.raises(AdapterError, match="clicks only"):
        ad.predict([Scribble(np.array([[1.0, 1.0], [5.0, 5.0]]), True)],
                   np.zeros((20, 20), np.float32))


def test_emc_preset_working_shape_and_description():
    """The authors' evaluation: short side 384 (576 on davis), round(side * s) floored to a
    multiple of 4, flip on, threshold 0.5 recorded."""
    from iseg_bench.adapters.torch_models import EMCClickAdapter

    ad = EMCClickAdapter(device="cpu", random_init=True, variant="emc-click-tiny")
    assert ad._working_shape((70, 90)) == (384, 492)  # 90 * 384 / 70 = 493.7 -> 494 -> 492
    davis = EMCClickAdapter(device="cpu", random_init=True, variant="emc-click-tiny",
                            dataset="DAVIS")
    assert davis._working_shape((480, 854)) == (576, 1024)  # 854 * 1.2 = 1024.8 -> 1024
    d = davis.describe()
    assert d["short_side"] == 576 and d["flip"] is True and d["zoom_in"] is False
    assert d["preset"]["prob_threshold"] == 0.5


def test_emc_flip_averaging_is_mirror_symmetric_and_prev_prob_is_unused():
    from iseg_bench.adapters.torch_models import EMCClickAdapter

    image = np.random.default_rng(2).integers(0, 255, (48, 64, 3), dtype=np.uint8)
    clicks = [Click(20, 10, True), Click(30, 50, False)]
    mirrored = [Click(c.y, 63 - c.x, c.is_positive) for c in clicks]
    ad = EMCClickAdapter(device="cpu", random_init=True, variant="emc-click-tiny",
                         short_side=None)
    ad.set_image(image)
    p1 = ad.predict(clicks[:1], np.zeros((48, 64), np.float32))
    p2 = ad.predict(clicks, np.random.default_rng(0).random((48, 64)).astype(np.float32))
    ad.set_image(image[:, ::-1])
    q1 = ad.predict(mirrored[:1], np.ones((48, 64), np.float32))
    q2 = ad.predict(mirrored, np.zeros((48, 64), np.float32))
    assert np.abs(p1 - q1[:, ::-1]).max() < 1e-5
    assert np.abs(p2 - q2[:, ::-1]).max() < 1e-5
    # a fresh adapter given the whole history replays it: same result
    fresh = EMCClickAdapter(device="cpu", random_init=True, variant="emc-click-tiny",
                            short_side=None)
    fresh.set_image(image)
    assert np.abs(fresh.predict(clicks, np.zeros((48, 64), np.float32)) - p2).max() < 1e-6
    noflip = EMCClickAdapter(device="cpu", random_init=True, variant="emc-click-tiny",
                             short_side=None, flip=False)
    noflip.set_image(image)
    assert np.abs(noflip.predict(clicks[:1], np.zeros((48, 64), np.float32)) - p1).max() > 1e-4

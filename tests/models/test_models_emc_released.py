"""EMC-Click against the authors' released models: strict loading of state dicts with the
released key names and shapes (tests/models/data/*.json, from emc_released_reference.layout),
equivalence with a transcription of the released forward pass, safe reading, conversion."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import emc_released_reference as ref  # noqa: E402
import pytest
import torch
import transformers  # noqa: F401  (the models extra is required: a broken install fails)

from iseg_bench.errors import AdapterError  # noqa: E402
from iseg_bench.models.emc_click import EMCClick, EMCClickConfig  # noqa: E402
from iseg_bench.models.released import (  # noqa: E402
    convert,
    infer_config,
    load_released,
    map_state_dict,
)
from iseg_bench.models.zoo import TINY_MIT  # noqa: E402

DATA = Path(__file__).parent / "data"


def _json_state(version):
    keys = json.loads((DATA / f"emc_click_seg{version}_keys.json").read_text())["keys"]
    return {k: (torch.tensor(3) if not s else torch.zeros(s)) for k, s in keys.items()}


@pytest.mark.parametrize("version", ["b0", "b3"])
def test_checked_in_key_lists_are_the_reference_layout(version):
    keys = json.loads((DATA / f"emc_click_seg{version}_keys.json").read_text())["keys"]
    assert {k: tuple(v) for k, v in keys.items()} == ref.layout(version)


@pytest.mark.parametrize("version,params", [("b0", 3.8287e6), ("b3", 45.8966e6)])
def test_released_key_lists_load_strictly(version, params):
    state = _json_state(version)
    cfg = infer_config(state)
    model = EMCClick(cfg)
    result = model.load_state_dict(map_state_dict(state, model.state_dict()), strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    n = sum(p.numel() for p in model.parameters())
    assert abs(n - params) < 100, n
    # the released file's parameters are ours plus the unused norm_add and the two aliases
    # of the shared phi_s block (each depthwise 3x3 + BN + depthwise 3x3 + 1x1 + BN at C)
    c = cfg.channels
    buffers = ("running_mean", "running_var", "num_batches_tracked")
    released = sum(v.numel() for k, v in state.items() if not k.endswith(buffers))
    alias = 2 * (25 * c + c * c)
    assert released == n + alias + 2 * cfg.encoder["hidden_sizes"][0]


def test_correction_network_size_at_c64():
    """0.11 M parameters at C = 64 (Du et al., Sec. 4.3)."""
    m = EMCClick(EMCClickConfig.variant("b0"))
    n = sum(p.numel() for p in m.correction.parameters())
    assert round(n / 1e6, 2) == 0.11, n


def _pair(version, seed=0):
    state = ref.random_state(version, seed)
    cfg = (EMCClickConfig(encoder=dict(TINY_MIT), channels=16, decoder_channels=32)
           if version == "tiny" else EMCClickConfig.variant(version))
    model = EMCClick(cfg)
    model.load_state_dict(map_state_dict(state, model.state_dict()), strict=True)
    return state, model.eval()


def _ritm_points(clicks):
    """(B, N, 3) [y, x, label] rows -> RITM (B, 2n, 3) positive slots then negative."""
    rows = []
    n = max(1, max(max(sum(1 for c in cs if c[2] == 1), sum(1 for c in cs if c[2] == 0))
                   for cs in clicks))
    for cs in clicks:
        pos = [(y, x, i) for i, (y, x, lab) in enumerate(cs) if lab == 1]
        neg = [(y, x, i) for i, (y, x, lab) in enumerate(cs) if lab == 0]
        rows.append(pos + [(-1, -1, -1)] * (n - len(pos)) + neg + [(-1, -1, -1)] * (n - len(neg)))
    return torch.tensor(rows, dtype=torch.float32)


def equivalence_inputs(model, hw, clicks):
    """Seeded inputs of one equivalence check: image (2, 3, H, W), its normalised form, RITM
    points, the first click's positive disk, all disks, and our (B, 3, 3) click rows."""
    torch.manual_seed(1)
    h, w = hw
    image = torch.rand(2, 3, h, w)
    points = _ritm_points(clicks)
    first = points.clone()
    first[first[:, :, 2] > 0] = -1
    ours = torch.tensor([[list(c) for c in cs] + [[-1, -1, -1]] * (3 - len(cs))
                         for cs in clicks], dtype=torch.float32)
    return (image, (image - model.mean) / model.std, points,
            ref.dist_maps(first, h, w)[0][:, :1], ref.dist_maps(points, h, w)[0], ours)


@pytest.mark.parametrize("version,hw,clicks", [
    ("tiny", (64, 96), [[(20.0, 30.0, 1), (50.4, 70.6, 0), (10.0, 90.0, 1)],
                        [(33.0, 47.0, 1), (62.0, 1.0, 0), (0.0, 0.0, 0)]]),
    ("tiny", (96, 64), [[(47.5, 31.5, 1)], [(2.0, 61.0, 1)]]),
    ("b0", (64, 64), [[(20.0, 30.0, 1), (50.0, 10.0, 0)], [(33.0, 47.0, 1)]]),
])
def test_equivalence_with_released_forward(version, hw, clicks):
    state, model = _pair(version)
    k = model.config.channels
    h, w = hw
    image, image_n, points, first_disk, disks, ours_clicks = equivalence_inputs(model, hw, clicks)
    with torch.no_grad():
        lr_ref, feat_ref = ref.base_forward(state, version, image_n, first_disk)
        feats, coarse = model.encode(image, first_disk)
        assert torch.allclose(coarse, lr_ref, atol=1e-4)
        assert torch.allclose(feats, feat_ref, atol=1e-4)
        out_ref = ref.refiner_forward(state, image_n, points, feat_ref, lr_ref, k=k)
        out = model.correct(image, disks, coarse, feats, ours_clicks)
        assert out.shape == (2, 1, h // 4, w // 4)
        assert (out - out_ref).abs().max() < 1e-4
        # the next click starts from the model's own stride-4 output
        out2_ref = ref.refiner_forward(state, image_n, points, feat_ref, out_ref, k=k)
        out2 = model.correct(image, disks, out, feats, ours_clicks)
        assert (out2 - out2_ref).abs().max() < 1e-4


def _save_ritm(path, version_state, version="tiny"):
    torch.save({"config": {"class": "isegm.model.is_refine_segformer_model.SegFormerModel",
                           "params": {"model_version": {"type": "builtin", "value": "b0",
                                                        "specified": True}}},
                "state_dict": version_state}, path)


def test_convert_ritm_pickle_round_trip(tmp_path):
    from iseg_bench.models.checkpoint import load_checkpoint

    state = ref.random_state("b0", seed=3)
    _save_ritm(tmp_path / "segb0.pth", state)
    weights = convert(tmp_path / "segb0.pth", tmp_path / "out")
    assert weights == tmp_path / "out" / "model.safetensors"
    model, arch = load_checkpoint(weights)
    assert arch["variant"] == "emc-click" and arch["meta"]["source"] == "segb0.pth"
    assert arch["meta"]["eval_preset"]["short_side"] == 384
    assert arch["meta"]["eval_preset"]["short_side_davis"] == 576
    direct, _ = load_released(tmp_path / "segb0.pth")
    img = torch.rand(1, 3, 64, 64)
    disk = torch.zeros(1, 1, 64, 64)
    with torch.no_grad():
        a = model.encode(img, disk)[1]
        b = direct.encode(img, disk)[1]
    assert torch.equal(a, b)
    q = "base.encoder.stages.1.blocks.0.attention."
    kv = state["feature_extractor.backbone.block2.0.attn.kv.weight"]
    assert torch.equal(model.state_dict()[q + "k_proj.weight"], kv[:64])
    assert torch.equal(model.state_dict()[q + "v_proj.weight"], kv[64:])


def test_plain_state_dict_b3_is_recognised(tmp_path):
    torch.save(_json_state("b3"), tmp_path / "segb3.pth")
    model, info = load_released(tmp_path / "segb3.pth")
    assert info["variant"] == "emc-click-b3" and model.config.decoder_channels == 512
    assert model.config.channels == 96
    (tmp_path / "segb3.pth").rename(tmp_path / "segb0.pth")
    with pytest.raises(AdapterError, match="segb0.pth is the authors' name for emc-click,"):
        load_released(tmp_path / "segb0.pth")


def test_wrong_files_fail_with_key_lists(tmp_path):
    state = _json_state("b0")
    del state["refiner.refine_pred.bias"]
    state["refiner.extra.weight"] = torch.zeros(2)
    state["refiner.all_fusion.conv1x1.weight"] = torch.zeros(3, 3, 1, 1)
    torch.save(state, tmp_path / "bad.pth")
    with pytest.raises(AdapterError) as err:
        load_released(tmp_path / "bad.pth")
    msg = str(err.value)
    assert "correction.refine_pred.bias" in msg and "refiner.extra.weight" in msg
    assert "refiner.all_fusion.conv1x1.weight: (3, 3, 1, 1)" in msg

    alias = _json_state("b0")
    alias["refiner.corr_conv_neg.norm1.bias"] = torch.ones(64)
    torch.save(alias, tmp_path / "alias.pth")
    with pytest.raises(AdapterError, match="corr_conv_neg.norm1.bias differs"):
        load_released(tmp_path / "alias.pth")

    hr = {"feature_extractor.conv1.weight": torch.zeros(64, 3, 3, 3)}
    torch.save({"config": {"class": "isegm.model.is_refine_model.HRNetRefineModel"},
                "state_dict": hr}, tmp_path / "hr18.pth")
    with pytest.raises(AdapterError, match="HRNet"):
        load_released(tmp_path / "hr18.pth")


class _Evil:
    def __reduce__(self):
        return (print, ("pwned",))


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_unsafe_pickles_are_refused(tmp_path, capsys):
    path = tmp_path / "evil.pth"
    with open(path, "wb") as f:
        pickle.dump({"state_dict": {"x": _Evil()}}, f)
    with pytest.raises(AdapterError, match="safely"):
        load_released(path)
    assert "pwned" not in capsys.readouterr().out
    torch.save({"a": 1}, tmp_path / "nostate.pth")
    with pytest.raises(AdapterError, match="no state dict"):
        load_released(tmp_path / "nostate.pth")
    with pytest.raises(AdapterError, match="does not exist"):
        load_released(tmp_path / "missing.pth")


def test_adapter_takes_the_authors_file_and_the_converted_one(tmp_path):
    from iseg_bench.adapters.torch_models import EMCClickAdapter
    from iseg_bench.types import Click

    _save_ritm(tmp_path / "segb0.pth", ref.random_state("b0", seed=5))
    image = (torch.rand(40, 56, 3) * 255).to(torch.uint8).numpy()
    probs = []
    for ckpt in (tmp_path / "segb0.pth", convert(tmp_path / "segb0.pth", tmp_path / "conv")):
        ad = EMCClickAdapter(checkpoint=str(ckpt), device="cpu", short_side=None)
        assert ad.describe()["preset"]["short_side_davis"] == 576
        ad.set_image(image)
        probs.append(ad.predict([Click(20, 28, True)], torch.zeros(40, 56).numpy()))
    assert probs[0].shape == (40, 56) and (probs[0] == probs[1]).all()

"""EMC-Click HRNet variants (hr18s, hr18, hr32) against the authors' release: strict loading
of state dicts with the released names and shapes (tests/models/data/emc_click_hr*_keys.json,
from hrnet_released_reference.layout), equivalence with a transcription of the released
forward pass, variant detection, the adapters."""

from __future__ import annotations

import json
from pathlib import Path

import emc_released_reference as emc_ref  # noqa: E402
import hrnet_released_reference as ref  # noqa: E402
import pytest
import torch
import transformers  # noqa: F401  (the models extra is required: a broken install fails)
from test_models_emc_released import equivalence_inputs  # noqa: E402

from iseg_bench.errors import AdapterError  # noqa: E402
from iseg_bench.models.emc_click import EMCClick, EMCClickConfig  # noqa: E402
from iseg_bench.models.released import infer_config, load_released, map_state_dict  # noqa: E402
from iseg_bench.models.zoo import TINY_HRNET, build_model  # noqa: E402

DATA = Path(__file__).parent / "data"
VARIANTS = ["hr18s", "hr18", "hr32"]


def _json_state(variant):
    keys = json.loads((DATA / f"emc_click_{variant}_keys.json").read_text())["keys"]
    return {k: (torch.tensor(3) if not s else torch.zeros(s)) for k, s in keys.items()}


@pytest.mark.parametrize("variant", VARIANTS)
def test_checked_in_key_lists_are_the_reference_layout(variant):
    keys = json.loads((DATA / f"emc_click_{variant}_keys.json").read_text())["keys"]
    assert {k: tuple(v) for k, v in keys.items()} == ref.layout(variant)


@pytest.mark.parametrize("variant,width,ocr,small,c", [
    ("hr18s", 18, 48, True, 64), ("hr18", 18, 64, False, 96), ("hr32", 32, 128, False, 96)])
def test_released_key_lists_load_strictly(variant, width, ocr, small, c):
    state = _json_state(variant)
    cfg = infer_config(state)  # from the tensors alone
    assert cfg.hrnet == dict(width=width, ocr_width=ocr, small=small) and cfg.channels == c
    model = EMCClick(cfg)
    result = model.load_state_dict(map_state_dict(state, model.state_dict()), strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    # the released parameters are ours plus the two aliases of the shared phi_s block
    # (depthwise 3x3 + BN + depthwise 3x3 + 1x1 + BN at C: 2 * (25 C + C^2))
    n = sum(p.numel() for p in model.parameters())
    buffers = ("running_mean", "running_var", "num_batches_tracked")
    released = sum(v.numel() for k, v in state.items() if not k.endswith(buffers))
    assert released == n + 2 * (25 * c + c * c)
    # F_t of the HRNet variants is the OCR output: 2 * ocr_width channels (feature_dims)
    assert state["refiner.refine_fusion.conv.weight"].shape[1] == 2 * ocr


def test_stage_depths_follow_small():
    """HRNet-18s: 2 blocks per branch and 1/3/2 modules; HRNet-18: 4 blocks, 1/4/3."""
    for variant, blocks, modules in (("hr18s", 2, (1, 3, 2)), ("hr18", 4, (1, 4, 3))):
        keys = ref.layout(variant)
        fx = "feature_extractor."
        assert sum(k.endswith("bn3.weight") and "layer1." in k for k in keys) == blocks
        for s, n in zip((2, 3, 4), modules):
            assert {k.split(".")[2] for k in keys if k.startswith(f"{fx}stage{s}.")} == {
                str(i) for i in range(n)}
        assert sum(k.startswith(f"{fx}stage4.0.branches.3.") and k.endswith("conv1.weight")
                   for k in keys) == blocks


def _pair(seed=0):
    state = ref.random_state("tiny", seed)
    model = EMCClick(EMCClickConfig(channels=16, hrnet=dict(TINY_HRNET)))
    model.load_state_dict(map_state_dict(state, model.state_dict()), strict=True)
    return state, model.eval()


@pytest.mark.parametrize("hw,clicks", [
    ((64, 96), [[(20.0, 30.0, 1), (50.4, 70.6, 0), (10.0, 90.0, 1)],
                [(33.0, 47.0, 1), (62.0, 1.0, 0), (0.0, 0.0, 0)]]),
    ((100, 68), [[(47.5, 31.5, 1)], [(2.0, 61.0, 1)]]),
])
def test_equivalence_with_released_forward(hw, clicks):
    state, model = _pair()
    h, w = hw
    image, image_n, points, first_disk, disks, ours_clicks = equivalence_inputs(model, hw, clicks)
    with torch.no_grad():
        lr_ref, feat_ref = ref.base_forward(state, "tiny", image_n, first_disk)
        feats, coarse = model.encode(image, first_disk)
        assert feats.shape == (2, 16, h // 4, w // 4)
        assert (coarse - lr_ref).abs().max() < 1e-4
        assert (feats - feat_ref).abs().max() < 1e-4
        out_ref = emc_ref.refiner_forward(state, image_n, points, feat_ref, lr_ref, k=16)
        out = model.correct(image, disks, coarse, feats, ours_clicks)
        assert (out - out_ref).abs().max() < 1e-4
    # the click path matters: another first click changes the coarse mask
    other = torch.roll(first_disk, shifts=h // 2, dims=2)
    with torch.no_grad():
        assert (model.encode(image, other)[1] - coarse).abs().max() > 1e-6


def test_files_are_recognised_and_names_checked(tmp_path):
    torch.save(_json_state("hr18s"), tmp_path / "hr18s.pth")
    model, info = load_released(tmp_path / "hr18s.pth")
    assert info["variant"] == "emc-click-hr18s" and model.config.channels == 64
    (tmp_path / "hr18s.pth").rename(tmp_path / "hr32.pth")
    with pytest.raises(AdapterError, match="hr32.pth is the authors' name for emc-click-hr32,"):
        load_released(tmp_path / "hr32.pth")
    # a RITM pickle: the variant comes from its config
    params = {"width": {"type": "builtin", "value": 18, "specified": True},
              "ocr_width": {"type": "builtin", "value": 64, "specified": True},
              "small": {"type": "builtin", "value": False, "specified": True}}
    torch.save({"config": {"class": "isegm.model.is_refine_model.HRNetRefineModel",
                           "params": params}, "state_dict": _json_state("hr18")},
               tmp_path / "hr18.pth")
    assert load_released(tmp_path / "hr18.pth")[1]["variant"] == "emc-click-hr18"


def test_convert_round_trip(tmp_path):
    from iseg_bench.models.checkpoint import load_checkpoint
    from iseg_bench.models.released import convert

    state = ref.random_state("hr18s", seed=3)
    torch.save(state, tmp_path / "hr18s.pth")
    model, arch = load_checkpoint(convert(tmp_path / "hr18s.pth", tmp_path / "out"))
    assert arch["variant"] == "emc-click-hr18s" and arch["meta"]["source"] == "hr18s.pth"
    assert model.config.hrnet == dict(width=18, ocr_width=48, small=True)
    key = "feature_extractor.stage4.1.fuse_layers.3.0.2.0.weight"
    assert torch.equal(model.state_dict()["base." + key], state[key])
    direct, _ = load_released(tmp_path / "hr18s.pth")
    img, disk = torch.rand(1, 3, 64, 64), torch.zeros(1, 1, 64, 64)
    with torch.no_grad():
        assert torch.equal(model.encode(img, disk)[1], direct.encode(img, disk)[1])


def test_unknown_or_incomplete_hrnet_files_fail(tmp_path):
    torch.save(ref.random_state("tiny"), tmp_path / "tiny.pth")
    with pytest.raises(AdapterError, match="unknown EMC-Click HRNet layout width=4"):
        load_released(tmp_path / "tiny.pth")
    state = _json_state("hr18s")
    del state["maps_transform.3.scale"]
    torch.save(state, tmp_path / "cut.pth")
    with pytest.raises(AdapterError, match=r"base\.maps_transform\.3\.scale"):
        load_released(tmp_path / "cut.pth")


def test_adapter_takes_the_authors_hr18s_file(tmp_path):
    from iseg_bench.adapters.registry import build_adapter
    from iseg_bench.types import Click

    torch.save(ref.random_state("hr18s", seed=2), tmp_path / "hr18s.pth")
    image = (torch.rand(40, 56, 3) * 255).to(torch.uint8).numpy()
    ad = build_adapter("emc-click-hr18s", checkpoint=str(tmp_path / "hr18s.pth"), device="cpu",
                       short_side=None)
    assert ad.variant == "emc-click-hr18s" and ad.model.config.hrnet["small"]
    ad.set_image(image)
    prob = ad.predict([Click(20, 28, True)], torch.zeros(40, 56).numpy())
    assert prob.shape == (40, 56) and 0 <= prob.min() and prob.max() <= 1


def test_zoo_variants_are_the_released_specs():
    m = build_model("emc-click-hr-tiny")
    assert m.config.hrnet == TINY_HRNET and m.base.out_channels == 2 * TINY_HRNET["ocr_width"]

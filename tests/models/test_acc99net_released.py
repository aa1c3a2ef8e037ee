"""The 99% network against the authors' release (issue 11): strict loading of a state dict with
the released key names and shapes, and equivalence with a test-only transcription of the
released forward pass; the guided filter's float32 accuracy.

``released_forward`` below is our transcription, written for these tests from reading
MarcoForte/DeepInteractiveSegmentation (commit ddd7426): ``networks/models.py``
(``ResnetDilated.forward``, ``usr_encoder2``, ``InteractiveSegNet.forward``),
``networks/layers_WS.py`` and ``networks/resnet_GN_WS.py``, and guided_filter_pytorch's
``GuidedFilter`` (running sums along each axis). It works on a plain state dict with the
released key names, so it also checks that every name means what the release means by it.
``acc99net_released_state_dict.json`` holds the names and shapes of the released model's
``state_dict()`` (the authors' ``build_model`` with use_mask_input and use_usr_encoder on).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

F = torch.nn.functional

from iseg_bench.models.acc99net import IMAGENET_MEAN, IMAGENET_STD, Acc99Net, Acc99NetConfig  # noqa: E402
from iseg_bench.models.click_encodings import click_pixel_maps, gaussian_maps  # noqa: E402
from iseg_bench.models.guided_filter import guided_filter  # noqa: E402

RELEASED = Path(__file__).with_name("acc99net_released_state_dict.json")

# A small configuration that still has two blocks in layer3 and layer4 (both dilation rules).
TINY = Acc99NetConfig(stem_channels=8, planes=(4, 8, 8, 16), depths=(1, 1, 2, 2), gn_groups=4,
                      interaction_channels=(8, 8, 8, 16, 16, 16), ppm_channels=8,
                      decoder_channels=(16, 16, 8, 8, 8), guide_channels=8)


# --- transcription of the released forward pass (test only) ------------------------------

def _standardise(w):
    """layers_WS.Conv2d: centre each filter, divide by sqrt(unbiased var + 1e-12) + 1e-5."""
    c = w - w.mean(dim=(1, 2, 3), keepdim=True)
    s = torch.sqrt(c.reshape(c.shape[0], -1).var(dim=1) + 1e-12) + 1e-5
    return c / s.reshape(-1, 1, 1, 1)


def _conv(sd, key, x, ws, stride=1, padding=0, dilation=1):
    w = sd[key + ".weight"]
    return F.conv2d(x, _standardise(w) if ws else w, sd.get(key + ".bias"), stride, padding,
                    dilation)


def _gn(sd, key, x, groups):
    return F.group_norm(x, groups, sd[key + ".weight"], sd[key + ".bias"], 1e-5)


def _released_encoder(sd, x, groups):
    """ResnetDilated(l_resnet50, dilate_scale=8): returns [input, stem, layer1..layer4]."""
    feats = [x]
    x = F.relu(_gn(sd, "encoder.bn1", _conv(sd, "encoder.conv1", x, True, 2, 3), groups))
    feats.append(x)
    x = F.max_pool2d(x, 3, 2, 1)
    for layer in (1, 2, 3, 4):
        n_blocks = len({k.split(".")[2] for k in sd if k.startswith(f"encoder.layer{layer}.")})
        for b in range(n_blocks):
            p = f"encoder.layer{layer}.{b}"
            # _nostride_dilate(dilate) on layer3 (2) and layer4 (4): the stride-2 3x3 conv of
            # block 0 gets stride 1 and dilation dilate // 2, every other 3x3 conv dilation
            # dilate; the 1x1 shortcut's stride becomes 1. layer2 keeps its stride 2.
            stride = 2 if (layer == 2 and b == 0) else 1
            dil = {1: 1, 2: 1, 3: 2, 4: 4}[layer]
            if layer in (3, 4) and b == 0:
                dil //= 2
            y = F.relu(_gn(sd, p + ".bn1", _conv(sd, p + ".conv1", x, True), groups))
            y = F.relu(_gn(sd, p + ".bn2", _conv(sd, p + ".conv2", y, True, stride, dil, dil),
                           groups))
            y = _gn(sd, p + ".bn3", _conv(sd, p + ".conv3", y, True), groups)
            if p + ".downsample.0.weight" in sd:
                x = _gn(sd, p + ".downsample.1", _conv(sd, p + ".downsample.0", x, True, stride),
                        groups)
            x = F.relu(y + x)
        feats.append(x)
    return feats


def _box_sum(x, r):
    """Window sums clipped at the border, by running sums along rows then columns."""
    for dim in (2, 3):
        n = x.shape[dim]
        c = torch.cat([torch.zeros_like(x.narrow(dim, 0, 1)), x.cumsum(dim)], dim)
        i = torch.arange(n)
        hi, lo = (i + r + 1).clamp(max=n), (i - r).clamp(min=0)
        x = c.index_select(dim, hi) - c.index_select(dim, lo)
    return x


def _released_guided_filter(g, p, r=2, eps=1e-8):
    n = _box_sum(torch.ones_like(g[:1, :1]), r)
    mg, mp = _box_sum(g, r) / n, _box_sum(p, r) / n
    a = (_box_sum(g * p, r) / n - mg * mp) / (_box_sum(g * g, r) / n - mg * mg + eps)
    b = mp - a * mg
    return _box_sum(a, r) / n * g + _box_sum(b, r) / n


def released_forward(sd, image_n, gauss, prev, trimap, groups, bins=(1, 2, 3, 6)):
    """MattingModuleSingleGpu.forward(image_n, trimap_transformed, prev_alpha, trimap)."""
    feats = _released_encoder(sd, torch.cat([image_n, gauss], 1), groups)
    img = feats[0][:, :3]
    g = _conv(sd, "decoder.guided_map_conv2",
              F.relu(_conv(sd, "decoder.guided_map_conv1", torch.cat([img, gauss[:, ::3]], 1),
                           False)), False)
    u = torch.cat([gauss, prev], 1)
    outs = []
    for i, s in enumerate((1, 2, 1, 2, 2, 1)):
        u = F.leaky_relu(_conv(sd, f"decoder.usr_encoder.conv{i + 1}", u, False, s, 1))
        outs.append(u)
    conv5 = torch.cat([feats[-1], outs[5]], 1)
    pyramid = [conv5]
    for i, s in enumerate(bins):
        y = _conv(sd, f"decoder.ppm.{i}.1", F.adaptive_avg_pool2d(conv5, s), True)
        y = F.leaky_relu(_gn(sd, f"decoder.ppm.{i}.2", y, groups))
        pyramid.append(F.interpolate(y, conv5.shape[2:], mode="bilinear", align_corners=False))
    x = torch.cat(pyramid, 1)
    x = F.leaky_relu(_gn(sd, "decoder.conv_up1.1", _conv(sd, "decoder.conv_up1.0", x, True, 1, 1),
                         groups))
    x = F.leaky_relu(_gn(sd, "decoder.conv_up1.4", _conv(sd, "decoder.conv_up1.3", x, True, 1, 1),
                         groups))
    for stage, skip, usr in (("conv_up2", feats[2], outs[3]), ("conv_up3", feats[1], outs[1])):
        x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
        x = torch.cat([x, skip, usr], 1)
        x = F.leaky_relu(_gn(sd, f"decoder.{stage}.1",
                             _conv(sd, f"decoder.{stage}.0", x, True, 1, 1), groups))
    x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
    x = torch.cat([x, img, gauss], 1)
    x = F.leaky_relu(_conv(sd, "decoder.conv_up4.0", x, False, 1, 1))
    x = F.leaky_relu(_conv(sd, "decoder.conv_up4.2", x, False, 1, 1))
    pred = _conv(sd, "decoder.conv_up4.4", x, False).clamp(0, 1).clone()
    pred[trimap[:, 0:1] == 1] = 0
    pred[trimap[:, 1:2] == 1] = 1
    return _released_guided_filter(g, pred).clamp(0, 1)


# --- tests -------------------------------------------------------------------------------

def test_released_state_dict_loads_strictly():
    """Exactly the released names and shapes: same key set, same shapes, strict load."""
    spec = json.loads(RELEASED.read_text())["tensors"]
    model = Acc99Net()
    ours = {k: list(v.shape) for k, v in model.state_dict().items()}
    assert sorted(set(ours) ^ set(spec)) == []
    assert {k: v for k, v in ours.items() if spec[k] != v} == {}
    state = {k: torch.full(shape, 0.25) for k, shape in spec.items()}
    result = model.load_state_dict(state, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    assert torch.equal(model.decoder.conv_up3[0].weight, torch.full((64, 384, 3, 3), 0.25))
    # Tab. 5: 2048 + 4 x 256 + 256 = 3328 channels into conv_up1; 256 + 64 + 64 = 384 at
    # stride 2; the released parameter count
    assert spec["decoder.conv_up1.0.weight"] == [256, 3328, 3, 3]
    assert sum(int(np.prod(s)) for s in spec.values()) == 37_735_778


def _random_state(model, seed):
    gen = torch.Generator().manual_seed(seed)
    state = {}
    for k, v in model.state_dict().items():
        noise = torch.randn(v.shape, generator=gen)
        # GroupNorm affine parameters and biases away from (1, 0); convolution weights as
        # initialised
        state[k] = v + 0.3 * noise if v.ndim == 1 else v
    # the last convolution's bias at 0.5, so that the clamped prediction is mostly inside (0, 1)
    state["decoder.conv_up4.4.bias"] = torch.tensor([0.5])
    return state


def _inputs(hw, clicks, seed):
    gen = torch.Generator().manual_seed(seed)
    image = torch.rand(1, 3, *hw, generator=gen)
    gauss = torch.from_numpy(gaussian_maps(clicks, hw))[None]
    trimap = torch.from_numpy(click_pixel_maps(clicks, hw))[None]
    prev = torch.rand(1, 1, *hw, generator=gen)
    return image, gauss, prev, trimap


@pytest.mark.parametrize("hw", [(64, 96), (96, 64)])
def test_forward_matches_the_released_transcription(hw):
    torch.manual_seed(1)
    model = Acc99Net(TINY).eval()
    state = _random_state(model, 2)
    model.load_state_dict(state, strict=True)
    clicks = [(10, 20, True), (hw[0] - 5, hw[1] - 9, False), (30, 30, True)]
    image, gauss, prev, trimap = _inputs(hw, clicks, 3)
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    with torch.no_grad():
        ours = model(image, gauss, prev, trimap)
        theirs = released_forward(state, (image - mean) / std, gauss, prev, trimap, TINY.gn_groups)
    assert ours.shape == theirs.shape == (1, 1, *hw)
    # the outputs are not trivial (neither saturated nor constant) ...
    soft = ((theirs > 0.01) & (theirs < 0.99)).float().mean()
    assert soft > 0.5 and float(theirs.std()) > 0.01
    # ... and agree
    assert float((ours - theirs).abs().max()) <= 1e-4


def test_click_pixels_are_forced_before_the_guided_filter():
    """The guided filter sees 0 / 1 at the click pixels. With a constant guide (a = 0) the
    filter returns the 5 x 5 mean of the 5 x 5 window means of its input; every window around
    a click pixel holds the forced value and 24 unclicked pixels (0.5 each here)."""
    torch.manual_seed(0)
    model = Acc99Net(TINY).eval()
    with torch.no_grad():
        model.decoder.guided_map_conv2.weight.zero_()
        model.decoder.guided_map_conv2.bias.fill_(0.7)
        model.decoder.conv_up4[4].weight.zero_()
        model.decoder.conv_up4[4].bias.fill_(0.5)  # every unclicked pixel predicts 0.5
    hw = (32, 32)
    clicks = [(10, 10, True), (20, 20, False)]
    image, gauss, prev, trimap = _inputs(hw, clicks, 0)
    with torch.no_grad():
        out = model(image, gauss, prev, trimap)[0, 0]
    # (24 * 0.5 + 1) / 25 = 0.52 in every window around (10, 10); 0.48 around (20, 20)
    assert float(out[10, 10]) == pytest.approx(0.52, abs=1e-5)
    assert float(out[20, 20]) == pytest.approx(0.48, abs=1e-5)
    assert float(out[0, 31]) == pytest.approx(0.5, abs=1e-5)


def test_guided_filter_float32_matches_float64():
    """Our float32 guided filter against the running-sum form in float64 (independent code),
    eps = 1e-8 as released: a noisy guide and a smooth guide (small window variances)."""
    gen = torch.Generator().manual_seed(0)
    h, w = 240, 320
    noisy = torch.rand(1, 1, h, w, generator=gen, dtype=torch.float64) * 4 - 2
    smooth = F.interpolate(torch.randn(1, 1, h // 40, w // 40, generator=gen, dtype=torch.float64),
                           size=(h, w), mode="bilinear", align_corners=False) + 1.5
    src = torch.rand(1, 1, h, w, generator=gen, dtype=torch.float64)
    for guide, tol in ((noisy, 1e-6), (smooth, 1e-4)):
        ref = _released_guided_filter(guide, src)
        got = guided_filter(guide.float(), src.float(), 2, 1e-8)
        assert got.dtype == torch.float32
        assert float((got.double() - ref).abs().max()) <= tol
    # the running-sum form itself is far off in float32 on the smooth guide: the test of our
    # form is a real one
    bad = _released_guided_filter(smooth.float(), src.float())
    assert float((bad.double() - _released_guided_filter(smooth, src)).abs().max()) > 1e-3


def test_imagenet_encoder_weights_from_a_safetensors_file(tmp_path):
    """A 3-channel ResNet state dict (with a classifier) into the 9-channel image stream: RGB
    filters copied, click channels zero, fc ignored; a wrong shape is an error."""
    from safetensors.torch import save_file

    from iseg_bench.errors import AdapterError
    from iseg_bench.models.acc99net import load_imagenet_encoder

    model = Acc99Net(TINY)
    state = {k: torch.randn(v.shape) for k, v in model.encoder.state_dict().items()}
    state["conv1.weight"] = torch.randn(8, 3, 7, 7)
    state["fc.weight"] = torch.randn(10, 64)
    save_file(state, str(tmp_path / "r50.safetensors"))
    names = load_imagenet_encoder(model.encoder, str(tmp_path / "r50.safetensors"))
    assert "fc.weight" not in names and "layer4.1.conv2.weight" in names
    enc = model.encoder.state_dict()
    assert torch.equal(enc["conv1.weight"][:, :3], state["conv1.weight"])
    assert not enc["conv1.weight"][:, 3:].any()
    assert torch.equal(enc["layer2.0.downsample.1.bias"], state["layer2.0.downsample.1.bias"])
    state["bn1.weight"] = torch.randn(5)
    save_file(state, str(tmp_path / "bad.safetensors"))
    with pytest.raises(AdapterError, match="bn1.weight"):
        load_imagenet_encoder(model.encoder, str(tmp_path / "bad.safetensors"))


def test_config_round_trip_and_old_checkpoints_rejected():
    from iseg_bench.errors import AdapterError

    assert Acc99NetConfig.from_dict(TINY.to_dict()) == TINY
    with pytest.raises(AdapterError, match="backbone"):
        Acc99NetConfig.from_dict({**TINY.to_dict(), "backbone": {"depths": [3, 4, 6, 3]}})


def test_guided_filter_stays_float32_under_bf16_autocast():
    torch.manual_seed(0)
    model = Acc99Net(TINY).eval()
    image, gauss, prev, trimap = _inputs((32, 48), [(10, 10, True)], 0)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        assert model.decoder.conv_up4(torch.zeros(1, 8 + 9, 4, 4)).dtype == torch.bfloat16
        out = model(image, gauss, prev, trimap)
    assert out.dtype == torch.float32 and out.shape == (1, 1, 32, 48)


def test_the_authors_file_loads_converts_and_reaches_the_adapter(tmp_path):
    """The release's file is a plain state dict under our names (networks/models.py loads it
    with strict=True): a file written so loads, converts, and is taken by --checkpoint."""
    from iseg_bench.adapters.torch_models import Acc99NetAdapter, EMCClickAdapter
    from iseg_bench.errors import AdapterError
    from iseg_bench.models.checkpoint import load_checkpoint
    from iseg_bench.models.released import convert, load_released

    torch.manual_seed(0)
    state = Acc99Net().state_dict()
    path = tmp_path / "InterSegSynthFT.pth"
    torch.save(state, path)
    model, info = load_released(path)
    assert info["variant"] == "acc99net" and info["eval_preset"] == {"preset": "released"}
    name = next(k for k in state if k.startswith("decoder."))
    assert torch.equal(model.state_dict()[name], state[name])
    converted, arch = load_checkpoint(convert(path, tmp_path / "conv"), "cpu")
    assert arch["model_type"] == "acc99net"
    assert torch.equal(converted.state_dict()[name], state[name])
    assert Acc99NetAdapter(device="cpu", checkpoint=str(path)).weights == str(path)
    with pytest.raises(AdapterError, match="holds the authors' acc99net"):
        EMCClickAdapter(device="cpu", checkpoint=str(path))
    partial = tmp_path / "partial.pth"
    torch.save({k: state[k] for k in list(state)[:3]}, partial)
    with pytest.raises(AdapterError, match=r"not the released 99% network.*missing \[") as err:
        load_released(partial)
    assert name in str(err.value)

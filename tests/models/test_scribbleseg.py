"""ScribbleSeg (iseg_bench.models.scribbleseg, adapters.scribbleseg): PAM and CRM shapes and
definitions (Sec. 3.2), Eq. 1, an overfit check, the adapter (scribbles only, zoom-in,
weights)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import transformers  # noqa: F401  (the models extra is required: a broken install fails)

pytestmark = pytest.mark.filterwarnings("ignore:.*random weights.*:UserWarning")

import torch.nn.functional as F  # noqa: E402

from iseg_bench.errors import AdapterError  # noqa: E402
from iseg_bench.models.checkpoint import save_checkpoint  # noqa: E402
from iseg_bench.models.losses import normalized_focal_loss  # noqa: E402
from iseg_bench.models.scribbleseg import (  # noqa: E402
    CorrectiveRefine,
    PrototypeAdaption,
    ScribbleSegConfig,
    masked_average,
    scribbleseg_loss,
)
from iseg_bench.models.zoo import TINY_MIT, build_model  # noqa: E402
from iseg_bench.types import Click, Scribble  # noqa: E402

# --- PAM -----------------------------------------------------------------------------------


def test_masked_average_by_hand():
    feats = torch.arange(2 * 3 * 2 * 2, dtype=torch.float32).view(2, 3, 2, 2)
    w = torch.zeros(2, 1, 2, 2)
    w[0, 0, 1, 0] = 1.0                         # one pixel: its feature
    w[1, 0, 0, :] = 0.5                         # two pixels, equal weights: their mean
    out = masked_average(feats, w)
    assert torch.equal(out[0], feats[0, :, 1, 0])
    assert torch.allclose(out[1], feats[1, :, 0, :].mean(1))
    assert torch.equal(masked_average(feats, torch.zeros(2, 1, 2, 2)), torch.zeros(2, 3))


def test_pam_shapes_and_starting_point():
    pam = PrototypeAdaption(16, hidden=8)
    feats = torch.randn(2, 16, 6, 7)
    scr = torch.zeros(2, 2, 6, 7)
    scr[:, 0, 2, 3] = 1.0
    prim, ada = pam(feats, scr)
    assert prim.shape == ada.shape == (2, 1, 6, 7)
    # M_prim is the 1 x 1 convolution with the prototype
    ref = F.conv2d(feats, pam.prototype.view(1, 16, 1, 1), pam.bias)
    assert torch.allclose(prim, ref, atol=1e-5)
    # the MLPs' last layers start at zero: the adapted prototype is the prototype
    assert torch.allclose(ada, prim, atol=1e-6)


def test_pam_adds_the_three_pooled_offsets():
    d = 4
    pam = PrototypeAdaption(d, hidden=d)
    with torch.no_grad():
        for mlp in pam.mlps:                     # each MLP: relu(x) (identity layers)
            mlp[0].weight.copy_(torch.eye(d))
            mlp[0].bias.zero_()
            mlp[2].weight.copy_(torch.eye(d))
            mlp[2].bias.zero_()
    feats = torch.rand(1, d, 3, 3) + 0.1         # positive: relu is the identity
    scr = torch.zeros(1, 2, 3, 3)
    scr[0, 0, 0, 0] = 1.0                        # positive scribble on pixel (0, 0)
    scr[0, 1, 2, 1:3] = 1.0                      # negative scribble on (2, 1) and (2, 2)
    prim, ada = pam(feats, scr)
    soft = torch.sigmoid(prim)[0, 0]
    e_pos = feats[0, :, 0, 0]
    e_neg = feats[0, :, 2, 1:3].mean(1)
    e_mask = (feats[0] * soft).sum((1, 2)) / soft.sum()
    proto = pam.prototype + e_pos + e_neg + e_mask
    expected = torch.einsum("dhw,d->hw", feats[0], proto) + pam.bias
    assert torch.allclose(ada[0, 0], expected, atol=1e-5)


# --- CRM -----------------------------------------------------------------------------------

@pytest.mark.parametrize("hw", [(32, 32), (33, 47)])
def test_crm_shapes_at_stride_two(hw):
    crm = CorrectiveRefine(16, channels=8)
    h, w = hw
    error, corr = crm(torch.rand(2, 3, h, w), torch.zeros(2, 2, h, w), torch.randn(2, 1, h, w),
                      torch.randn(2, 16, h // 4, w // 4))
    expected = (2, 1, (h + 1) // 2, (w + 1) // 2)
    assert error.shape == expected and corr.shape == expected


def test_crm_detaches_segmentation_features_and_mask():
    crm = CorrectiveRefine(16, channels=8)
    feats = torch.randn(1, 16, 8, 8, requires_grad=True)
    ada = torch.randn(1, 1, 32, 32, requires_grad=True)
    error, corr = crm(torch.rand(1, 3, 32, 32), torch.zeros(1, 2, 32, 32), ada, feats)
    (error.sum() + corr.sum()).backward()
    assert feats.grad is None and ada.grad is None
    assert crm.high[0].weight.grad is not None      # the branch itself still learns


# --- whole model and Eq. 1 ---------------------------------------------------------------------

def _inputs(b=1, size=64):
    g = torch.Generator().manual_seed(0)
    image = torch.rand(b, 3, size, size, generator=g)
    scr = torch.zeros(b, 2, size, size)
    scr[:, 0, 30:33, 20:44] = 1.0
    scr[:, 1, 3:6, 5:60] = 1.0
    return image, scr, torch.zeros(b, 1, size, size)


def test_model_outputs_and_the_error_region_rule():
    m = build_model("scribbleseg-tiny").eval()
    with torch.no_grad():
        out = m(*_inputs(b=2))
    assert set(out) == {"prim", "ada", "error", "corr", "ref"}
    assert all(v.shape == (2, 1, 64, 64) for v in out.values())
    inside = torch.sigmoid(out["error"]) > 0.5
    assert torch.equal(out["ref"][inside], out["corr"][inside])
    assert torch.equal(out["ref"][~inside], out["ada"][~inside])


def test_config_switches_and_fusion():
    with torch.no_grad():
        no_crm = build_model("scribbleseg-tiny", crm=False).eval()(*_inputs())
        no_pam = build_model("scribbleseg-tiny", pam=False).eval()(*_inputs())
    assert "error" not in no_crm and torch.equal(no_crm["ref"], no_crm["ada"])
    assert torch.equal(no_pam["ada"], no_pam["prim"])
    concat = build_model("scribbleseg-tiny")
    add = build_model("scribbleseg-tiny", fusion="add")
    assert concat.encoder.config.num_channels == 6 and add.encoder.config.num_channels == 3
    with torch.no_grad():
        assert add.eval()(*_inputs())["ref"].shape == (1, 1, 64, 64)
    with pytest.raises(ValueError, match="fusion"):
        ScribbleSegConfig(encoder=dict(TINY_MIT), fusion="sum")


def test_loss_is_eq1():
    g = torch.Generator().manual_seed(1)
    out = {k: torch.randn(2, 1, 8, 8, generator=g) for k in ("prim", "ada", "error", "corr",
                                                                "ref")}
    target = (torch.rand(2, 1, 8, 8, generator=g) > 0.5).float()
    wrong = ((out["ada"] > 0).float() != target).float()
    expected = (normalized_focal_loss(out["ref"], target)
                + 0.4 * normalized_focal_loss(out["prim"], target)
                + 0.4 * normalized_focal_loss(out["ada"], target)
                + 0.4 * F.binary_cross_entropy_with_logits(out["error"], wrong))
    assert torch.allclose(scribbleseg_loss(out, target), expected)
    error_term = 0.4 * F.binary_cross_entropy_with_logits(out.pop("error"), wrong)
    assert torch.allclose(scribbleseg_loss(out, target), expected - error_term)


OVERFIT_STEPS = 60


def test_tiny_scribbleseg_overfits_one_image():
    """A tiny ScribbleSeg learns one image (an ellipse on noise, one positive and one
    negative stroke) to IoU >= 0.9 within OVERFIT_STEPS Adam steps on the CPU."""
    torch.manual_seed(0)
    m = build_model("scribbleseg-tiny", seed=0)
    yy, xx = np.mgrid[:64, :64]
    target = (yy - 30) ** 2 / 400 + (xx - 34) ** 2 / 200 < 1
    img = np.random.default_rng(0).random((64, 64, 3)).astype(np.float32) * 0.6
    img[target] += 0.3
    image = torch.from_numpy(img.transpose(2, 0, 1))[None]
    t = torch.from_numpy(target)[None, None].float()
    _, scr, prev = _inputs()

    def iou() -> float:
        m.eval()
        with torch.no_grad():
            pred = m(image, scr, prev)["ref"] > 0
        m.train()
        return float((pred & (t > 0)).sum() / (pred | (t > 0)).sum())

    start = iou()
    assert start < 0.9
    opt = torch.optim.Adam(m.parameters(), lr=2e-3)
    best = start
    for step in range(OVERFIT_STEPS):
        loss = scribbleseg_loss(m(image, scr, prev), t)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 5 == 4:
            best = max(best, iou())
            if best >= 0.9:
                break
    assert best >= 0.9, f"IoU {best:.3f} after {OVERFIT_STEPS} steps (start {start:.3f})"


# --- adapter -------------------------------------------------------------------------------

def _strokes():
    return [Scribble(np.array([[20.0, 10.0], [20.0, 40.0]]), True, 3),
            Scribble(np.array([[45.0, 5.0], [45.0, 60.0]]), False, 3)]


def test_adapter_predicts_scribbles_only(monkeypatch):
    from iseg_bench.adapters.registry import MODELS
    from iseg_bench.adapters.scribbleseg import ScribbleSegAdapter

    monkeypatch.delenv("ISEG_BENCH_WEIGHTS", raising=False)
    ad = MODELS.resolve("scribbleseg")(device="cpu", random_init=True,
                                      variant="scribbleseg-tiny")
    assert isinstance(ad, ScribbleSegAdapter) and ad.accepts == frozenset({"scribble"})
    assert MODELS.resolve("scribbleseg-b3").accepts == frozenset({"scribble"})
    ad.set_image(np.random.default_rng(0).integers(0, 255, (50, 70, 3), dtype=np.uint8))
    prob = ad.predict(_strokes()[:1], np.zeros((50, 70), np.float32))
    assert prob.shape == (50, 70) and prob.dtype == np.float32
    assert 0.0 <= prob.min() and prob.max() <= 1.0
    assert ad.predict(_strokes(), prob).shape == (50, 70)
    with pytest.raises(AdapterError, match="scribbles only"):
        ad.predict([Click(3, 3, True)], prob)
    assert ad.describe()["input_size"] == 64


def test_zoom_in_from_the_second_stroke():
    from iseg_bench.adapters.scribbleseg import ScribbleSegAdapter

    ad = ScribbleSegAdapter(device="cpu", random_init=True, variant="scribbleseg-tiny")
    prev = np.zeros((600, 800), np.float32)
    prev[100:200, 300:400] = 1.0
    one = [Scribble(np.array([[150.0, 310.0], [150.0, 390.0]]), True, 3)]
    assert ad.model_box(one, prev) == (0, 600, 0, 800)     # first stroke: the whole image
    two = one + [Scribble(np.array([[500.0, 700.0]]), False, 3)]
    # mask rows 100..199, cols 300..399: 100 px x 1.4 = 140 < 200 px (RITM minimum size),
    # centred on (149.5, 349.5); the negative stroke does not enlarge the box
    y0, y1, x0, x1 = ad.model_box(two, prev)
    assert (y0, y1, x0, x1) == (49, 250, 249, 450)
    off = ScribbleSegAdapter(device="cpu", random_init=True, variant="scribbleseg-tiny",
                             zoom_in=False)
    assert off.model_box(two, prev) == (0, 600, 0, 800)


def test_thin_strokes_survive_downscaling():
    from iseg_bench.adapters.scribbleseg import resize_maps, scribble_maps

    stroke = Scribble(np.array([[100.0, 0.0], [100.0, 399.0]]), False, 1)
    maps = scribble_maps([stroke], (400, 400))
    assert maps[1].sum() == 400 and maps[0].sum() == 0
    small = resize_maps(maps, (0, 400, 0, 400), 64)
    assert small[1].any(axis=1).sum() >= 1 and small[1].any(axis=0).all()


def test_missing_weights_say_how_to_get_them(monkeypatch, tmp_path):
    from iseg_bench.adapters.scribbleseg import ScribbleSegAdapter, ScribbleSegB3Adapter

    monkeypatch.delenv("ISEG_BENCH_WEIGHTS", raising=False)
    for factory, name in ((ScribbleSegAdapter, "scribbleseg"),
                          (ScribbleSegB3Adapter, "scribbleseg-b3")):
        with pytest.raises(AdapterError) as info:
            factory(device="cpu")
        message = str(info.value)
        assert "\n" not in message and f"iseg-bench train --model {name}" in message
        assert "--random-init" in message and "--checkpoint" in message


def test_checkpoint_round_trip_through_the_adapter(tmp_path):
    from iseg_bench.adapters.scribbleseg import ScribbleSegAdapter

    model = build_model("scribbleseg-tiny", seed=5).eval()
    save_checkpoint(model, tmp_path / "ss", variant="scribbleseg-tiny")
    ad = ScribbleSegAdapter(device="cpu", checkpoint=str(tmp_path / "ss"))
    for (k, a), (_, b) in zip(model.state_dict().items(), ad.model.state_dict().items()):
        assert torch.equal(a, b), k
    emc = build_model("emc-click-tiny")
    save_checkpoint(emc, tmp_path / "emc", variant="emc-click-tiny")
    with pytest.raises(AdapterError, match="not 'scribbleseg'"):
        ScribbleSegAdapter(device="cpu", checkpoint=str(tmp_path / "emc"))

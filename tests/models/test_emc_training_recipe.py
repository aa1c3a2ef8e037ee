"""The EMC-Click training recipe as the authors' code trains it (docs/models/emc-click.md,
"Training recipe"): the round law, the first- and next-click samplers on hand-made masks,
the jitter ranges, the uniform crop, the learning-rate groups, gradient accumulation, the
HRNet initialisation and ImageNet loader, and a tiny run of a few steps."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from iseg_bench.errors import AdapterError  # noqa: E402
from iseg_bench.models.click_simulation import emc_first_click, emc_next_click  # noqa: E402
from iseg_bench.models.zoo import build_model  # noqa: E402
from iseg_bench.training import emc_click as emc  # noqa: E402
from iseg_bench.training.recipe import TrainingError, accumulate_backward  # noqa: E402


def _square(shape, top, left, side):
    m = np.zeros(shape, bool)
    m[top:top + side, left:left + side] = True
    return m


# -- rounds -----------------------------------------------------------------------------------

def test_round_law_is_the_authors_truncated_geometric():
    p = emc.round_probabilities()
    assert p.shape == (24,)
    # P(r) = 0.8^r (1 - 0.8) / (1 - 0.8^24), r = 0..23
    expected = [0.8 ** r * 0.2 / (1 - 0.8 ** 24) for r in range(24)]
    assert np.allclose(p, expected, rtol=1e-12)


def test_emc_step_draws_the_rounds_from_the_law(monkeypatch):
    seen = []
    w = torch.zeros(1, requires_grad=True)

    def fake_loss(model, image, tgt, ign, rounds, device, rng, bf16):
        seen.append(rounds)
        return (w * 0).sum() + 1.0

    class NoOptimizer:
        def zero_grad(self, set_to_none=True):
            pass

        def step(self):
            pass

    monkeypatch.setattr(emc, "emc_loss", fake_loss)
    opt = NoOptimizer()
    batch = (torch.zeros(2, 3, 8, 8), np.zeros((2, 8, 8), bool), np.zeros((2, 8, 8), bool))
    rng = np.random.default_rng(0)
    for _ in range(4000):
        assert emc.emc_step(None, opt, batch, "cpu", rng, False) == (1.0, 1)
    counts = np.bincount(seen, minlength=24)
    assert len(counts) == 24  # never 24 rounds or more
    freq = counts / counts.sum()
    p = emc.round_probabilities()
    assert abs(freq[0] - p[0]) < 0.02 and abs(freq[1] - p[1]) < 0.02
    assert abs(np.mean(seen) - (p * np.arange(24)).sum()) < 0.15


# -- clicks ------------------------------------------------------------------------------------

def test_first_click_lies_in_the_inner_part_of_the_object():
    # 21 x 21 square: exact depth of offset i from its nearest edge is i + 1, max 11;
    # uneroded candidates: depth > 11 / 1.7 -> offsets 6..14 (9 x 9 block); eroded 3 times
    # (15 x 15, max 8): depth > 8 / 1.7 -> offsets 7..13 of the original (7 x 7 block).
    t = _square((40, 40), 5, 8, 21)
    clicks = [emc_first_click(t, np.random.default_rng(s)) for s in range(600)]
    ys = np.array([c[0] for c in clicks]) - 5
    xs = np.array([c[1] for c in clicks]) - 8
    assert all(c[2] for c in clicks)
    assert ys.min() >= 6 and ys.max() <= 14 and xs.min() >= 6 and xs.max() <= 14
    ring = (np.minimum(ys, xs) == 6) | (np.maximum(ys, xs) == 14)
    # the ring is reachable only without erosion (p = 0.1): 0.1 * 32 / 81 of the clicks
    assert 0.01 < ring.mean() < 0.09
    assert emc_first_click(np.zeros((8, 8), bool), np.random.default_rng(0)) is None


def test_first_click_keeps_an_object_that_erosion_would_remove():
    t = _square((12, 12), 3, 3, 5)  # eroded 3 times: empty, so the object is kept
    for s in range(50):
        y, x, _ = emc_first_click(t, np.random.default_rng(s))
        assert 4 <= y <= 6 and 4 <= x <= 6  # depth > 3 / 1.7: the inner 3 x 3


def test_next_click_sign_rule_on_hand_made_masks():
    shape = (40, 60)
    fn_area = _square(shape, 2, 2, 21)  # target missed entirely: depth 11
    fp_area = _square(shape, 30, 50, 5)  # predicted outside the target: depth 3
    target = fn_area.copy()
    prob = np.where(fp_area, 0.9, 0.0).astype(np.float32)
    none = np.zeros(shape, bool)
    out = [emc_next_click(prob, target, none, np.random.default_rng(s)) for s in range(1500)]
    # positive with probability 11 / 14 at depth > max(11, 3) / 2 (offsets 5..15);
    # negative (3 / 14) finds no FP pixel deeper than 5.5: no click at all
    clicks = [c for c in out if c is not None]
    assert all(c[2] for c in clicks)
    assert all(7 <= y <= 17 and 7 <= x <= 17 for y, x, _ in clicks)
    assert abs(len(clicks) / len(out) - 11 / 14) < 0.04
    # FP only: always negative, inside the FP square's centre (depth > 1.5: 3 x 3 block)
    prob_fp = np.where(fp_area, 0.9, 0.0).astype(np.float32)
    for s in range(20):
        y, x, pos = emc_next_click(prob_fp, none, none, np.random.default_rng(s))
        assert not pos and 31 <= y <= 33 and 51 <= x <= 53


def test_next_click_threshold_and_ignore():
    t = _square((20, 20), 5, 5, 8)
    rng = np.random.default_rng(0)
    at_threshold = np.where(t, 0.49, 0.0).astype(np.float32)  # neither < 0.49 nor > 0.49
    assert emc_next_click(at_threshold, t, np.zeros_like(t), rng) is None
    assert emc_next_click(np.zeros((20, 20), np.float32), t, t, rng) is None  # all ignored
    y, x, pos = emc_next_click(np.zeros((20, 20), np.float32), t, np.zeros_like(t), rng)
    assert pos and t[y, x]


# -- augmentation ------------------------------------------------------------------------------

def test_jitter_ranges_and_probabilities():
    params = [emc.photometric_params(np.random.default_rng(s)) for s in range(4000)]
    alpha = np.array([p[0] for p in params])
    beta = np.array([p[1] for p in params])
    shift = np.array([p[2] for p in params])
    jittered = (alpha != 1.0) | (beta != 0.0)
    assert abs(jittered.mean() - 0.75) < 0.03
    assert 0.85 <= alpha.min() < 0.86 and 1.39 < alpha.max() <= 1.4
    assert -0.25 <= beta.min() < -0.24 and 0.24 < beta.max() <= 0.25
    shifted = (shift != 0).any(1)
    assert abs(shifted.mean() - 0.75) < 0.03
    assert -10 <= shift.min() < -9.9 and 9.9 < shift.max() <= 10
    img = np.random.default_rng(1).random((6, 7, 3), dtype=np.float32)
    for s in range(5):
        a, b, sh = emc.photometric_params(np.random.default_rng(s))
        expected = np.clip(img * a + b, 0, 1) + sh / 255.0
        assert np.allclose(emc.emc_photometric(img, np.random.default_rng(s)), expected,
                           atol=1e-6)


def test_uniform_crop_holds_the_object_and_spans_all_positions():
    from iseg_bench.training.data import augment_and_crop
    from iseg_bench.types import Sample

    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, (60, 80, 3)).astype(np.uint8)
    corner = np.zeros((60, 80), bool)
    corner[57:, 77:] = True  # a 3 x 3 object in the bottom-right corner
    s = Sample(img, corner, np.zeros((60, 80), bool), "c", "t")
    for seed in range(30):
        _, t, ig = augment_and_crop(s, (24, 28), emc.EMC_RECIPE, np.random.default_rng(seed),
                                    True)
        assert (t & ~ig).any()
    from iseg_bench.training.data import _uniform_window

    everywhere = np.ones((40, 50), bool)
    pos = {_uniform_window(everywhere, (30, 30), np.random.default_rng(k)) for k in range(3000)}
    assert pos == {(y, x) for y in range(11) for x in range(21)}
    one = np.zeros((40, 50), bool)
    one[0, 0] = True
    assert {_uniform_window(one, (30, 30), np.random.default_rng(k)) for k in range(20)} == {(0, 0)}


# -- optimiser ---------------------------------------------------------------------------------

def _groups(name):
    model = build_model(name)
    opt = emc.emc_optimizer(model, 1e-3)
    names = {id(p): n for n, p in model.named_parameters()}
    full, backbone = ({names[id(p)] for p in g["params"]} for g in opt.param_groups)
    return opt, full, backbone


def test_backbone_learns_at_a_tenth_mit():
    opt, full, backbone = _groups("emc-click-tiny")
    assert [g["lr"] for g in opt.param_groups] == [1e-3, pytest.approx(1e-4)]
    assert opt.defaults["betas"] == (0.9, 0.999) and opt.defaults["eps"] == 1e-8
    assert "base.side_embed.proj.weight" in backbone  # patch_embed_side1 is in the backbone
    assert "base.encoder.stages.0.patch_embeddings.proj.weight" in backbone
    assert "base.decode_head.linear_pred.weight" in full
    assert "correction.refine_pred.weight" in full
    assert all(n.startswith(("base.encoder.", "base.side_embed.")) for n in backbone)


def test_backbone_learns_at_a_tenth_hrnet():
    _, full, backbone = _groups("emc-click-hr-tiny")
    for n in ("base.feature_extractor.conv1.weight", "base.feature_extractor.aux_head.0.weight",
              "base.feature_extractor.cls_head.weight",
              "base.feature_extractor.stage4.0.fuse_layers.0.1.0.weight"):
        assert n in backbone
    for n in ("base.feature_extractor.conv3x3_ocr.0.weight",
              "base.feature_extractor.ocr_distri_head.conv_bn_dropout.0.weight",
              "base.maps_transform.0.weight", "base.maps_transform.3.scale",
              "correction.refine_pred.weight"):
        assert n in full


@pytest.mark.parametrize("micro", [32, 24, 1])
def test_accumulated_gradients_equal_the_full_batch(micro):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(),
                              torch.nn.Linear(4 * 6 * 6, 1))
    x, y = torch.randn(64, 3, 8, 8), torch.randn(64, 1)

    def loss_of(s):
        return ((net(x[s]) - y[s]) ** 2).mean()

    def grads(m):
        net.zero_grad()
        loss = accumulate_backward(64, m, loss_of)
        return loss, [p.grad.clone() for p in net.parameters()]

    full_loss, full = grads(64)
    acc_loss, acc = grads(micro)
    assert acc_loss == pytest.approx(full_loss, rel=1e-5)
    with torch.no_grad():
        assert full_loss == pytest.approx(float(((net(x) - y) ** 2).mean()), rel=1e-6)
    for a, b in zip(acc, full):
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-6)


def test_sigmoid_bce_by_hand():
    from iseg_bench.models.losses import sigmoid_bce

    logits = torch.tensor([0.0, 2.0, -1.0, 5.0]).view(1, 1, 2, 2)
    target = torch.tensor([1.0, 0.0, 0.0, 1.0]).view(1, 1, 2, 2)
    ignore = torch.tensor([False, False, False, True]).view(1, 1, 2, 2)
    by_hand = (np.log(2) + np.log(1 + np.exp(2)) + np.log(1 + np.exp(-1))) / 3
    assert float(sigmoid_bce(logits, target, ignore)) == pytest.approx(by_hand, rel=1e-6)


def test_hrnet_loss_adds_the_weighted_auxiliary_bce(monkeypatch):
    model = build_model("emc-click-hr-tiny")
    image = torch.rand(2, 3, 32, 32)
    tgt = np.stack([_square((32, 32), 8, 8, 14), _square((32, 32), 2, 12, 18)])
    ign = np.zeros_like(tgt)

    def loss(weight):
        monkeypatch.setattr(emc, "EMC_AUX_WEIGHT", weight)
        torch.manual_seed(0)
        return float(emc.emc_loss(model, image, tgt, ign, 0, "cpu", np.random.default_rng(0),
                                  False).detach())

    without, full, released = loss(0.0), loss(1.0), loss(0.4)
    assert full > without
    assert (released - without) / (full - without) == pytest.approx(0.4, rel=1e-4)


# -- initialisation ----------------------------------------------------------------------------

def test_xavier_gluon_init_on_hrnet_only():
    model = build_model("emc-click-hr-tiny")
    emc.xavier_gluon_init(model)
    fx = model.base.feature_extractor
    w = fx.stage2[0].branches[1][0].conv1.weight  # 8 -> 8 channels, 3 x 3
    assert abs(float(w.detach().std()) - (2 / (8 * 9)) ** 0.5) < 0.25 * (2 / (8 * 9)) ** 0.5
    assert torch.all(fx.bn1.weight == 1) and torch.all(fx.bn1.bias == 0)
    assert torch.all(fx.conv3x3_ocr[0].bias == 0)
    assert float(model.base.maps_transform[3].scale.detach()) == pytest.approx(0.05)  # not a weight
    mit = build_model("emc-click-tiny")
    before = {k: v.clone() for k, v in mit.state_dict().items()}
    emc.xavier_gluon_init(mit)
    assert all(torch.equal(before[k], v) for k, v in mit.state_dict().items())


# -- the HRNet ImageNet loader ------------------------------------------------------------------

#: names of HRNet-Image-Classification's cls_hrnet.py (written out by hand)
OFFICIAL_NAMES = ("conv1.weight", "bn2.running_var", "layer1.0.downsample.0.weight",
                  "layer1.1.conv3.weight", "transition1.0.0.weight", "transition1.1.0.0.weight",
                  "transition2.2.0.1.bias", "stage2.0.branches.1.1.conv2.weight",
                  "stage3.2.fuse_layers.2.0.1.0.weight", "stage4.1.fuse_layers.0.3.1.running_mean")
HEAD = {"incre_modules.0.0.conv1.weight": torch.zeros(32, 4, 1, 1),
        "downsamp_modules.0.0.weight": torch.zeros(64, 32, 3, 3),
        "final_layer.0.weight": torch.zeros(2048, 1024, 1, 1),
        "classifier.weight": torch.zeros(1000, 2048), "classifier.bias": torch.zeros(1000)}


def _imagenet_file(tmp_path, width=4, drop=(), extra=None, prefix=""):
    from iseg_bench.models.hrnet import HighResolutionNet, HRNetSpec

    torch.manual_seed(7)
    net = HighResolutionNet(HRNetSpec(width, 8, True))
    state = {prefix + k: torch.randn(v.shape) if v.is_floating_point() else v
             for k, v in net.state_dict().items()
             if not k.startswith(("conv3x3_ocr", "ocr_distri_head", "cls_head", "aux_head"))
             and k not in drop}
    state.update(HEAD)
    state.update(extra or {})
    path = tmp_path / "hrnet_w18_small_model_v2.pth"
    torch.save(state, path)
    return path, state


def test_imagenet_hrnet_file_loads_into_the_backbone(tmp_path):
    path, state = _imagenet_file(tmp_path, prefix="model.")
    model = build_model("emc-click-hr-tiny")
    fx = model.base.feature_extractor
    ocr_before = fx.conv3x3_ocr[0].weight.clone()
    emc.emc_load_pretrained(model, str(path))
    ours = fx.state_dict()
    for name in OFFICIAL_NAMES:
        assert torch.equal(ours[name], state["model." + name]), name
    assert torch.equal(fx.conv3x3_ocr[0].weight, ocr_before)


def test_imagenet_hrnet_file_that_does_not_fit_is_refused(tmp_path):
    from iseg_bench.models.released import load_hrnet_imagenet

    fx = build_model("emc-click-hr-tiny").base.feature_extractor
    path, _ = _imagenet_file(tmp_path, drop=("stage3.0.branches.0.0.conv1.weight",),
                             extra={"head.weight": torch.zeros(3)})
    with pytest.raises(AdapterError) as e:
        load_hrnet_imagenet(fx, path)
    msg = str(e.value)
    assert "missing ['stage3.0.branches.0.0.conv1.weight']" in msg
    assert "unexpected ['head.weight']" in msg and "\n" not in msg
    path, _ = _imagenet_file(tmp_path, width=6)
    with pytest.raises(AdapterError, match=r"conv1\.weight: \(6, 6, 3, 3\), expected"):
        load_hrnet_imagenet(fx, path)


def test_imagenet_hrnet_file_is_read_without_running_code(tmp_path):
    from iseg_bench.models.released import load_hrnet_imagenet

    path = tmp_path / "evil.pth"
    torch.save({"conv1.weight": torch.zeros(1), "x": Evil()}, path)
    with pytest.raises(AdapterError, match="safely"):
        load_hrnet_imagenet(build_model("emc-click-hr-tiny").base.feature_extractor, path)


class Evil:
    pass


def test_cli_reports_a_wrong_backbone_file_on_one_line(tmp_path):
    from click.testing import CliRunner

    from iseg_bench.cli import main

    path, _ = _imagenet_file(tmp_path, width=6)
    res = CliRunner().invoke(main, ["train", "--model", "emc-click-hr-tiny", "--dataset",
                                    "synthetic", "--pretrained-backbone", str(path), "--crop",
                                    "32x32", "--out", str(tmp_path / "o"), "--no-progress"])
    assert res.exit_code == 2
    assert res.output.count("\n") == 1 and "expected" in res.output


def test_imagenet_mit_file_loads_into_the_encoder(tmp_path):
    from pathlib import Path

    keys = json.loads((Path(__file__).parent / "data" / "emc_click_segb0_keys.json").read_text())
    prefix = "feature_extractor.backbone."
    torch.manual_seed(3)
    state = {k[len(prefix):]: torch.randn(shape) for k, shape in keys["keys"].items()
             if k.startswith(prefix) and "side1" not in k and "norm_add" not in k}
    state.update({"head.weight": torch.zeros(1000, 256), "head.bias": torch.zeros(1000)})
    torch.save(state, tmp_path / "mit_b0.pth")
    model = build_model("emc-click")
    side = model.base.side_embed.proj.weight.clone()
    emc.emc_load_pretrained(model, str(tmp_path / "mit_b0.pth"))
    ours = model.state_dict()
    q = "base.encoder.stages.1.blocks.0.attention."
    assert torch.equal(ours[q + "q_proj.weight"], state["block2.0.attn.q.weight"])
    kv = state["block2.0.attn.kv.weight"]  # fused (2C, C): key rows first, then value
    assert torch.equal(ours[q + "k_proj.weight"], kv[:64])
    assert torch.equal(ours[q + "v_proj.weight"], kv[64:])
    assert torch.equal(model.base.side_embed.proj.weight, side)
    del state["norm4.weight"]
    torch.save(state, tmp_path / "bad.pth")
    with pytest.raises(AdapterError, match="missing.*stages.3.layer_norm.weight"):
        emc.emc_load_pretrained(model, str(tmp_path / "bad.pth"))


# -- a tiny run --------------------------------------------------------------------------------

def test_tiny_run_with_micro_batches(tmp_path):
    from test_models_training import BlobDataset

    from iseg_bench.training import train

    ds = BlobDataset(n=3)
    res = train("emc-click-tiny", ds, epochs=1, batch_size=4, device="cpu", out_dir=tmp_path,
                crop_size=(32, 32), progress=False, micro_batch=2, samples_per_epoch=9)
    assert (res.steps, res.epochs_done) == (2, 1)  # 9 // 4 full batches, the rest dropped
    assert np.isfinite(res.last_loss)
    summary = json.loads((tmp_path / "train_summary.json").read_text())
    assert (summary["lr"], summary["micro_batch"], summary["samples_per_epoch"]) == (1e-3, 2, 9)
    with pytest.raises(TrainingError, match="--samples-per-epoch 3 is less than one batch"):
        train("emc-click-tiny", ds, batch_size=4, samples_per_epoch=3, out_dir=tmp_path)
    with pytest.raises(TrainingError, match="cannot split"):
        train("acc99net-tiny", ds, micro_batch=2, out_dir=tmp_path)

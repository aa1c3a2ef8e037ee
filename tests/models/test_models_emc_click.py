"""EMC-Click: template scores (Eqs. 3-4, released rules), click cells, shapes, FLOPs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import transformers  # noqa: F401  (the models extra is required: a broken install fails)

from iseg_bench.models.click_encodings import disk_maps  # noqa: E402
from iseg_bench.models.emc_click import click_cells, template_scores  # noqa: E402
from iseg_bench.models.zoo import build_model  # noqa: E402


def test_template_scores_match_equations_3_4():
    """Hand-computed O_p, O_n: max cosine similarity at the click cells (round(y / 4)),
    distance to the nearest click over the image grid / image diagonal, resized
    (align_corners True) to the cells; an empty click slot contributes similarity 0."""
    rng = np.random.default_rng(1)
    f = rng.normal(size=(5, 4, 6)).astype(np.float32)  # C, h, w for a 16 x 24 image
    clicks = [(5.0, 9.0, 1), (13.0, 21.0, 1), (1.0, 2.0, 0), (-1, -1, -1)]  # 2 pos, 1 neg
    o_p, o_n = template_scores(torch.from_numpy(f)[None], torch.tensor([clicks]), (16, 24))
    unit = f / np.linalg.norm(f, axis=0, keepdims=True)
    cells = [(1, 2), (3, 5), (0, 0)]  # round(5/4)=1, round(9/4)=2, round(13/4)=3, ...
    diag = np.hypot(16, 24)
    vp, vn = np.full((4, 6), -np.inf), np.full((4, 6), -np.inf)
    dp, dn = np.full((4, 6), np.inf), np.full((4, 6), np.inf)
    for r in range(4):
        for c in range(6):
            for (cr, cc), (_, _, lab) in zip(cells, clicks[:3]):
                cos = float(unit[:, r, c] @ unit[:, cr, cc])
                if lab == 1:
                    vp[r, c] = max(vp[r, c], cos)
                else:
                    vn[r, c] = max(vn[r, c], cos)
    vn = np.maximum(vn, 0.0)  # one negative click in two slots: the empty slot counts 0
    # distances: bilinear samples of the full-resolution map; check at the grid corners,
    # where align_corners makes them exact
    for (r, c) in [(0, 0), (0, 5), (3, 0), (3, 5)]:
        y, x = r * 15 / 3, c * 23 / 5
        dp[r, c] = min(np.hypot(y - 5, x - 9), np.hypot(y - 13, x - 21)) / diag
        dn[r, c] = np.hypot(y - 1, x - 2) / diag
        i = r * 6 + c
        assert abs(float(o_p[0, i]) - (vp[r, c] + 1 - vn[r, c]) * (1 - dp[r, c])) < 1e-5
        assert abs(float(o_n[0, i]) - (vn[r, c] + 1 - vp[r, c]) * (1 - dn[r, c])) < 1e-5


def test_template_scores_without_negative_clicks():
    """No negative click: V_n = 0 and D_n = 1 px / diagonal everywhere (released rule)."""
    f = torch.randn(1, 3, 8, 8)
    o_p, o_n = template_scores(f, torch.tensor([[[9.0, 9.0, 1]]]), (32, 32))
    unit = torch.nn.functional.normalize(f, dim=1)
    vp = (unit * unit[:, :, 2:3, 2:3]).sum(1)[0].flatten()
    assert torch.allclose(o_n[0], (1 - vp) * (1 - 1 / np.hypot(32, 32)), atol=1e-5)


def test_click_cells_round_and_clamp():
    c = click_cells(torch.tensor([[[0.0, 0.0, 1], [6.0, 9.9, 0], [100.0, 3.0, 1],
                                   [-1, -1, -1]]]), (8, 8))
    # round(6/4)=round(1.5)=2 (half to even), round(9.9/4)=2; 100/4 clamps to row 7
    assert c[0].tolist() == [0, 2 * 8 + 2, 7 * 8 + 1, 0]


@pytest.mark.parametrize("hw", [(32, 36), (68, 92)])
def test_shapes(hw):
    m = build_model("emc-click-tiny").eval()
    h, w = hw
    img = torch.rand(2, 3, h, w)
    d = torch.from_numpy(np.stack([disk_maps([(0, w - 1, True)], hw)] * 2))
    clicks = torch.tensor([[[0, w - 1, 1.0], [h - 1, 0, 0.0]], [[0, w - 1, 1.0], [-1, -1, -1.0]]])
    with torch.no_grad():
        feats, coarse = m.encode(img, d[:, :1])
        logits = m.correct(img, d, coarse, feats, clicks)
        full, coarse_full = m(img, d[:, :1], d, clicks)
    assert coarse.shape == logits.shape == (2, 1, h // 4, w // 4)
    assert full.shape == coarse_full.shape == (2, 1, h, w)
    assert torch.isfinite(logits).all()


@pytest.mark.parametrize("hw", [(30, 32), (32, 34), (28, 28)])
def test_sizes_the_released_network_cannot_take_are_refused(hw):
    m = build_model("emc-click-tiny").eval()
    with pytest.raises(ValueError, match="multiples of 4"):
        m.encode(torch.rand(1, 3, *hw), torch.zeros(1, 1, *hw))


def test_correction_costs_at_most_a_third_of_first_click():
    """torch.utils.flop_counter on the MiT-b0 variant at 256 x 256."""
    from iseg_bench.models.flops import click_flops

    first, later = click_flops(build_model("emc-click").eval(), (256, 256))
    assert later <= first / 3, (later, first)

"""EMC-Click: template score formula (Eqs. 3-4), shapes at odd sizes, correction FLOPs."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from iseg_bench.models.click_encodings import disk_maps  # noqa: E402
from iseg_bench.models.emc_click import click_cells, select_templates, template_scores  # noqa: E402
from iseg_bench.models.zoo import build_model  # noqa: E402


def test_template_scores_match_equations_3_4():
    rng = np.random.default_rng(1)
    f = rng.normal(size=(5, 4, 6)).astype(np.float32)  # C, h, w
    clicks = [(1, 2, 1), (3, 5, 1), (0, 0, 0), (-1, -1, -1)]  # two pos, one neg, one padding
    cells = torch.tensor([clicks])
    o_p, o_n = template_scores(torch.from_numpy(f)[None], cells)
    unit = f / np.linalg.norm(f, axis=0, keepdims=True)
    diag = np.hypot(4, 6)
    vp, vn = np.full((4, 6), -np.inf), np.full((4, 6), -np.inf)
    dp, dn = np.full((4, 6), np.inf), np.full((4, 6), np.inf)
    for r in range(4):
        for c in range(6):
            for (cr, cc, lab) in clicks[:3]:
                cos = float(unit[:, r, c] @ unit[:, cr, cc])
                d = np.hypot(r - cr, c - cc) / diag
                if lab == 1:
                    vp[r, c], dp[r, c] = max(vp[r, c], cos), min(dp[r, c], d)
                else:
                    vn[r, c], dn[r, c] = max(vn[r, c], cos), min(dn[r, c], d)
    assert np.allclose(o_p[0].numpy(), (vp + (1 - vn)) * (1 - dp), atol=1e-5)
    assert np.allclose(o_n[0].numpy(), (vn + (1 - vp)) * (1 - dn), atol=1e-5)
    # the click pixels themselves score highest among their sign's neighbours
    t = select_templates(torch.from_numpy(f)[None], o_p, 3)
    assert t.shape == (1, 3, 5)
    best = int(torch.argmax(o_p[0]).item())
    assert np.allclose(t[0, 0].numpy(), f.reshape(5, -1)[:, best])


def test_template_scores_without_negative_clicks():
    f = torch.randn(1, 3, 4, 4)
    o_p, o_n = template_scores(f, torch.tensor([[[2, 2, 1]]]))
    unit = torch.nn.functional.normalize(f, dim=1)
    vp = (unit * unit[:, :, 2:3, 2:3]).sum(1)[0]
    assert torch.allclose(o_n[0], 1 - vp, atol=1e-5)


def test_click_cells_stride_4():
    c = click_cells(torch.tensor([[[0.0, 0.0, 1], [7.0, 9.0, 0], [100.0, -3.0, 1]]]), (32, 32),
                    (8, 8))
    assert c[0].tolist() == [[0, 0, 1], [1, 2, 0], [7, 0, 1]]


@pytest.mark.parametrize("hw", [(1, 5), (31, 33), (67, 93)])
def test_shapes_at_odd_sizes(hw):
    m = build_model("emc-click-tiny").eval()
    h, w = hw
    img = torch.rand(2, 3, h, w)
    d = torch.from_numpy(np.stack([disk_maps([(0, w - 1, True)], hw)] * 2))
    clicks = torch.tensor([[[0, w - 1, 1.0], [h - 1, 0, 0.0]], [[0, w - 1, 1.0], [-1, -1, -1.0]]])
    with torch.no_grad():
        feats, coarse = m.encode(img, d)
        logits = m.correct(img, d, torch.sigmoid(coarse), feats, clicks)
    assert coarse.shape == logits.shape == (2, 1, h, w)
    assert torch.isfinite(logits).all()


def test_correction_costs_at_most_a_third_of_first_click():
    """torch.utils.flop_counter on the MiT-b0 variant at 256 x 256."""
    from iseg_bench.models.flops import click_flops

    first, later = click_flops(build_model("emc-click").eval(), (256, 256))
    assert later <= first / 3, (later, first)

"""The shared model blocks (click encodings, losses, guided filter, zoom-in crop, click
simulation) checked against hand computations."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from iseg_bench.models import click_encodings as ce  # noqa: E402
from iseg_bench.models.guided_filter import box_filter, guided_filter  # noqa: E402
from iseg_bench.models.losses import normalized_focal_loss, soft_iou_click_loss  # noqa: E402
from iseg_bench.models.zoom_in import clicks_to_box, paste_back, target_shape, zoom_in_box  # noqa: E402


def test_disk_maps_radius_5():
    m = ce.disk_maps([(10, 10, True), (2, 3, False)], (21, 23))
    assert m.shape == (2, 21, 23) and m.dtype == np.float32
    assert m[0, 10, 15] == 1 and m[0, 13, 14] == 1  # distance 5 (3-4-5) is inside
    assert m[0, 10, 16] == 0 and m[0, 14, 14] == 0  # distance 6 and sqrt(32) > 5: outside
    assert m[0].sum() == 81  # lattice points with y^2 + x^2 <= 25
    assert m[1, 2, 3] == 1 and m[1, 10, 10] == 0


def test_gaussian_maps_three_scales_background_first():
    m = ce.gaussian_maps([(4, 5, True)], (9, 11))
    assert m.shape == (6, 9, 11)
    d2 = 3 ** 2 + 4 ** 2
    for s, scale in enumerate((0.02, 0.08, 0.16)):
        sigma = scale * 352  # L = 352, the released networks/transforms.py
        assert m[3 + s, 4, 5] == pytest.approx(1.0)
        assert m[3 + s, 7, 9] == pytest.approx(math.exp(-d2 / (2 * sigma ** 2)), rel=1e-6)
    assert not m[:3].any()  # no negative (background) click: channels 0-2 stay 0
    neg = ce.gaussian_maps([(0, 0, False)], (9, 11))
    assert neg[0, 0, 0] == 1.0 and not neg[3:].any()


def test_click_pixel_maps_round_trip():
    maps = ce.click_pixel_maps([(2.4, 3.6, True), (0, 0, False), (50, 1, True)], (5, 6))
    assert maps.shape == (2, 5, 6) and maps.dtype == np.float32
    assert maps[1, 2, 4] == 1 and maps[0, 0, 0] == 1 and maps.sum() == 2  # (50, 1) is outside
    assert ce.clicks_from_pixel_maps(maps) == [(0.0, 0.0, False), (2.0, 4.0, True)]


def test_distance_maps_truncated():
    m = ce.distance_maps([(0, 0, True), (0, 3, True)], (1, 300))
    assert m[0, 0, 1] == pytest.approx(1.0) and m[0, 0, 2] == pytest.approx(1.0)
    assert m[0, 0, 100] == pytest.approx(97.0)
    assert m[0, 0, 299] == 255.0 and (m[1] == 255).all()


def test_normalized_focal_loss_hand():
    logits = torch.tensor([0.0, 2.0, -1.0]).view(1, 1, 1, 3)
    target = torch.tensor([1.0, 0.0, 0.0]).view(1, 1, 1, 3)
    p = 1 / (1 + np.exp(-np.array([0.0, 2.0, -1.0])))
    pt = np.array([p[0], 1 - p[1], 1 - p[2]])
    beta = (1 - pt) ** 2
    expected = -(0.5 * beta / beta.sum() * np.log(pt)).sum()
    got = normalized_focal_loss(logits, target)
    assert float(got) == pytest.approx(expected, rel=1e-5)
    ign = torch.tensor([False, False, True]).view(1, 1, 1, 3)
    b2 = beta[:2]
    exp2 = -(0.5 * b2 / b2.sum() * np.log(pt[:2])).sum()
    assert float(normalized_focal_loss(logits, target, ign)) == pytest.approx(exp2, rel=1e-5)


def test_soft_iou_click_loss_hand():
    prob = torch.tensor([0.9, 0.2, 0.6, 0.0]).view(1, 1, 2, 2)
    gt = torch.tensor([1.0, 0.0, 1.0, 0.0]).view(1, 1, 2, 2)
    clicks = torch.tensor([True, False, True, False]).view(1, 1, 2, 2)
    inter = 0.9 + 0.6
    union = 1.0 + 0.2 + 1.0 + 0.0
    expected = 1 - inter / union + (0.1 ** 2 + 0.4 ** 2)
    assert float(soft_iou_click_loss(prob, gt, clicks)) == pytest.approx(expected, rel=1e-6)


def _naive_box(x: np.ndarray, r: int) -> np.ndarray:
    h, w = x.shape
    out = np.zeros_like(x)
    for i in range(h):
        for j in range(w):
            out[i, j] = x[max(0, i - r):i + r + 1, max(0, j - r):j + r + 1].sum()
    return out


def test_box_filter_and_guided_filter_hand():
    rng = np.random.default_rng(0)
    guide = rng.random((7, 9))
    src = rng.random((7, 9))
    r, eps = 2, 1e-2
    t = lambda a: torch.tensor(a).view(1, 1, *a.shape)  # noqa: E731
    assert np.allclose(box_filter(t(src), r)[0, 0].numpy(), _naive_box(src, r))
    n = _naive_box(np.ones_like(guide), r)
    mi, mp = _naive_box(guide, r) / n, _naive_box(src, r) / n
    a = ((_naive_box(guide * src, r) / n - mi * mp)
         / (_naive_box(guide * guide, r) / n - mi * mi + eps))
    b = mp - a * mi
    expected = _naive_box(a, r) / n * guide + _naive_box(b, r) / n
    got = guided_filter(t(guide), t(src), r, eps)[0, 0].numpy()
    assert np.allclose(got, expected, atol=1e-10)
    # a constant input passes through unchanged
    const = guided_filter(t(guide), t(np.full_like(src, 0.3)), r, eps)
    assert np.allclose(const.numpy(), 0.3)


def test_zoom_in_box_hand():
    prev = np.zeros((500, 600), np.float32)
    prev[100:200, 100:300] = 0.9  # rows 100..199, cols 100..299
    box = zoom_in_box(prev, [(150, 350, True), (400, 50, False)])  # positive click widens x
    # bbox rows 100..199 (h 100 -> 140 -> min 200), cols 100..350 (w 251 -> 351.4)
    cy, cx = 149.5, 225.0
    assert box == (int(np.floor(cy - 100)), int(np.ceil(cy + 100)),
                   int(np.floor(cx - 351.4 / 2)), int(np.ceil(cx + 351.4 / 2)))
    assert zoom_in_box(np.zeros((5, 5)), [(1, 1, False)]) is None
    assert target_shape((0, 200, 0, 100), 400) == (400, 200)
    c = clicks_to_box([(10, 20, True)], (10, 30, 20, 40), (40, 40))
    assert c[0][:2] == pytest.approx((0.5, 0.5))
    pasted = paste_back(np.ones((40, 40), np.float32), (10, 30, 20, 40), (50, 60))
    assert pasted.sum() == 400 and pasted[10:30, 20:40].all()


def test_click_simulation_centres():
    from iseg_bench.models.click_simulation import largest_error_click, object_centre_click

    t = np.zeros((20, 30), bool)
    t[5:16, 4:15] = True
    assert object_centre_click(t) == (10, 9, True)
    pred = np.zeros_like(t)
    pred[0:3, 20:30] = True  # small false positive
    y, x, pos = largest_error_click(pred, t)
    assert pos and (y, x) == (10, 9)  # the false negative region is larger
    assert largest_error_click(t, t) is None

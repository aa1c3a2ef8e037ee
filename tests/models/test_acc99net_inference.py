"""The acc99net adapter's "released" preset against a test-only transcription of the
release's inference (MarcoForte/DeepInteractiveSegmentation, commit ddd7426: ``demo.py``
``pred`` and ``scale_input``, ``interaction.remove_non_fg_connected``,
``networks/transforms.trimap_transform``), written for this test from reading them; the
network itself is ours (its equivalence is ``test_acc99net_released.py``'s)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

pytestmark = pytest.mark.filterwarnings("ignore:.*random weights.*:UserWarning")

from iseg_bench.adapters.torch_models import Acc99NetAdapter, remove_unconnected  # noqa: E402
from iseg_bench.errors import UsageError  # noqa: E402
from iseg_bench.types import Click  # noqa: E402


def _remove_non_fg_connected(alpha, fg):
    if np.count_nonzero(fg) == 0:
        return alpha
    _, labels = cv2.connectedComponents(((alpha > 0.5) * 255).astype(np.uint8))
    keep = {labels[y, x] for y, x in zip(*np.nonzero(fg == 1)) if labels[y, x] != 0}
    alpha = alpha.copy()
    alpha[~np.isin(labels, list(keep))] = 0
    return alpha


def _trimap_transform(trimap):
    out = np.zeros((*trimap.shape[:2], 6))
    for k in range(2):
        if np.count_nonzero(trimap[:, :, k]):
            d = cv2.distanceTransform(((1 - trimap[:, :, k]) * 255).astype(np.uint8),
                                      cv2.DIST_L2, 0)
            for s, scale in enumerate((0.02, 0.08, 0.16)):
                out[:, :, 3 * k + s] = np.exp(-d ** 2 / (2 * (scale * 352) ** 2))
    return out


def _released_pred(model, image, trimap, alpha_old):
    """demo.pred with our network in place of theirs (it normalises the image inside)."""
    alpha_old = _remove_non_fg_connected(alpha_old, trimap[:, :, 1])
    h, w = trimap.shape[:2]
    size = (int(np.ceil(w / 32) * 32), int(np.ceil(h / 32) * 32))
    img_s = cv2.resize(image, size, interpolation=cv2.INTER_LANCZOS4)
    tri_s = cv2.resize(trimap, size, interpolation=cv2.INTER_NEAREST)
    old_s = cv2.resize(alpha_old, size, interpolation=cv2.INTER_LANCZOS4)

    def t(x):
        return torch.from_numpy(x).permute(2, 0, 1)[None].float()

    with torch.no_grad():
        out = model(t(img_s), t(_trimap_transform(tri_s)), t(old_s[:, :, None]), t(tri_s))
    # the release's call: INTER_LANCZOS4 lands in cv2.resize's `dst` position
    alpha = cv2.resize(out[0].numpy().transpose(1, 2, 0), (w, h), cv2.INTER_LANCZOS4)
    alpha[trimap[:, :, 0] == 1] = 0
    alpha[trimap[:, :, 1] == 1] = 1
    return _remove_non_fg_connected(alpha, trimap[:, :, 1])


@pytest.mark.parametrize("hw", [(45, 61), (64, 96)])
def test_released_preset_matches_the_release(hw):
    ad = Acc99NetAdapter(device="cpu", random_init=True, variant="acc99net-tiny", seed=4)
    with torch.no_grad():  # raw predictions around 0.5: components above it, some kept
        ad.model.decoder.conv_up4[4].bias.fill_(0.58)
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (*hw, 3), dtype=np.uint8)
    ad.set_image(image)
    h, w = hw
    clicks = [Click(h // 2, w // 2, True), Click(3, 4, False), Click(h - 6, w - 9, True),
              Click(h // 3, 2 * w // 3, False)]
    trimap = np.zeros((h, w, 2))
    ours = theirs = np.zeros(hw, np.float32)
    nonzero = 0
    for k, c in enumerate(clicks, 1):
        trimap[c.y, c.x, int(c.is_positive)] = 1
        theirs = _released_pred(ad.model, image / 255.0, trimap, theirs)
        ours = ad.predict(clicks[:k], ours)
        assert ours.dtype == np.float32 and ours.shape == hw
        assert np.abs(ours - theirs).max() <= 1e-5
        nonzero += int(((ours > 0) & (ours < 1)).sum())
    assert nonzero > 50  # soft values survive: the comparison is not one of empty masks
    assert ours[clicks[1].y, clicks[1].x] == 0 and ours[clicks[2].y, clicks[2].x] == 1


def test_output_resize_is_bilinear_in_the_release():
    """cv2.resize(src, dsize, INTER_LANCZOS4) takes the flag as `dst`: bilinear applies."""
    a = np.random.default_rng(0).random((64, 96, 1)).astype(np.float32)
    quirk = cv2.resize(a, (61, 45), cv2.INTER_LANCZOS4)
    assert np.array_equal(quirk, cv2.resize(a[:, :, 0], (61, 45), interpolation=cv2.INTER_LINEAR))
    assert not np.allclose(quirk, cv2.resize(a[:, :, 0], (61, 45),
                                             interpolation=cv2.INTER_LANCZOS4))


def test_remove_unconnected_hand():
    prob = np.array([[0.9, 0.9, 0.0, 0.8],
                     [0.0, 0.4, 0.0, 0.8],
                     [0.6, 0.0, 0.0, 0.0]], np.float32)
    pos = np.zeros_like(prob)
    pos[0, 0] = 1
    got = remove_unconnected(prob, pos)
    # (0, 0)-(0, 1) kept; (2, 0) is 8-connected to nothing above 0.5 -> removed; 0.4 -> 0
    assert got.tolist() == [[pytest.approx(0.9), pytest.approx(0.9), 0, 0],
                            [0, 0, 0, 0], [0, 0, 0, 0]]
    pos[0, 0], pos[1, 3] = 0, 1
    assert remove_unconnected(prob, pos)[:, 3].tolist() == [pytest.approx(0.8)] * 2 + [0]
    assert np.array_equal(remove_unconnected(prob, np.zeros_like(prob)), prob)


def test_preset_recorded_and_checked():
    ad = Acc99NetAdapter(device="cpu", random_init=True, variant="acc99net-tiny")
    d = ad.describe()
    assert d["preset"] == "released" and "multiple of 32" in d["inference"]["working_size"]
    plain = Acc99NetAdapter(device="cpu", random_init=True, variant="acc99net-tiny",
                            preset="plain", short_side=40)
    assert plain.describe()["preset"] == "plain" and "inference" not in plain.describe()
    with pytest.raises(UsageError, match="preset=plain"):
        Acc99NetAdapter(device="cpu", random_init=True, variant="acc99net-tiny", zoom_in=True)
    with pytest.raises(UsageError):
        Acc99NetAdapter(device="cpu", random_init=True, variant="acc99net-tiny", preset="x")

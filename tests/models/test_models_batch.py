"""predict_batch of the bundled click models (docs/adapters.md): each sample's output equals
the one-sample predict's, for images of two sizes in one batch, over several clicks."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from iseg_bench.adapters.base import BatchItem
from iseg_bench.types import Click

#: per step, one click per sample; every sample gets the same signs (EMC-Click's template
#: slots follow the batch's largest sign count, docs/models/emc-click.md)
SIGNS = (True, False, True)


def _images() -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.integers(0, 256, shape, dtype=np.uint8)
            for shape in ((40, 56, 3), (40, 56, 3), (48, 36, 3))]


@pytest.mark.parametrize("name", ["emc", "acc99"])
def test_predict_batch_equals_predict_per_sample(name: str) -> None:
    from iseg_bench.adapters.torch_models import Acc99NetAdapter, EMCClickAdapter

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if name == "emc":
            ad = EMCClickAdapter(device="cpu", random_init=True, variant="emc-click-tiny",
                                 short_side=32)
        else:
            ad = Acc99NetAdapter(device="cpu", random_init=True, variant="acc99net-tiny")
    images = _images()
    histories: list[list[Click]] = [[] for _ in images]
    prev = [np.zeros(im.shape[:2], np.float32) for im in images]
    for k, positive in enumerate(SIGNS):
        for i in range(len(images)):
            histories[i].append(Click(5 + 7 * k + 11 * i, 9 + 5 * k + 8 * i, positive))
        batched = ad.predict_batch([BatchItem(i, im, list(h), p)
                                    for i, (im, h, p) in enumerate(zip(images, histories,
                                                                       prev))])
        for i, im in enumerate(images):
            ad.set_image(im)
            # predict replays the whole history on a fresh cache for each sample
            single = ad.predict(list(histories[i]), prev[i])
            assert batched[i].shape == im.shape[:2] and batched[i].dtype == np.float32
            np.testing.assert_allclose(batched[i], single, atol=1e-5)
            if name == "emc":
                # random weights give nearly constant maps: the per-sample features and
                # logits kept under each key show that no sample got another's
                for part in ("feats", "prev"):
                    np.testing.assert_allclose(ad._batch_caches[i][part], ad._cache[part],
                                               atol=1e-5)
        prev = batched
    if name == "emc":
        feats = [ad._batch_caches[i]["feats"] for i in (0, 1)]
        assert float((feats[0] - feats[1]).abs().max()) > 1e-2
    else:
        assert np.abs(prev[0] - prev[1]).max() > 1e-2

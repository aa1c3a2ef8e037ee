"""The ScribbleSeg training recipe (iseg_bench.training.scribbleseg) through
``iseg_bench.training.train``: the paper's schedule constants, the simulated interactions of a
batch, and a short run whose checkpoint the adapter loads."""

from __future__ import annotations

import numpy as np
import torch
import transformers  # noqa: F401  (the models extra is required: a broken install fails)

from iseg_bench.models.zoo import build_model  # noqa: E402
from iseg_bench.training import train  # noqa: E402
from iseg_bench.training.loop import recipe_for  # noqa: E402
from iseg_bench.training.scribbleseg import sample_interactions  # noqa: E402
from iseg_bench.types import Sample  # noqa: E402


class Squares:
    """Bright squares on noise, 64 x 64."""

    name = "squares"

    def __init__(self, n: int = 2):
        rng = np.random.default_rng(0)
        self.samples = []
        for i in range(n):
            img = rng.integers(0, 100, (64, 64, 3), dtype=np.uint8)
            t = np.zeros((64, 64), bool)
            t[12 + 4 * i:44, 16:50 - 4 * i] = True
            img[t] = 220
            self.samples.append(Sample(img, t, np.zeros((64, 64), bool), f"sq{i}", self.name))

    def __len__(self) -> int:
        return len(self.samples)

    def load(self, i: int) -> Sample:
        return self.samples[i]


def test_recipe_constants_are_the_papers():
    r = recipe_for("scribbleseg")
    assert r.lr == 5e-4 and r.crop == (384, 384) and r.resize_range == (0.75, 1.40)
    # x0.1 at epochs 110 and 130 of 150
    assert [round(f * 150) for f in r.milestones] == [110, 130]
    opt = r.optimizer(build_model("scribbleseg-tiny"), r.lr)
    assert isinstance(opt, torch.optim.Adam) and opt.defaults["betas"] == (0.9, 0.999)
    img = np.random.default_rng(0).random((4, 4, 3)).astype(np.float32)
    assert np.array_equal(r.photometric(img, np.random.default_rng(0)), img)


def test_batch_interactions_lie_in_the_right_regions():
    ds = Squares()
    tgt = np.stack([ds.load(i).target for i in range(2)])
    ign = np.zeros_like(tgt)
    image = torch.rand(2, 3, 64, 64)
    model = build_model("scribbleseg-tiny")
    for seed in range(4):
        maps, prev = sample_interactions(model, image, tgt, ign, "cpu",
                                         np.random.default_rng(seed))
        assert maps.shape == (2, 2, 64, 64) and prev.shape == (2, 1, 64, 64)
        assert maps[:, 0].any(axis=(1, 2)).all()          # every sample has a positive stroke
        pos, neg = maps[:, 0] > 0, maps[:, 1] > 0
        # positive strokes: in the target (first strokes) or its misses; negative strokes in
        # the background (first strokes) or the false positives: never on the wrong class
        assert not (pos & ~tgt).any() and not (neg & tgt).any()
        assert set(np.unique(prev)) <= {0.0, 1.0}
    assert model.training


def test_short_training_run_gives_a_loadable_checkpoint(tmp_path):
    from iseg_bench.adapters.scribbleseg import ScribbleSegAdapter
    from iseg_bench.types import Scribble

    res = train("scribbleseg-tiny", Squares(), epochs=5, batch_size=2, device="cpu",
                out_dir=tmp_path, max_steps=3, crop_size=(64, 64), progress=False)
    assert res.steps == 3 and np.isfinite(res.last_loss)
    ad = ScribbleSegAdapter(device="cpu", checkpoint=str(tmp_path))
    s = Squares().load(0)
    ad.set_image(s.image)
    prob = ad.predict([Scribble(np.array([[28.0, 20.0], [28.0, 40.0]]), True, 3)],
                      np.zeros((64, 64), np.float32))
    assert prob.shape == (64, 64)

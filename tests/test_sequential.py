"""Tests of the sequential protocol (SIIS, Lin et al., Sec. 3.2-3.3): acceptance rule,
NoC 0 from a sufficient proposal, hook order and annotations, the learning delay,
independence without hooks, fresh adapters per stream and seeded orders."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from iseg_bench.config import RunConfig
from iseg_bench.datasets.base import Dataset, SampleRef
from iseg_bench.errors import UsageError
from iseg_bench.protocols.base import WorkerContext
from iseg_bench.protocols.curves import user_noc
from iseg_bench.protocols.sequential import SequentialProtocol
from iseg_bench.protocols.sequential_session import proposal_accepted
from iseg_bench.protocols.single_object import run_session
from iseg_bench.protocols.streams import ARM_OFF, ARM_ON, Arm, stream_order
from iseg_bench.robots.clicker import CenterOfErrorClicker
from iseg_bench.types import Sample

SIZE = 40


def _square_image(squares):
    img = np.zeros((SIZE, SIZE, 3), np.uint8)
    masks = []
    for (y, x, s) in squares:
        m = np.zeros((SIZE, SIZE), bool)
        m[y:y + s, x:x + s] = True
        img[m] = 220
        masks.append(m)
    return img, masks


class ListDataset(Dataset):
    """Samples held in memory; categories in the refs' meta."""

    name = "list"

    def __init__(self, samples):
        self.samples = list(samples)
        super().__init__([SampleRef(s.sample_id, (), {"category": s.meta.get("category")})
                          for s in self.samples])

    def load(self, index):
        return self.samples[index]


def square_dataset():
    """Category "a": 5 samples, two of them instances in one image; category "b": 3."""
    samples = []
    img, (m1, m2) = _square_image([(5, 4, 10), (22, 24, 12)])
    samples.append(Sample(img, m1, np.zeros_like(m1), "a0", "list", {"category": "a"}))
    samples.append(Sample(img, m2, np.zeros_like(m2), "a1", "list", {"category": "a"}))
    for i, (y, x, s) in enumerate([(10, 10, 14), (3, 20, 9), (20, 5, 15)]):
        im, (m,) = _square_image([(y, x, s)])
        samples.append(Sample(im, m, np.zeros_like(m), f"a{i + 2}", "list", {"category": "a"}))
    for i, (y, x, s) in enumerate([(12, 12, 8), (2, 2, 16), (25, 10, 10)]):
        im, (m,) = _square_image([(y, x, s)])
        samples.append(Sample(im, m, np.zeros_like(m), f"b{i}", "list", {"category": "b"}))
    return ListDataset(samples)


class BrightAdapter:
    """Predicts the bright connected component under the positive clicks (perfect after
    one click on a square), no hooks."""

    name = "bright"

    def set_image(self, image):
        self.bright = image[..., 0] > 128

    def predict(self, interactions, prev_prob):
        from iseg_bench.geometry import component_at

        out = np.zeros(self.bright.shape, bool)
        for c in interactions:
            comp = component_at(self.bright, c.y, c.x)
            out = out | comp if c.is_positive else out & ~comp
        return out.astype(np.float32)


class LearningBrightAdapter(BrightAdapter):
    """BrightAdapter + hooks: proposes the first row-major bright pixel outside the ignore
    mask once its category has been learned; logs every hook call."""

    def __init__(self, propose_wrong=False):
        self.log = []
        self.learned = {}
        self.propose_wrong = propose_wrong

    def reset_learning(self):
        self.learned = {}
        self.log.append(("reset",))

    def learn(self, image, category, mask, clicks):
        self.learned[category] = self.learned.get(category, 0) + 1
        self.log.append(("learn", category, mask.copy(), list(clicks)))

    def propose_click(self, image, category, ignore):
        self.log.append(("propose", category, sum(self.learned.values()), ignore.copy()))
        if not self.learned.get(category):
            return None
        if self.propose_wrong:
            return (0, 0)
        ys, xs = np.nonzero((image[..., 0] > 128) & ~ignore)
        return (int(ys[0]), int(xs[0])) if len(ys) else None


def _config(**opts):
    kw = {k: opts.pop(k) for k in list(opts) if k in ("max_interactions", "stop_at_iou",
                                                       "seed", "limit")}
    return RunConfig(model="x", dataset="list", protocol="sequential",
                     protocol_options=opts, **kw)


def _ctx(cfg, dataset, adapter):
    return WorkerContext(cfg, dataset, adapter, CenterOfErrorClicker())


# ------------------------------------------------------------------ acceptance rule

def test_acceptance_rule_hand_built():
    target = np.zeros((6, 6), bool)
    target[1:4, 1:4] = True
    ignore = np.zeros_like(target)
    ignore[1, 1] = True
    annotated = np.zeros_like(target)
    annotated[3, 3] = True
    assert proposal_accepted((2, 2), target, ignore, annotated)
    assert not proposal_accepted((0, 0), target, ignore, annotated)  # off the target
    assert not proposal_accepted((1, 1), target, ignore, annotated)  # on the sample's ignore
    assert not proposal_accepted((3, 3), target, ignore, annotated)  # already annotated
    assert not proposal_accepted((-1, 2), target, ignore, annotated)  # outside the image
    assert not proposal_accepted((2, 6), target, ignore, annotated)
    assert not proposal_accepted(None, target, ignore, annotated)


def test_rejected_proposal_is_discarded_and_robot_clicks():
    ds = square_dataset()
    cfg = _config(max_interactions=3, learn_delay=1)
    proto = SequentialProtocol(cfg)
    adapter = LearningBrightAdapter(propose_wrong=True)
    rows = proto.run_stream([ds.load(i) for i in range(2, 5)], _ctx(cfg, ds, adapter), Arm(True))
    df = pd.DataFrame(rows)
    later = df[df.position > 1]
    assert later.proposal_made.all() and not later.proposal_accepted.any()
    assert (later.proposal_y == 0).all()
    # the robot's own first click is user click 1, and nothing is at interaction 0
    assert (df.interaction >= 1).all()
    first = later[later.interaction == 1]
    assert first.is_positive.all() and (first.iou == 1.0).all()


# ------------------------------------------------------------------ NoC 0

def test_noc_zero_when_proposal_suffices():
    ds = square_dataset()
    cfg = _config(max_interactions=3)
    proto = SequentialProtocol(cfg)
    stream = [ds.load(i) for i in (2, 3, 4)]
    rows = proto.run_stream(stream, _ctx(cfg, ds, LearningBrightAdapter()), Arm(True))
    df = pd.DataFrame(rows)
    # position 1: empty bank, no proposal; later positions: accepted, perfect at once
    assert not df[df.position == 1].proposal_made.any()
    prop = df[df.interaction == 0]
    assert list(prop.position) == [2, 3] and (prop.iou == 1.0).all()
    assert (prop.source == "proposal").all() and (prop.step == 1).all()
    off = pd.DataFrame(proto.run_stream(stream, _ctx(cfg, ds, LearningBrightAdapter()), Arm(False)))
    summary = proto.summarize(pd.concat([off, df], ignore_index=True)).to_json()
    assert summary["noc"]["0.90"] == pytest.approx(1 / 3)  # (1 + 0 + 0) / 3
    assert summary["arms"][ARM_OFF]["noc"]["0.90"] == pytest.approx(1.0)
    assert summary["delta_noc"]["0.90"] == pytest.approx(2 / 3)
    assert summary["acceptance_rate"] == pytest.approx(1.0)
    assert summary["proposal_rate"] == pytest.approx(2 / 3)
    assert summary["learning_curve"]["noc"]["0.90"] == [1.0, 0.0, 0.0]
    assert summary["splits"]["without proposals"]["noc"]["0.90"] == pytest.approx(1.0)


def test_stop_at_iou_after_sufficient_proposal_keeps_noc_zero():
    ds = square_dataset()
    cfg = _config(max_interactions=5, stop_at_iou=0.9)
    proto = SequentialProtocol(cfg)
    rows = proto.run_stream([ds.load(i) for i in (2, 3)], _ctx(cfg, ds, LearningBrightAdapter()),
                            Arm(True))
    df = pd.DataFrame(rows)
    assert list(df[df.position == 2].interaction) == [0]  # no user click at all
    summary = proto.summarize(df).to_json()
    assert summary["per_category"]["a"]["noc"]["0.85"] == pytest.approx(0.5)


def test_user_noc_counts_from_zero():
    curves = np.array([[0.0, 0.5, 0.95], [0.9, 0.9, 0.9], [0.0, 0.1, 0.2]])
    assert user_noc(curves, 0.85).tolist() == [2, 0, 2]


# ------------------------------------------------------------------ hooks

def test_hooks_in_stream_order_with_ground_truth_and_ignore():
    ds = square_dataset()
    cfg = _config(max_interactions=2, learn_from="gt")
    proto = SequentialProtocol(cfg)
    stream = [ds.load(i) for i in (0, 2, 1)]  # a0 and a1 share an image
    adapter = LearningBrightAdapter()
    proto.run_stream(stream, _ctx(cfg, ds, adapter), Arm(True))
    learns = [e for e in adapter.log if e[0] == "learn"]
    assert len(learns) == 3
    for (_, cat, mask, clicks), s in zip(learns, stream):
        assert cat == "a" and np.array_equal(mask, s.target)
        assert clicks and clicks[0].is_positive and s.target[clicks[0].y, clicks[0].x]
    proposes = [e for e in adapter.log if e[0] == "propose"]
    assert [p[2] for p in proposes] == [0, 1, 2]  # delta = 1: model after sample n - 1
    # the third sample shares a0's image: a0's annotation is in its ignore mask
    assert np.array_equal(proposes[2][3], stream[0].target)
    assert not proposes[1][3].any()


def test_proposal_ignore_mask_accumulates_over_three_instances_of_one_image():
    # SIIS Sec. 3.2, I <- I u A: the proposal for an instance sees the union of the finished
    # annotations of every earlier instance of the same image, and nothing of other images
    img, masks = _square_image([(2, 2, 8), (2, 20, 8), (20, 2, 8)])
    other, (o,) = _square_image([(25, 25, 10)])
    none = np.zeros((SIZE, SIZE), bool)
    stream = [Sample(img, masks[0], none, "c0", "list", {"category": "c"}),
              Sample(other, o, none, "d0", "list", {"category": "c"}),
              Sample(img, masks[1], none, "c1", "list", {"category": "c"}),
              Sample(img, masks[2], none, "c2", "list", {"category": "c"})]
    cfg = _config(max_interactions=1, learn_from="gt")
    adapter = LearningBrightAdapter()
    SequentialProtocol(cfg).run_stream(stream, _ctx(cfg, ListDataset(stream), adapter),
                                       Arm(True))
    ignores = [e[3] for e in adapter.log if e[0] == "propose"]
    expected = [none, none, masks[0], masks[0] | masks[1]]
    assert len(ignores) == 4
    for got, want in zip(ignores, expected):
        assert np.array_equal(got, want)
    # the union of two 8 x 8 squares: 128 pixels
    assert ignores[3].sum() == 128


def test_learn_from_prediction_passes_final_prediction():
    ds = square_dataset()
    cfg = _config(max_interactions=1, learn_from="prediction")
    proto = SequentialProtocol(cfg)

    class Half(LearningBrightAdapter):
        def predict(self, interactions, prev_prob):  # predicts only the top half row
            out = super().predict(interactions, prev_prob)
            ys = np.nonzero(out.any(1))[0]
            out[ys[len(ys) // 2]:] = 0
            return out

    adapter = Half()
    stream = [ds.load(i) for i in (2, 3)]
    rows = pd.DataFrame(proto.run_stream(stream, _ctx(cfg, ds, adapter), Arm(False)))
    learns = [e for e in adapter.log if e[0] == "learn"]
    assert len(learns) == 2
    for (_, _, mask, _), s in zip(learns, stream):
        assert mask.sum() < s.target.sum() and not (mask & ~s.target).any()
    assert (rows.groupby("position").iou.last() < 1).all()


@pytest.mark.parametrize("delay", [1, 2, 3])
def test_learning_delay(delay):
    ds = square_dataset()
    cfg = _config(max_interactions=1, learn_delay=delay)
    proto = SequentialProtocol(cfg)
    adapter = LearningBrightAdapter()
    stream = [ds.load(i) for i in (2, 3, 4, 0, 1)]
    df = pd.DataFrame(proto.run_stream(stream, _ctx(cfg, ds, adapter), Arm(True)))
    seen = df.groupby("position").learned_samples.first().tolist()
    assert seen == [max(0, n - delay) for n in range(1, 6)]
    proposes = [e[2] for e in adapter.log if e[0] == "propose"]
    assert proposes == seen
    # every sample is learned exactly once (the queue is flushed at the end), in order
    assert sum(1 for e in adapter.log if e[0] == "learn") == 5
    assert df.learn_seconds.notna().all()


def test_invalid_options():
    with pytest.raises(UsageError, match="learn_delay"):
        SequentialProtocol(_config(learn_delay=0))
    with pytest.raises(UsageError, match="unknown"):
        SequentialProtocol(_config(rounds=3))
    with pytest.raises(UsageError, match="learn_from"):
        SequentialProtocol(_config(learn_from="nothing"))


# ------------------------------------------------------------------ independence

def test_without_hooks_equals_single_object_records():
    ds = square_dataset()
    cfg = _config(max_interactions=4, orders=2)
    proto = SequentialProtocol(cfg)
    ctx = _ctx(cfg, ds, BrightAdapter())
    units = proto.units(ds)
    cols = ["sample_id", "interaction", "kind", "is_positive", "y", "x", "iou",
            "corrective_accuracy", "category"]
    for unit in units:
        rows = pd.DataFrame(proto.evaluate(unit, ctx))
        assert set(rows.arm) == {ARM_OFF}  # no proposal hook: one arm only
        ref = pd.DataFrame([r for i in unit.indices for r in run_session(ds.load(i), ctx)])
        pd.testing.assert_frame_equal(rows[cols].reset_index(drop=True), ref[cols])


def test_without_hooks_equals_single_object_random_walker():
    from iseg_bench.adapters.classical import RandomWalkerAdapter
    from iseg_bench.datasets.synthetic_categories import SyntheticCategoriesDataset

    ds = SyntheticCategoriesDataset(seed=1, n_categories=1, per_category=2, size=(64, 80))
    cfg = _config(max_interactions=3, orders=1)
    proto = SequentialProtocol(cfg)
    ctx = _ctx(cfg, ds, RandomWalkerAdapter())
    (unit,) = proto.units(ds)
    rows = pd.DataFrame(proto.evaluate(unit, ctx))
    ref = pd.DataFrame([r for i in unit.indices for r in run_session(ds.load(i), ctx)])
    cols = ["sample_id", "interaction", "y", "x", "is_positive", "iou"]
    pd.testing.assert_frame_equal(rows[cols].reset_index(drop=True), ref[cols])


def test_streams_are_independent_fresh_adapter():
    """A learner without reset_learning is deep-copied per arm: a stream's records do not
    depend on which streams ran before it in the same worker."""
    ds = square_dataset()

    class NoReset(LearningBrightAdapter):
        reset_learning = None

    cfg = _config(max_interactions=2, orders=2)
    proto = SequentialProtocol(cfg)
    units = proto.units(ds)
    ctx = _ctx(cfg, ds, NoReset())
    forward = [pd.DataFrame(proto.evaluate(u, ctx)) for u in units]
    backward = [pd.DataFrame(proto.evaluate(u, ctx)) for u in reversed(units)][::-1]
    cols = ["session", "interaction", "iou", "proposal_accepted", "learned_samples"]
    for a, b in zip(forward, backward):
        pd.testing.assert_frame_equal(a[cols], b[cols])
    assert not ctx.adapter.learned  # the pristine adapter is never taught


def test_reset_learning_called_per_arm():
    ds = square_dataset()
    cfg = _config(max_interactions=1, orders=1)
    proto = SequentialProtocol(cfg)
    adapter = LearningBrightAdapter()
    ctx = _ctx(cfg, ds, adapter)
    for u in proto.units(ds):
        proto.evaluate(u, ctx)
    # 2 categories x 4 arms (Tab. 1: proposals and learning each on and off)
    assert sum(1 for e in adapter.log if e[0] == "reset") == 2 * 4


# ------------------------------------------------------------------ orders

def test_orders_reproducible_from_seed():
    ds = square_dataset()
    units = lambda seed: SequentialProtocol(_config(orders=3, seed=seed)).units(ds)  # noqa: E731
    a, b, c = units(7), units(7), units(8)
    assert [(u.unit_id, u.indices) for u in a] == [(u.unit_id, u.indices) for u in b]
    assert [u.indices for u in a] != [u.indices for u in c]
    assert [u.unit_id for u in a][:2] == ["a/order0", "b/order0"]
    for u in a:  # every stream is a permutation of its category
        cat = u.payload["category"]
        assert sorted(u.indices) == [i for i, r in enumerate(ds.refs) if r.meta["category"] == cat]
    assert np.array_equal(stream_order(10, 3, 1, "x"), stream_order(10, 3, 1, "x"))
    assert np.array_equal(stream_order(10, 3, 1, "x"), stream_order(10, 4, 0, "x"))  # seed + r
    assert sorted(stream_order(10, 3, 1, "x").tolist()) == list(range(10))


def test_limit_and_max_per_category():
    ds = square_dataset()
    proto = SequentialProtocol(_config(orders=1, limit=6, max_per_category=2))
    units = proto.units(ds)
    assert {u.payload["category"]: sorted(u.indices) for u in units} == {"a": [0, 1], "b": [5]}


# ------------------------------------------------------------------ end to end

def test_cli_run_synthetic_serial_equals_workers(tmp_path):
    from click.testing import CliRunner

    from iseg_bench.cli import main

    args = ["run", "--protocol", "sequential", "--model", "color-prior", "--dataset",
            "synthetic-categories", "--dataset-opt", "n_categories=2", "--dataset-opt",
            "per_category=3", "--dataset-opt", "size=[64,80]", "--max-clicks", "3",
            "--orders", "2", "--seed", "5", "--no-progress"]
    runner = CliRunner()
    r1 = runner.invoke(main, args + ["--out", str(tmp_path / "serial")])
    assert r1.exit_code == 0, r1.output
    r2 = runner.invoke(main, args + ["--out", str(tmp_path / "par"), "--workers", "2"])
    assert r2.exit_code == 0, r2.output
    # records.csv holds no timing columns (runs.py): identical serially and in parallel
    a = (tmp_path / "serial" / "records.csv").read_text()
    assert a == (tmp_path / "par" / "records.csv").read_text()
    assert "proposal_accepted" in a.splitlines()[0]
    summary = json.loads((tmp_path / "serial" / "summary.json").read_text())
    for key in ("noc", "nof", "miou", "auc", "seconds_per_click", "delta_noc",
                "acceptance_rate", "learning_curve", "per_category", "arms",
                "learn_seconds_per_sample"):
        assert key in summary
    for plot in ("learning_curve", "noc_per_category", "miou", "acceptance"):
        assert (tmp_path / "serial" / "plots" / f"{plot}.png").is_file()
    report = runner.invoke(main, ["report", str(tmp_path / "serial")])
    assert report.exit_code == 0 and "NoC@85" in report.output
    assert "without proposals" in report.output


def test_figures_are_mean_and_std_over_orders():
    ds = square_dataset()
    cfg = _config(max_interactions=3, orders=3, seed=1)
    proto = SequentialProtocol(cfg)
    ctx = _ctx(cfg, ds, LearningBrightAdapter())
    df = pd.DataFrame([r for u in proto.units(ds) for r in proto.evaluate(u, ctx)])
    summary = proto.summarize(df).to_json()
    on = df[df.arm == ARM_ON]
    first = on.groupby("session").first()
    zero = on[on.interaction == 0].groupby("session").iou.max().reindex(first.index)
    noc = np.where(zero.fillna(0) >= 0.9, 0, 1)  # perfect after one click either way
    per_order = pd.Series(noc, index=first.index).groupby(first.order).mean()
    assert summary["noc"]["0.90"] == pytest.approx(per_order.mean())
    assert summary["noc_std"]["0.90"] == pytest.approx(per_order.std(ddof=0))
    # a position's curve value averages the categories having it, then the orders
    lc = summary["learning_curve"]
    assert lc["position"] == [1, 2, 3, 4, 5] and lc["n_streams"] == [2, 2, 2, 1, 1]
    assert lc["noc"]["0.90"][0] == 1.0  # nothing learned before the first sample
    assert set(summary["per_category"]) == {"a", "b"}


def test_options_are_typed_with_their_defaults():
    from iseg_bench.protocols.sequential import SequentialOptions

    assert SequentialProtocol(_config()).options == SequentialOptions(
        orders=5, learn_from="prediction", learn_delay=1, proposals="both", learning="both",
        learn_stops=(), max_per_category=None)
    o = SequentialProtocol(_config(orders="2", max_per_category="none", proposals="on")).options
    assert (o.orders, o.max_per_category, o.proposals) == (2, None, "on")
    with pytest.raises(UsageError, match="max_per_category must be >= 1"):
        SequentialProtocol(_config(max_per_category=0))
    with pytest.raises(UsageError, match="orders must be >= 1"):
        SequentialProtocol(_config(orders=0))


# ------------------------------------------------------------------ Tab. 1 and Fig. 4a


class CategoryLearner(LearningBrightAdapter):
    """LearningBrightAdapter whose prediction depends on what it learned (it predicts
    nothing after a negative click once its category is learned) and which logs
    set_category."""

    def set_category(self, category):
        self.category = category
        self.log.append(("category", category))

    def predict(self, interactions, prev_prob):
        out = super().predict(interactions, prev_prob)
        if self.learned.get(getattr(self, "category", None)) and len(interactions) > 1:
            out[:] = 0
        return out


def _evaluate(proto, ds, adapter):
    ctx = _ctx(proto.config, ds, adapter)
    return pd.DataFrame([r for u in proto.units(ds) for r in proto.evaluate(u, ctx)])


def test_tab1_switches_both_off_give_the_independent_records():
    ds = square_dataset()
    cfg = _config(max_interactions=3, orders=2, proposals="off", learning="off")
    proto = SequentialProtocol(cfg)
    adapter = CategoryLearner()
    assert [a.name for a in proto.arms(adapter)] == ["no-proposals|no-learning"]
    ctx = _ctx(cfg, ds, adapter)
    cols = ["sample_id", "interaction", "is_positive", "y", "x", "iou", "category"]
    for unit in proto.units(ds):
        rows = pd.DataFrame(proto.evaluate(unit, ctx))
        ref = pd.DataFrame([r for i in unit.indices
                            for r in run_session(ds.load(i), _ctx(cfg, ds, BrightAdapter()))])
        pd.testing.assert_frame_equal(rows[cols].reset_index(drop=True), ref[cols])
        assert rows.learn_seconds.isna().all() and not rows.proposal_made.any()
    assert not any(e[0] in ("learn", "propose") for e in adapter.log)


def test_tab1_four_arms_paired_per_stream():
    ds = square_dataset()
    proto = SequentialProtocol(_config(max_interactions=3, orders=2))
    adapter = CategoryLearner()
    arms = [a.name for a in proto.arms(adapter)]
    assert arms == ["no-proposals|no-learning", "proposals|no-learning", "no-proposals",
                    "proposals"]
    df = _evaluate(proto, ds, adapter)
    # every stream runs every arm, on the same samples in the same order
    for _, g in df.groupby(["category", "order"]):
        orders = {a: list(h.groupby("position").sample_id.first()) for a, h in g.groupby("arm")}
        assert set(orders) == set(arms) and len({tuple(v) for v in orders.values()}) == 1
    no_learning = df[df.arm.str.endswith("no-learning")]
    assert no_learning.learn_seconds.isna().all() and (no_learning.learned_samples == 0).all()
    assert df[~df.arm.str.endswith("no-learning")].learn_seconds.notna().all()
    # set_category precedes every sample's proposal and predictions
    assert sum(1 for e in adapter.log if e[0] == "category") == len(df.session.unique())
    summary = proto.summarize(df).to_json()
    assert summary["main_arm"] == "proposals"
    assert set(summary["tab1"]) == {"a", "b", "c", "d"}
    for key, arm in (("a", "no-proposals|no-learning"), ("d", "proposals")):
        assert summary["tab1"][key]["arm"] == arm
        assert summary["tab1"][key]["noc"] == summary["arms"][arm]["noc"]
    assert summary["tab1"]["b"]["learning"] is False and summary["tab1"]["d"]["learning"]
    assert set(summary["splits"]) == {"without proposals", "with proposals, without learning",
                                      "without proposals, without learning"}


def test_learning_stops_after_m_samples_and_fig4a():
    ds = square_dataset()
    proto = SequentialProtocol(_config(max_interactions=3, orders=1, learning="on",
                                       proposals="off", learn_stops="1,2"))
    adapter = CategoryLearner()
    assert [a.name for a in proto.arms(adapter)] == ["no-proposals", "no-proposals|learn1",
                                                     "no-proposals|learn2"]
    df = _evaluate(proto, ds, adapter)
    for m in (1, 2):
        arm = df[df.arm == f"no-proposals|learn{m}"]
        seen = arm.groupby(["category", "position"]).learned_samples.first()
        assert seen.to_dict() == {k: min(k[1] - 1, m) for k in seen.index}
        taught = arm.groupby(["category", "position"]).learn_seconds.first().notna()
        assert taught.to_dict() == {k: k[1] <= m for k in taught.index}
    summary = proto.summarize(df).to_json()
    curve = summary["learn_stops"]
    assert curve["m"] == [1, 2, None]
    assert curve["arms"] == ["no-proposals|learn1", "no-proposals|learn2", "no-proposals"]
    for i, arm in enumerate(curve["arms"]):
        assert curve["noc"]["0.90"][i] == summary["arms"][arm]["noc"]["0.90"]
    with pytest.raises(UsageError, match="learn_stops"):
        SequentialProtocol(_config(learn_stops="0"))


def test_hookless_adapter_ignores_the_learning_switch():
    proto = SequentialProtocol(_config(learning="both", learn_stops="2"))
    assert [a.name for a in proto.arms(BrightAdapter())] == [ARM_OFF]
    assert Arm.from_name("proposals|learn3") == Arm(True, 3)
    assert Arm.from_name("no-proposals|no-learning") == Arm(False, 0)
    with pytest.raises(ValueError):
        Arm.from_name("proposals|learn0")

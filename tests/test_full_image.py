"""Full-image protocol: annotation maps, multi-region adapters, composition, datasets, runs."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pandas as pd
import pytest

from iseg_bench.adapters.annotation_maps import annotation_maps, paint_scribble, region_boxes
from iseg_bench.adapters.base import Adapter
from iseg_bench.adapters.multi_region import to_region_map
from iseg_bench.adapters.random_walker_multi import RandomWalkerMulti
from iseg_bench.adapters.single_region import SingleRegionComposition, build_multi_region_adapter
from iseg_bench.config import RunConfig
from iseg_bench.datasets.full_image import (
    CocoPanopticFullImageDataset,
    CocoPanopticTrainFullImageDataset,
)
from iseg_bench.datasets.panoptic import encode_segment_ids
from iseg_bench.datasets.synthetic_panoptic import SyntheticPanopticDataset
from iseg_bench.errors import AdapterError, DatasetError, SampleError, UsageError
from iseg_bench.execution import execute
from iseg_bench.protocols.full_image import FullImageProtocol, image_regions
from iseg_bench.types import Click, ExtremePoints, Sample, Scribble

SMALL = {"n_samples": 2, "size": [64, 80]}


# --- annotation maps (Sec. 3.2) ----------------------------------------------------------

def test_annotation_maps_follow_the_paper_convention():
    shape = (40, 50)
    ep = ExtremePoints(np.array([[20, 5], [20, 30], [8, 15], [33, 15]]), region=7)
    sc = Scribble(np.array([[10.0, 35.0], [10.0, 45.0]]), True, 3, region=9)
    pos, neg = annotation_maps([ep, sc], [7, 9], shape)
    # 6-px discs: 3 px either side of the point along the axes
    assert pos[0, 20, 2:9].all() and not pos[0, 20, 1] and not pos[0, 20, 9]
    # 3 px wide horizontal scribble: rows 9..11
    assert pos[1, 9:12, 35:46].all() and not pos[1, 8, 40] and not pos[1, 12, 40]
    assert np.array_equal(neg[0], pos[1]) and np.array_equal(neg[1], pos[0])
    with pytest.raises(SampleError):
        annotation_maps([Scribble(np.zeros((1, 2)), True, 3, region=3)], [7, 9], shape)
    assert region_boxes([ep, sc]) == {7: (8, 5, 33, 30)}


def test_paint_scribble_width():
    m = paint_scribble(np.array([[10.0, 2.0], [10.0, 20.0]]), (21, 25))
    assert m.sum(axis=0)[5:15].tolist() == [3] * 10


def test_to_region_map_validates_and_argmaxes():
    probs = np.zeros((2, 3, 4), np.float32)
    probs[0, :, :2] = 0.6
    probs[1, :, 1:3] = 0.7
    out = to_region_map(probs, [4, 9], (3, 4))
    assert out.tolist() == [[4, 9, 9, 0]] * 3
    again = to_region_map(out, [4, 9], (3, 4))          # an id map passes as it is
    assert again.dtype == np.int32 and again.tolist() == out.tolist()
    for bad in (probs[:1], probs * np.nan, out + 1, out.astype(np.float32)[None].repeat(3, 0),
                [[1]]):
        with pytest.raises(SampleError):
            to_region_map(bad, [4, 9], (3, 4))


# --- composition: the single-region baseline ---------------------------------------------

class Recorder(Adapter):
    """A click-only single-object model that records what it is shown."""

    name = "recorder"
    accepts = frozenset({"click"})

    def __init__(self):
        self.calls = []
        self.shape = None

    def set_image(self, image):
        self.shape = image.shape[:2]

    def predict(self, interactions, prev_prob):
        self.calls.append((self.shape, list(interactions)))
        out = np.zeros(self.shape, np.float32)
        for c in interactions:
            out[max(0, c.y - 1):c.y + 2, max(0, c.x - 1):c.x + 2] = 0.9
        return out


def test_composition_shows_each_region_only_its_own_annotations():
    rec = Recorder()
    comp = SingleRegionComposition(rec, crop_margin=None, scribble_as_click=True)
    comp.set_image(np.zeros((30, 40, 3), np.uint8))
    eps = [ExtremePoints(np.array([[5, 2], [5, 10], [1, 6], [9, 6]]), region=1),
           ExtremePoints(np.array([[20, 20], [20, 38], [15, 30], [28, 30]]), region=2)]
    probs = comp.predict(eps, [1, 2], None)
    assert probs.shape == (2, 30, 40) and len(rec.calls) == 2
    for (_, inters), rid in zip(rec.calls, [1, 2]):
        assert len(inters) == 4 and all(isinstance(c, Click) and c.is_positive and
                                        c.region == rid for c in inters)
    # a scribble for region 2 only re-runs region 2, converted to one click (click-only model)
    sc = Scribble(np.array([[22.0, 22.0], [22.0, 26.0], [24.0, 30.0]]), True, 3, region=2)
    probs2 = comp.predict(eps + [sc], [1, 2], None)
    assert len(rec.calls) == 3 and len(rec.calls[-1][1]) == 5
    assert rec.calls[-1][1][-1] == Click(22, 26, True, 2)
    assert np.array_equal(probs2[0], probs[0])


def test_composition_crops_to_the_box_with_a_margin():
    rec = Recorder()
    comp = SingleRegionComposition(rec, crop_margin=0.1, min_margin=3, scribble_as_click=True)
    comp.set_image(np.zeros((60, 80, 3), np.uint8))
    ep = ExtremePoints(np.array([[30, 20], [30, 40], [20, 30], [40, 30]]), region=5)
    probs = comp.predict([ep], [5], None)
    # box rows 20..40, cols 20..40 -> margin max(3, 0.1 * 21) = 3 -> crop 17..43 x 17..43
    assert rec.calls[0][0] == (27, 27)
    assert rec.calls[0][1][0] == Click(13, 3, True, 5)   # (30, 20) shifted by (17, 17)
    assert probs[0, 30, 20] == pytest.approx(0.9) and probs[0, :17].max() == 0


def test_composition_refuses_a_click_only_model_unless_scribbles_may_become_clicks():
    with pytest.raises(AdapterError, match="scribble_as_click=true"):
        SingleRegionComposition(Recorder())
    comp = SingleRegionComposition(Recorder(), scribble_as_click=True)
    info = comp.describe()
    assert info["scribble_as_click"] is True
    assert info["converted"] == {"extreme_points": "clicks", "scribble": "clicks"}
    rw = build_multi_region_adapter("random-walker")          # accepts scribbles
    assert rw.describe()["converted"] == {"extreme_points": "clicks"}
    with pytest.raises(AdapterError, match="multi-region model"):
        build_multi_region_adapter("random-walker-multi", scribble_as_click=True)


def test_build_multi_region_adapter_composes_single_object_models():
    assert isinstance(build_multi_region_adapter("random-walker-multi"), RandomWalkerMulti)
    comp = build_multi_region_adapter("random-walker", crop_margin=0.2, max_side=64)
    assert isinstance(comp, SingleRegionComposition) and comp.crop_margin == 0.2
    assert comp.adapter.max_side == 64


def test_random_walker_multi_separates_two_flat_regions():
    image = np.zeros((40, 60, 3), np.uint8)
    image[:, 30:] = 200
    target = np.ones((40, 60), np.int32)
    target[:, 30:] = 2
    eps = [ExtremePoints(np.array([[20, 0], [20, 29], [0, 15], [39, 15]]), region=1),
           ExtremePoints(np.array([[20, 30], [20, 59], [0, 45], [39, 45]]), region=2)]
    rw = RandomWalkerMulti()
    rw.set_image(image)
    pred = to_region_map(rw.predict(eps, [1, 2], None), [1, 2], (40, 60))
    assert (pred == target).mean() > 0.98


def test_random_walker_multi_restricts_each_region_to_its_extreme_point_box():
    rng = np.random.default_rng(0)
    image = rng.integers(0, 255, (30, 40, 3)).astype(np.uint8)
    eps = [ExtremePoints(np.array([[5, 2], [5, 12], [2, 7], [9, 7]]), region=3),
           ExtremePoints(np.array([[20, 10], [20, 38], [12, 25], [28, 25]]), region=7)]
    boxes = {3: (2, 2, 9, 12), 7: (12, 10, 28, 38)}
    free, boxed = RandomWalkerMulti(box=False), RandomWalkerMulti()
    for rw in (free, boxed):
        rw.set_image(image)
    p_free, p_box = free.predict(eps, [3, 7], None), boxed.predict(eps, [3, 7], None)
    for k, rid in enumerate([3, 7]):
        y0, x0, y1, x1 = boxes[rid]
        inside = np.zeros((30, 40), bool)
        inside[y0:y1 + 1, x0:x1 + 1] = True
        assert (p_box[k][~inside] == 0).all()
        assert np.array_equal(p_box[k][inside], p_free[k][inside])
        assert (p_free[k][~inside] > 0).any()     # the walk alone spreads beyond the box
    pred = to_region_map(p_box, [3, 7], (30, 40))
    assert (pred[:12, 13:] == 0).all()            # covered by no box: no region


# --- datasets ----------------------------------------------------------------------------

def test_synthetic_panoptic_is_deterministic_and_well_formed():
    ds = SyntheticPanopticDataset(seed=3, n_samples=4, size=(64, 80), crowd=1.0)
    for i in range(len(ds)):
        a, b = ds.load(i), ds.load(i)
        assert np.array_equal(a.image, b.image) and np.array_equal(a.target, b.target)
        assert a.target.dtype == np.int32 and a.ignore.dtype == bool
        assert ((a.target == 0) == a.ignore).all()
        ids, info = image_regions(a)
        assert set(ids) == set(a.meta["regions"])
        assert {v["is_thing"] for v in info.values()} == {True, False}
    assert not np.array_equal(ds.load(0).image, ds.load(1).image)


def write_coco_panoptic_fixture(root, split="val2017"):
    base = root / "COCO_panoptic"
    (base / split).mkdir(parents=True)
    (base / f"panoptic_{split}").mkdir()
    (base / "annotations").mkdir()
    seg = np.zeros((16, 20), np.int64)
    seg[:, :10] = 1000          # stuff
    seg[:, 10:] = 2001          # thing
    seg[2:6, 2:6] = 3002        # crowd
    seg[14:, 18:] = 0           # unlabelled
    cv2.imwrite(str(base / f"panoptic_{split}" / "000001.png"),
                cv2.cvtColor(encode_segment_ids(seg), cv2.COLOR_RGB2BGR))
    cv2.imwrite(str(base / split / "000001.jpg"), np.full((16, 20, 3), 128, np.uint8))
    js = {"images": [{"id": 1, "file_name": "000001.jpg", "height": 16, "width": 20}],
          "annotations": [{"image_id": 1, "file_name": "000001.png", "segments_info": [
              {"id": 1000, "category_id": 184, "iscrowd": 0, "area": 144},
              {"id": 2001, "category_id": 1, "iscrowd": 0, "area": 156},
              {"id": 3002, "category_id": 1, "iscrowd": 1, "area": 16}]}],
          "categories": [{"id": 1, "name": "person", "isthing": 1},
                         {"id": 184, "name": "tree-merged", "isthing": 0}]}
    (base / "annotations" / f"panoptic_{split}.json").write_text(json.dumps(js))


def test_panoptic_fixture_decodes_as_a_full_image_sample(tmp_path):
    write_coco_panoptic_fixture(tmp_path)
    ds = CocoPanopticFullImageDataset.from_root(tmp_path)
    assert len(ds) == 1
    s = ds.load(0)
    assert s.sample_id == "000001" and s.target.dtype == np.int32
    assert s.meta["regions"][1]["category"] == "tree-merged"
    assert s.meta["regions"][1]["is_thing"] is False
    assert s.meta["regions"][2]["is_thing"] is True
    assert (s.target[2:6, 2:6] == 0).all() and s.ignore[2:6, 2:6].all()   # crowd ignored
    assert s.ignore[14:, 18:].all() and s.ignore.sum() == 16 + 4
    assert (s.target[8, :10] == 1).all() and (s.target[8, 10:18] == 2).all()
    ids, _ = image_regions(s)
    assert ids == [1, 2]


def test_the_train_split_loader_reads_train2017_and_not_val2017(tmp_path):
    write_coco_panoptic_fixture(tmp_path, "train2017")
    train = CocoPanopticTrainFullImageDataset.from_root(tmp_path)
    s = train.load(0)
    assert len(train) == 1 and s.dataset == "coco-panoptic-train-full"
    assert image_regions(s)[0] == [1, 2] and s.meta["regions"][2]["is_thing"] is True
    with pytest.raises(DatasetError, match="coco-panoptic-full"):
        CocoPanopticFullImageDataset.from_root(tmp_path)     # no val2017 there


# --- the protocol, end to end ------------------------------------------------------------

def run(tmp_path, name, model="random-walker-multi", **opts):
    cfg = RunConfig(model=model, dataset="synthetic-panoptic", protocol="full-image",
                    seed=4, dataset_options=dict(SMALL),
                    model_options={"max_side": 64},
                    protocol_options={"rounds": 2, **opts})
    outcome = execute(cfg, tmp_path / name, progress=False)
    return outcome, pd.read_csv(tmp_path / name / "records.csv")


@pytest.mark.parametrize("allocation", ["free", "per-region"])
def test_random_walker_multi_runs_end_to_end(tmp_path, allocation):
    outcome, rec = run(tmp_path, allocation, allocation=allocation)
    assert outcome.n_failed == 0 and outcome.n_ok == 2
    s = outcome.summary
    assert s["allocation"] == allocation and s["curve"]["round"] == [0, 1, 2]
    assert s["curve"]["scribbles_per_region"][0] == 0
    assert len(s["miou"]) == 2 and set(s["scribbles_to_reach"]) == {"0.85", "0.88", "0.90"}
    assert set(s["splits"]) == {"thing", "stuff"}
    n_regions = rec[rec["round"] == 0].groupby("sample_id").size()
    given = rec.groupby(["sample_id", "round"])["scribbles_round"].sum().unstack()
    if allocation == "free":     # exactly one scribble per region per round on average
        assert (given[1] == n_regions).all() and (given[2] == n_regions).all()
    else:
        assert (rec.loc[rec["round"] > 0, "scribbles_round"] <= 1).all()
    for f in ("fig5_curve.png", "fig5_curve.csv", "fig5_curve.md"):
        assert (outcome.out_dir / "plots" / f).exists()


def test_composed_random_walker_runs_and_is_deterministic(tmp_path):
    a, rec_a = run(tmp_path, "a", model="random-walker")
    b, rec_b = run(tmp_path, "b", model="random-walker")
    assert a.n_failed == 0
    cols = ["sample_id", "region", "round", "iou", "scribbles", "annotation"]
    pd.testing.assert_frame_equal(rec_a[cols], rec_b[cols])


def test_single_object_dataset_is_refused_per_image():
    s = Sample(np.zeros((8, 8, 3), np.uint8), np.ones((8, 8), bool), np.zeros((8, 8), bool),
               "x")
    with pytest.raises(SampleError, match="region-id map"):
        image_regions(s)
    with pytest.raises(UsageError, match="protocol full-image: unknown option.*orders"):
        FullImageProtocol(RunConfig(model="m", dataset="d", protocol="full-image",
                                    protocol_options={"orders": 3}))


def test_report_rows_and_plot_from_a_summary(tmp_path):
    from iseg_bench.protocols.full_image_figures import region_curve
    from iseg_bench.reports.full_image import fig5_plot
    from iseg_bench.reports.tables import summary_frame

    rows = []
    for rnd, ious in enumerate([(0.5, 0.7), (0.8, 0.9), (0.9, 0.95)]):
        for region, (v, thing) in enumerate(zip(ious, (True, False)), start=1):
            rows.append({"sample_id": "a", "region": region, "round": rnd, "iou": v,
                         "scribbles": rnd * region, "is_thing": thing})
    s = region_curve(pd.DataFrame(rows), (0.85, 0.88, 0.90)).to_json()
    assert s["curve"]["miou"] == pytest.approx([0.6, 0.85, 0.925])
    assert s["curve"]["scribbles_per_region"] == [0, 1.5, 3.0]
    assert s["scribbles_to_reach"] == {"0.85": 1.5, "0.88": 3.0, "0.90": 3.0}
    assert s["rounds_to_reach"]["0.85"] == 1 and s["miou_extreme_points"] == 0.6
    s.update(protocol="full-image", model="m", dataset="d", allocation="free", n_samples=1)
    frame = summary_frame([s])
    assert frame.loc[0, "S@85"] == 1.5 and frame.loc[0, "mIoU X-pts"] == 0.6
    assert fig5_plot([s], ["m"], tmp_path / "f.png").stat().st_size > 0


def test_protocol_options_are_typed_and_checked():
    from iseg_bench.protocols.full_image import FullImageOptions

    def proto(**opts):
        return FullImageProtocol(RunConfig(model="m", dataset="d", protocol="full-image",
                                           protocol_options=opts))

    o = proto(rounds="3", reach_thresholds="0.8,0.9", allocation="per-region").options
    assert o == FullImageOptions(allocation="per-region", rounds=3, reach_thresholds=(0.8, 0.9))
    assert FullImageProtocol.options_class is FullImageOptions
    with pytest.raises(UsageError, match="rounds must be >= 0"):
        proto(rounds=-1)
    with pytest.raises(UsageError, match="allocation must be one of"):
        proto(allocation="greedy")
    with pytest.raises(UsageError, match="tries must be an integer"):
        proto(tries="2.5")
    with pytest.raises(UsageError, match="budget_per_region must be positive"):
        proto(budget_per_region=0)
    with pytest.raises(UsageError, match="tolerance must be >= 0"):
        proto(tolerance=-1)

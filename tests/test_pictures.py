"""`show` and `gallery`: the drawn clicks sit where the records say, the replayed
predictions are the recorded ones, the worst samples are the worst; the paper-quality plot
conventions (integer ticks, fixed y, NoC lines, legend below, PNG/PDF/SVG)."""

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from PIL import Image
from scipy import ndimage

from iseg_bench.cli import main
from iseg_bench.errors import UsageError
from iseg_bench.reports import single_object
from iseg_bench.reports.gallery import worst_samples
from iseg_bench.reports.pictures import draw_panel
from iseg_bench.reports.plots import new_axes, save_figure
from iseg_bench.reports.replay import replay
from iseg_bench.types import Click, Scribble


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def render(image, target, pred, interactions):
    """The panel drawn at one canvas pixel per image pixel: (H, W, 3) uint8."""
    import matplotlib.pyplot as plt

    h, w = target.shape
    fig = plt.figure(figsize=(w / 100, h / 100), dpi=100)
    ax = fig.add_axes((0, 0, 1, 1))
    draw_panel(ax, image, target, pred, interactions, iou=None)
    fig.canvas.draw()
    rgb = np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()
    plt.close(fig)
    assert rgb.shape == (h, w, 3)
    return rgb


def blob_centroids(mask):
    labels, n = ndimage.label(mask)
    return sorted(ndimage.center_of_mass(mask, labels, range(1, n + 1)))


def test_drawn_clicks_sit_at_their_pixels():
    h, w = 200, 300
    image = np.zeros((h, w, 3), np.uint8)
    target = np.zeros((h, w), bool)
    target[40:160, 40:200] = True
    pred = np.zeros((h, w), bool)
    pred[60:140, 50:180] = True
    clicks = [Click(50, 60, True), Click(150, 220, True), Click(100, 250, False),
              Click(20, 30, False)]
    rgb = render(image, target, pred, clicks).astype(int)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    green = (g > 200) & (r < 80) & (b < 80)
    red = (r > 200) & (g < 80) & (b < 80)
    for mask, expected in ((green, [(50, 60), (150, 220)]), (red, [(20, 30), (100, 250)])):
        found = blob_centroids(mask)
        assert len(found) == len(expected)
        for (cy, cx), (y, x) in zip(found, sorted(expected)):
            assert abs(cy - y) <= 1.0 and abs(cx - x) <= 1.0


def test_strokes_are_drawn_along_their_points():
    h, w = 120, 160
    stroke = Scribble(np.array([[20.0, 20.0], [20.0, 140.0]]), False, 3)
    rgb = render(np.zeros((h, w, 3), np.uint8), np.zeros((h, w), bool), None, [stroke])
    red = (rgb[..., 0] > 200) & (rgb[..., 1] < 80)
    ys, xs = np.nonzero(red)
    assert abs(ys.mean() - 20) <= 1 and xs.min() <= 22 and xs.max() >= 138


@pytest.fixture(scope="module")
def grabcut_run(data_root, tmp_path_factory):
    out = tmp_path_factory.mktemp("pictures") / "run"
    res = invoke("run", "--model", "grabcut", "--dataset", "grabcut", "--data-root", data_root,
                 "--limit", 3, "--max-clicks", 3, "--out", out, "--no-progress")
    assert res.exit_code == 0, res.output
    return out


def test_replay_gives_the_recorded_predictions(grabcut_run):
    records = pd.read_csv(grabcut_run / "records.csv", dtype={"sample_id": str})
    sid = records["sample_id"].iloc[0]
    rep = replay(grabcut_run, sid)
    rows = records[records.sample_id == sid]
    assert [(c.y, c.x, c.is_positive) for c in rep.interactions] == list(
        zip(rows.y, rows.x, rows.is_positive))
    assert rep.masks.shape == (3, *rep.sample.shape)
    np.testing.assert_allclose(rep.replayed_iou, rows.iou.to_numpy(), rtol=0, atol=1e-12)
    assert rep.mismatch == 0.0


def test_show_and_gallery_write_pictures(grabcut_run, tmp_path):
    records = pd.read_csv(grabcut_run / "records.csv", dtype={"sample_id": str})
    sid = records["sample_id"].iloc[1]
    strip = tmp_path / "strip.png"
    res = invoke("show", grabcut_run, sid, "--interaction", "1,3", "-o", strip)
    assert res.exit_code == 0, res.output
    assert Image.open(strip).size[0] > 2 * Image.open(strip).size[1]   # two panels side by side
    bad = invoke("show", grabcut_run, sid, "--interaction", "4", "-o", tmp_path / "x.png")
    assert bad.exit_code == 2 and "has 3 interactions" in bad.output
    grid = tmp_path / "worst.svg"
    res = invoke("gallery", grabcut_run, "--worst", 2, "--at", 2, "-o", grid)
    assert res.exit_code == 0, res.output
    assert grid.read_text().lstrip().startswith("<?xml")
    assert (tmp_path / "worst-curves.svg").exists()


def test_worst_samples_are_the_lowest_iou_and_highest_noc(grabcut_run):
    records = pd.read_csv(grabcut_run / "records.csv", dtype={"sample_id": str})
    at2 = records[records.interaction == 2].set_index("sample_id")["iou"]
    chosen = worst_samples(grabcut_run, 2, at=2)
    assert list(chosen.sample_ids) == list(at2.sort_values(kind="stable").index[:2])
    # NoC@t by hand: first interaction with IoU >= t, else the cap (3)
    t = 0.95
    noc = {sid: next((int(k) for k, v in zip(g.interaction, g.iou) if v >= t), 3)
           for sid, g in records.groupby("sample_id")}
    by_noc = worst_samples(grabcut_run, 3, by="noc", threshold=t)
    assert [noc[s] for s in by_noc.sample_ids] == sorted(noc.values(), reverse=True)


SUMMARY = {"model": "m", "dataset": "davis", "robot": "clicker", "interaction": "click",
           "miou": [0.5, 0.7, 0.8, 0.85], "noc": {"0.85": 3.0, "0.90": 4.0},
           "proportion_above": {"1": {"0.90": 0.1, "0.95": 0.0},
                                "4": {"0.90": 0.5, "0.95": 0.2}},
           "corrective_accuracy": [0.9, None, 0.5, 0.4], "corrective_accuracy_n": [5, 0, 4, 3]}


@pytest.fixture
def kept(monkeypatch):
    """The figures the plot functions would save."""
    figures = []
    monkeypatch.setattr(single_object, "save_figure", lambda fig, path: figures.append(fig))
    return figures


def test_miou_plot_has_integer_ticks_fixed_y_noc_lines_title_and_legend_below(kept):
    single_object.miou_curves([SUMMARY], ["m / davis"], "unused.png")
    ax = kept[0].axes[0]
    assert all(float(t).is_integer() for t in ax.get_xticks())
    assert ax.get_ylim() == (0, 1)
    levels = sorted(line.get_ydata()[0] for line in ax.get_lines() if line.get_ls() == "--")
    assert levels == [0.85, 0.90]
    assert "davis" in ax.get_title()
    kept[0].canvas.draw()
    renderer = kept[0].canvas.get_renderer()
    assert ax.get_legend().get_window_extent(renderer).y1 < ax.get_window_extent(renderer).y0


def test_proportion_plot_says_what_k_is_and_corrective_plot_shows_counts(kept):
    single_object.proportion_plot(SUMMARY, "unused.png")
    single_object.corrective_plot(SUMMARY, "unused.png")
    prop, corr = (fig.axes[0] for fig in kept)
    assert "after k clicks" in prop.get_title()
    assert [t.get_text() for t in prop.get_legend().get_texts()] == ["k = 1 click",
                                                                      "k = 4 clicks"]
    assert [t.get_text() for t in corr.texts] == ["5", "4", "3"]   # no count where no value


def test_figures_are_written_by_suffix(tmp_path):
    for suffix, head in ((".pdf", b"%PDF"), (".svg", b"<?xml"), (".png", b"\x89PNG")):
        fig, ax = new_axes()
        ax.plot([1, 2], [0, 1])
        path = save_figure(fig, tmp_path / f"f{suffix}")
        assert path.read_bytes()[:len(head)] == head
    assert Image.open(tmp_path / "f.png").info["dpi"] == pytest.approx((300, 300), abs=0.1)
    fig, _ = new_axes()
    with pytest.raises(UsageError, match=r"\.png, \.pdf, \.svg"):
        save_figure(fig, tmp_path / "f.jpg")

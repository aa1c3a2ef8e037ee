"""IoU with ignore, error components, stroke rasterising and the corrective-click meter."""

import numpy as np
import pytest

from iseg_bench.errors import SampleError
from iseg_bench.geometry import component_at, interaction_error_region, rasterize_stroke
from iseg_bench.masks import deterministic_opencv, disk, iou
from iseg_bench.robots.corrective import corrective_accuracy
from iseg_bench.types import Click, Scribble


def test_iou_excludes_ignored_pixels_from_intersection_and_union():
    target = np.array([[1, 1, 0, 0]], bool)
    pred = np.array([[1, 0, 1, 1]], bool)
    assert iou(target, pred, np.zeros_like(target)) == pytest.approx(1 / 4)
    ignore = np.array([[0, 0, 0, 1]], bool)
    assert iou(target, pred, ignore) == pytest.approx(1 / 3)


def test_empty_union_is_an_error_not_nan():
    z = np.zeros((3, 3), bool)
    with pytest.raises(SampleError, match="^empty union: the target and the prediction are "
                                          "both empty outside the ignore mask$"):
        iou(z, z, z)


def test_disk_holds_the_pixels_whose_centre_is_within_the_radius():
    # radius 1 around (2, 2): the centre and its 4 neighbours (diagonals are sqrt 2 away)
    assert np.argwhere(disk((5, 5), 2, 2, 1)).tolist() == [[1, 2], [2, 1], [2, 2], [2, 3],
                                                          [3, 2]]
    # radius 1.5 takes the diagonals too: the 3 x 3 block; clipped at the image corner
    assert disk((5, 5), 2, 2, 1.5).sum() == 9
    assert np.argwhere(disk((5, 5), 0, 0, 1)).tolist() == [[0, 0], [0, 1], [1, 0]]
    # an off-grid centre (0.5, 0.5) with radius 0.75: the four pixels around it
    assert np.argwhere(disk((3, 4), 0.5, 0.5, 0.75)).tolist() == [[0, 0], [0, 1], [1, 0],
                                                                 [1, 1]]


def test_deterministic_opencv_switches_ipp_off_inside_and_restores_it():
    import cv2

    before = cv2.ipp.useIPP()
    for outer in (True, False):
        cv2.ipp.setUseIPP(outer)
        with deterministic_opencv() as ctx:
            assert isinstance(ctx, deterministic_opencv)
            assert cv2.ipp.useIPP() is False
        assert cv2.ipp.useIPP() is outer
    cv2.ipp.setUseIPP(before)
    # an exception inside the block is not swallowed
    with pytest.raises(KeyError), deterministic_opencv():
        raise KeyError("x")


@pytest.mark.parametrize("ipp", [None, object()])
def test_deterministic_opencv_is_a_no_op_without_an_ipp_switch(monkeypatch, ipp):
    import cv2

    if ipp is None:
        monkeypatch.delattr(cv2, "ipp")             # an OpenCV build without IPP
    else:
        monkeypatch.setattr(cv2, "ipp", ipp)         # an ipp module without setUseIPP
    with deterministic_opencv() as ctx:
        assert ctx._ipp is None and ctx._old is None


def test_component_at_is_8_connected():
    m = np.eye(4, dtype=bool)
    assert component_at(m, 0, 0).sum() == 4
    assert component_at(m, 0, 0, connectivity=4).sum() == 1
    assert not component_at(m, 0, 1).any()


def test_rasterize_stroke_width_and_single_point():
    line = rasterize_stroke(np.array([[5.0, 2.0], [5.0, 12.0]]), 3, (11, 15))
    assert line[:, 7].sum() == 3 and line[4:7, 7].all()
    dot = rasterize_stroke(np.array([[3.0, 3.0]]), 3, (7, 7))
    assert dot[3, 3] and dot.sum() == 5   # a radius-1 disk


def test_corrective_accuracy_is_share_of_the_clicked_error_component_fixed():
    target = np.zeros((6, 10), bool)
    target[1:5, 1:4] = True          # FN component A: 12 px (clicked)
    target[1:5, 6:9] = True          # FN component B: 12 px (elsewhere)
    prev = np.zeros_like(target)
    new = np.zeros_like(target)
    new[1:5, 1:3] = True             # fixes 8 of A's 12 pixels
    new[1:5, 6:9] = True             # fixing B must not count
    click = Click(2, 2, True)
    ign = np.zeros_like(target)
    assert interaction_error_region(target, ign, prev, click).sum() == 12
    assert corrective_accuracy(target, ign, prev, new, click) == pytest.approx(8 / 12)


def test_corrective_accuracy_of_a_negative_click_uses_fp_and_nan_outside_errors():
    target = np.zeros((5, 5), bool)
    prev = np.zeros_like(target)
    prev[0:2, 0:2] = True            # FP component of 4 px
    new = np.zeros_like(target)      # all fixed
    ign = np.zeros_like(target)
    assert corrective_accuracy(target, ign, prev, new, Click(0, 0, False)) == 1.0
    assert np.isnan(corrective_accuracy(target, ign, prev, new, Click(4, 4, False)))
    # a positive click on an FP pixel touches no FN: undefined
    assert np.isnan(corrective_accuracy(target, ign, prev, new, Click(0, 0, True)))


def test_corrective_accuracy_of_a_scribble_covers_every_component_it_touches():
    target = np.zeros((5, 12), bool)
    target[:, 0:3] = True            # FN component 1 (15 px)
    target[:, 5:8] = True            # FN component 2 (15 px)
    target[:, 10:12] = True          # FN component 3, not touched
    prev = np.zeros_like(target)
    new = target.copy()
    new[:, 5:8] = False              # component 2 still wrong
    stroke = Scribble(np.array([[2.0, 1.0], [2.0, 6.0]]), True, thickness=1)
    ign = np.zeros_like(target)
    assert interaction_error_region(target, ign, prev, stroke).sum() == 30
    assert corrective_accuracy(target, ign, prev, new, stroke) == pytest.approx(0.5)

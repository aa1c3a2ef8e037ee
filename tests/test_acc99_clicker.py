"""The 99% network's released robot (``acc99-clicker``) against hand cases and against a
test-only transcription of the release's ``interaction.robot_click`` (MarcoForte/
DeepInteractiveSegmentation, commit ddd7426), written for this test from reading it."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from iseg_bench.geometry import largest_error_region
from iseg_bench.robots.acc99_clicker import Acc99Clicker
from iseg_bench.robots.registry import build_robot
from iseg_bench.types import Click


def _released_robot_click(pred: np.ndarray, gt: np.ndarray) -> tuple[int, int, int]:
    """(y, x, category) as robot_click: category 0 = background (negative), 1 = foreground.
    gt: float, 0 / 1 labelled, other values unlabelled."""
    largest = []
    for val in (0, 1):
        wrong = ((gt == val) & (pred != val)).astype(np.uint8)
        _, labels = cv2.connectedComponents(wrong * 255)
        ids, counts = np.unique(labels[labels != 0], return_counts=True)
        largest.append(labels == ids[np.argmax(counts)] if len(counts) else np.zeros_like(wrong))
    cat = int(np.argmax([np.count_nonzero(m) for m in largest]))
    region = largest[cat]
    if not region.any():
        return -1, -1, cat
    padded = np.pad(region.astype(np.uint8), 1)
    dist = cv2.distanceTransform(padded * 255, cv2.DIST_L2, 0)[1:-1, 1:-1]
    y, x = np.unravel_index(dist.argmax(), dist.shape)
    return int(y), int(x), cat


def test_registered_and_no_options():
    robot = build_robot("acc99-clicker")
    assert isinstance(robot, Acc99Clicker) and robot.describe() == {"name": "acc99-clicker"}


def test_equal_sizes_fp_wins_and_deepest_point():
    target = np.zeros((9, 12), bool)
    target[1:4, 1:4] = True  # FN 3 x 3 (prediction empty there)
    pred = np.zeros_like(target)
    pred[5:8, 7:10] = True  # FP 3 x 3
    click = Acc99Clicker().next_interaction(target, np.zeros_like(target), pred, [])
    assert click == Click(6, 8, False)  # FP on equal sizes; its centre
    # the reference rule (FN first) picks the other one
    region = largest_error_region(target, np.zeros_like(target), pred, order="label")
    assert region is not None and region.is_positive


def test_clicked_pixels_are_not_excluded():
    target = np.zeros((7, 7), bool)
    target[1:6, 1:6] = True
    pred = np.zeros_like(target)
    robot = Acc99Clicker()
    first = robot.next_interaction(target, np.zeros_like(target), pred, [])
    again = robot.next_interaction(target, np.zeros_like(target), pred, [first])
    assert first == again == Click(3, 3, True)


def test_no_error_clicks_the_last_pixel_negatively():
    t = np.zeros((4, 5), bool)
    t[1:3, 1:3] = True
    assert Acc99Clicker().next_interaction(t, np.zeros_like(t), t, []) == Click(3, 4, False)


@pytest.mark.parametrize("seed", range(40))
def test_matches_the_released_robot(seed):
    rng = np.random.default_rng(seed)
    h, w = rng.integers(8, 40, 2)
    smooth = cv2.GaussianBlur(rng.random((h, w)), (0, 0), 2.0)
    target = smooth > np.median(smooth)
    pred = cv2.GaussianBlur(rng.random((h, w)), (0, 0), 1.5) > 0.5
    ignore = rng.random((h, w)) < (0.1 if seed % 2 else 0.0)
    gt = np.where(ignore, 0.5, target.astype(float))  # unlabelled pixels are neither 0 nor 1
    y, x, cat = _released_robot_click(pred, gt)
    click = Acc99Clicker().next_interaction(target, ignore, pred, [])
    assert (click.y, click.x, click.is_positive) == (y % h, x % w, cat == 1)


def test_equal_fn_regions_go_by_opencv_label_not_raster_order():
    # two FN regions of 2 px: A at (0, 5)-(0, 6) comes first in raster order, B at
    # (1, 0)-(1, 1) gets OpenCV label 1 (its 2 x 2 block scan starts at (0, 0)); the
    # released robot takes the lower label, B, at its first deepest pixel (1, 0)
    target = np.zeros((6, 10), bool)
    target[0, 5:7] = True
    target[1, 0:2] = True
    none = np.zeros_like(target)
    assert Acc99Clicker().next_interaction(target, none, none, []) == Click(1, 0, True)

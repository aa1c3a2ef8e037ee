"""Pictures of interactions: an image with its ground-truth contour, the prediction and
every interaction so far (``iseg-bench show``; docs/reports.md, "Pictures").

Colours (ours; the papers' figures use the same convention of green for foreground and red
for background clicks): ``POSITIVE`` pure green, ``NEGATIVE`` pure red, extreme points as
``POSITIVE`` diamonds; ground truth a ``GT_COLOUR`` (yellow) contour at ``GT_WIDTH`` pt;
prediction a ``PRED_COLOUR`` (blue) overlay of opacity ``PRED_ALPHA`` (0.45); clicks are
discs of ``CLICK_SIZE`` (9) pt with a black edge, strokes their centre line ``STROKE_WIDTH``
(2.5) pt wide. There is no box interaction in the toolkit, so none is drawn.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from iseg_bench.reports.plots import new_axes_grid
from iseg_bench.reports.replay import Replay
from iseg_bench.types import Click, ExtremePoints, Interaction, Scribble

POSITIVE = (0.0, 1.0, 0.0)
NEGATIVE = (1.0, 0.0, 0.0)
GT_COLOUR = (1.0, 1.0, 0.0)
GT_WIDTH = 1.5
PRED_COLOUR = (0.12, 0.47, 1.0)
PRED_ALPHA = 0.45
CLICK_SIZE = 9.0
STROKE_WIDTH = 2.5
#: height of one picture panel in inches
PANEL_HEIGHT = 3.5


def draw_interaction(ax: Axes, inter: Interaction) -> None:
    """Draw one interaction on image axes (x = column, y = row, in pixels)."""
    colour = POSITIVE if inter.is_positive else NEGATIVE
    if isinstance(inter, Click):
        ax.plot([inter.x], [inter.y], "o", ms=CLICK_SIZE, mfc=colour, mec="black", mew=0.8,
                gid="click")
    elif isinstance(inter, Scribble):
        pts = inter.points
        ax.plot(pts[:, 1], pts[:, 0], "-", color=colour, lw=STROKE_WIDTH,
                solid_capstyle="round", marker="o" if len(pts) == 1 else None,
                ms=STROKE_WIDTH, gid="scribble")
    elif isinstance(inter, ExtremePoints):
        ax.plot(inter.points[:, 1], inter.points[:, 0], "D", ms=CLICK_SIZE * 0.8, mfc=colour,
                mec="black", mew=0.8, ls="none", gid="extreme_points")


def draw_panel(ax: Axes, image: np.ndarray, target: np.ndarray, pred: np.ndarray | None,
               interactions: Sequence[Interaction], iou: float | None,
               title: str | None = None) -> None:
    """Draw an image, its ground-truth contour, the prediction and the interactions.

    Args:
        ax: axes to draw on (their frame and ticks are turned off).
        image: (H, W, 3) uint8 RGB.
        target: (H, W) bool ground truth.
        pred: (H, W) bool prediction, or None for none.
        interactions: drawn in order (later ones on top).
        iou: written in the upper left corner as "IoU 0.873" when given.
        title: the panel title.
    """
    h, w = target.shape
    ax.imshow(image, interpolation="nearest")
    if pred is not None and pred.any():
        overlay = np.zeros((h, w, 4), np.float32)
        overlay[pred] = (*PRED_COLOUR, PRED_ALPHA)
        ax.imshow(overlay, interpolation="nearest")
    if target.any() and not target.all():
        ax.contour(target.astype(np.float32), levels=[0.5], colors=[GT_COLOUR],
                   linewidths=GT_WIDTH)
    for inter in interactions:
        draw_interaction(ax, inter)
    if iou is not None:
        ax.text(0.02, 0.98, f"IoU {iou:.3f}", transform=ax.transAxes, va="top", ha="left",
                fontsize=9, color="white", bbox={"facecolor": "black", "alpha": 0.6,
                                                 "pad": 2, "edgecolor": "none"})
    ax.set_xlim(-0.5, w - 0.5)
    ax.set_ylim(h - 0.5, -0.5)
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=9)


def interaction_word(replay: Replay) -> str:
    """"click" when every interaction is a click, else "interaction"."""
    clicks = all(isinstance(i, Click) for i in replay.interactions)
    return "click" if clicks else "interaction"


def show_figure(replay: Replay, ks: Sequence[int], title: str) -> Figure:
    """A strip of panels, one per k in `ks`: the prediction after interaction k, the
    interactions 1..k and the recorded IoU after k.

    Args:
        replay: the sample's session made again (holds at least max(ks) interactions).
        ks: interaction numbers, each in 1..len(replay.interactions).
        title: the figure title (run and sample).

    Raises:
        ValueError: a k outside 1..len(replay.interactions).
    """
    n = len(replay.interactions)
    bad = [k for k in ks if not 1 <= k <= n]
    if bad:
        raise ValueError(f"interaction {bad[0]} is not in 1..{n}")
    h, w = replay.sample.shape
    fig, axes = new_axes_grid(1, len(ks), PANEL_HEIGHT * w / h, PANEL_HEIGHT)
    word = interaction_word(replay)
    for ax, k in zip(axes, ks):
        draw_panel(ax, replay.sample.image, replay.sample.target, replay.masks[k - 1],
                   replay.interactions[:k], float(replay.recorded_iou[k - 1]),
                   f"after {word} {k}")
    fig.suptitle(title, fontsize=10)
    return fig

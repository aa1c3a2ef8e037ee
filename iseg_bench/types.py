"""Value objects shared by every protocol: interactions (with the rasteriser that defines a
stroke's pixels) and samples.

Coordinates are always (row, column) = (y, x) pixels of the original image.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np


@dataclass(frozen=True)
class Click:
    """One click at pixel (y, x).

    Attributes:
        y, x: int pixel row and column in the original image.
        is_positive: True for a foreground (FN-correcting) click.
        region: region id in full-image work, else None.
    """

    y: int
    x: int
    is_positive: bool
    region: int | None = None
    kind = "click"

    def pixels(self, shape: tuple[int, int]) -> np.ndarray:
        """(1, 2) int64 array of the touched pixel, (y, x)."""
        return np.array([[self.y, self.x]], dtype=np.int64)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "y": int(self.y), "x": int(self.x),
                "is_positive": bool(self.is_positive), "region": self.region}


def rasterize_stroke(points: np.ndarray, thickness: int, shape: tuple[int, int]) -> np.ndarray:
    """Rasterise a polyline of (N, 2) float (y, x) points as a stroke `thickness` px wide.

    The centre line is drawn 1 px wide (OpenCV, 8-connected, points rounded to the nearest
    pixel) and dilated with a `thickness` x `thickness` elliptical kernel, so a straight
    stroke of odd thickness t is exactly t pixels across (OpenCV's own thick lines are
    wider: 5 px for t = 3). A single point gives the kernel itself. Pixels outside `shape`
    are clipped. This is the one definition of the pixels a ``Scribble`` paints (robots,
    adapters and annotation maps all use it), kept beside ``Scribble`` so that the value
    objects import nothing from higher layers.

    Args:
        points: (N, 2) float (y, x) polyline vertices, N >= 1.
        thickness: stroke width in px (values below 1 count as 1).
        shape: (H, W) of the canvas.

    Returns:
        (H, W) bool.
    """
    canvas = np.zeros(shape, dtype=np.uint8)
    pts = np.round(np.asarray(points, dtype=np.float64)[:, ::-1]).astype(np.int32)
    cv2.polylines(canvas, [pts.reshape(-1, 1, 2)], False, 1, 1, cv2.LINE_8)
    if len(pts) == 1 or not canvas.any():
        x, y = int(pts[0, 0]), int(pts[0, 1])
        if 0 <= y < shape[0] and 0 <= x < shape[1]:
            canvas[y, x] = 1
    t = max(int(thickness), 1)
    if t > 1:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (t, t))
        canvas = np.asarray(cv2.dilate(canvas, kernel), dtype=np.uint8)
    return canvas.astype(bool)


@dataclass(frozen=True, eq=False)
class Scribble:
    """A stroke: a polyline of (N, 2) float64 (y, x) points drawn `thickness` pixels wide.

    Attributes:
        points: (N, 2) float64 (y, x) centre-line points, N >= 1.
        is_positive: True when the stroke marks foreground.
        thickness: stroke width in pixels (ScribbleSeg Sec. 3.4 default: 3).
        region: region id in full-image work, else None.
    """

    points: np.ndarray
    is_positive: bool
    thickness: int = 3
    region: int | None = None
    kind = "scribble"

    def __post_init__(self) -> None:
        pts = np.asarray(self.points, dtype=np.float64).reshape(-1, 2)
        if len(pts) == 0:
            raise ValueError("a Scribble needs at least one point")
        object.__setattr__(self, "points", pts)

    def pixels(self, shape: tuple[int, int]) -> np.ndarray:
        """(M, 2) int64 (y, x) pixels covered by the rasterised stroke, clipped to `shape`."""
        return np.argwhere(rasterize_stroke(self.points, self.thickness, shape))

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Scribble) and self.is_positive == other.is_positive
                and self.thickness == other.thickness and self.region == other.region
                and np.array_equal(self.points, other.points))

    def __hash__(self) -> int:
        return hash((self.points.tobytes(), self.is_positive, self.thickness, self.region))

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "points": np.round(self.points, 3).tolist(),
                "is_positive": bool(self.is_positive), "thickness": int(self.thickness),
                "region": self.region}


@dataclass(frozen=True, eq=False)
class ExtremePoints:
    """The four extreme points of a region: (4, 2) float64 (y, x), order left, right, top, bottom.

    Source: Papadopoulos et al. 2017 / DEXTR; used by Agustsson et al. 2019, Sec. 3.2.
    """

    points: np.ndarray
    region: int | None = None
    is_positive = True
    kind = "extreme_points"

    def __post_init__(self) -> None:
        pts = np.asarray(self.points, dtype=np.float64).reshape(-1, 2)
        if pts.shape != (4, 2):
            raise ValueError(f"ExtremePoints needs (4, 2) points, got {pts.shape}")
        object.__setattr__(self, "points", pts)

    def pixels(self, shape: tuple[int, int]) -> np.ndarray:
        return np.round(self.points).astype(np.int64)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, ExtremePoints) and self.region == other.region
                and np.array_equal(self.points, other.points))

    def __hash__(self) -> int:
        return hash((self.points.tobytes(), self.region))

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "points": self.points.tolist(), "region": self.region}


Interaction = Click | Scribble | ExtremePoints


def interaction_from_json(d: dict[str, Any]) -> Interaction:
    """Inverse of ``Interaction.to_json``; raises ValueError on an unknown kind."""
    kind = d.get("kind")
    if kind == "click":
        return Click(int(d["y"]), int(d["x"]), bool(d["is_positive"]), d.get("region"))
    if kind == "scribble":
        return Scribble(np.asarray(d["points"]), bool(d["is_positive"]), int(d["thickness"]),
                        d.get("region"))
    if kind == "extreme_points":
        return ExtremePoints(np.asarray(d["points"]), d.get("region"))
    raise ValueError(f"unknown interaction kind {kind!r}")


@dataclass
class Sample:
    """One evaluation sample.

    Attributes:
        image: (H, W, 3) uint8 RGB.
        target: (H, W) bool object mask, or (H, W) int32 region-id map (full-image work).
        ignore: (H, W) bool, True where pixels are excluded from scoring and from robots.
        sample_id: unique id within its dataset (stable across runs; used in records).
        dataset: dataset name.
        meta: free metadata: ``category`` (str), ``is_thing`` (bool), ``stream`` key, ...
    """

    image: np.ndarray
    target: np.ndarray
    ignore: np.ndarray
    sample_id: str
    dataset: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.image.ndim != 3 or self.image.shape[2] != 3 or self.image.dtype != np.uint8:
            raise ValueError(f"sample {self.sample_id}: image must be (H, W, 3) uint8, "
                             f"got {self.image.shape} {self.image.dtype}")
        hw = self.image.shape[:2]
        for name in ("target", "ignore"):
            arr = getattr(self, name)
            if arr.shape != hw:
                raise ValueError(f"sample {self.sample_id}: {name} has shape {arr.shape}, "
                                 f"image has {hw}")
        if self.ignore.dtype != bool:
            raise ValueError(f"sample {self.sample_id}: ignore must be bool")

    @property
    def shape(self) -> tuple[int, int]:
        return self.image.shape[:2]

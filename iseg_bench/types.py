"""Value objects shared by every protocol: interactions and samples (the pixels an interaction
touches are drawn by ``iseg_bench.geometry.strokes``).

Coordinates are always (row, column) = (y, x) pixels of the original image.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "y": int(self.y), "x": int(self.x),
                "is_positive": bool(self.is_positive), "region": self.region}


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

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, ExtremePoints) and self.region == other.region
                and np.array_equal(self.points, other.points))

    def __hash__(self) -> int:
        return hash((self.points.tobytes(), self.region))

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "points": self.points.tolist(), "region": self.region}


@dataclass(frozen=True)
class Box:
    """A bounding box prompt: rows y0..y1 and columns x0..x1 of the original image, both
    ends included (a tight box of a one-pixel object has y0 == y1 and x0 == x1).

    Attributes:
        y0, x0: int top-left pixel (row, column); y1, x1: int bottom-right pixel, y1 >= y0,
            x1 >= x0.
        region: region id in full-image work, else None.

    Raises:
        ValueError: y1 < y0 or x1 < x0.

    Source: the box prompt of Segment Anything (Kirillov et al. 2023, Sec. 3) and SAM 2
    (Ravi et al. 2024); its JSON form is ``{"kind": "box", "points": [[y0, x0], [y1, x1]]}``.
    """

    y0: int
    x0: int
    y1: int
    x1: int
    region: int | None = None
    is_positive = True
    kind = "box"

    def __post_init__(self) -> None:
        if self.y1 < self.y0 or self.x1 < self.x0:
            raise ValueError(f"a Box needs y0 <= y1 and x0 <= x1, got ({self.y0}, {self.x0}, "
                             f"{self.y1}, {self.x1})")

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "points": [[int(self.y0), int(self.x0)],
                                              [int(self.y1), int(self.x1)]],
                "region": self.region}


Interaction = Click | Scribble | ExtremePoints | Box


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
    if kind == "box":
        (y0, x0), (y1, x1) = d["points"]
        return Box(int(y0), int(x0), int(y1), int(x1), d.get("region"))
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

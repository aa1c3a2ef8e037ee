"""Error regions: FN/FP masks, their connected components and the largest-error-region rule.

The one rule every robot uses to choose where to correct ("the largest FN or FP region"):
largest size first, FN before FP on equal sizes, then an order within the error type (the
component's first pixel in raster order, or OpenCV's label). See docs/robots/clicker.md,
docs/robots/dios-clicker.md and docs/robots/scribbler.md.

Constants: CONNECTIVITY = 8 (error components are 8-connected, as in the field's robots).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import cv2
import numpy as np
from scipy import ndimage as ndi

from iseg_bench.geometry.strokes import interaction_pixels
from iseg_bench.types import Click, Interaction

CONNECTIVITY = 8


def error_masks(target: np.ndarray, pred: np.ndarray,
                ignore: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(FN, FP), each (H, W) bool: FN = target & ~pred & ~ignore, FP = ~target & pred & ~ignore.

    Args:
        target, pred, ignore: (H, W) bool.
    """
    valid = ~ignore
    return target & ~pred & valid, ~target & pred & valid


class Components:
    """The connected components of one (H, W) bool mask, labelled by OpenCV.

    Args:
        shape: (H, W) of the mask.
        origin: (y0, x0) of the labelled window in the mask ((0, 0) for the whole mask).
        labels: int32 labels of the window (0 = background, 1..count), as
            ``cv2.connectedComponents`` returns them.
        count: number of components.
    """

    def __init__(self, shape: tuple[int, int], origin: tuple[int, int], labels: np.ndarray,
                 count: int):
        self.shape = shape
        self.origin = origin
        self.labels = labels
        self.count = count

    @cached_property
    def sizes(self) -> np.ndarray:
        """(count + 1,) int64 pixel counts per label; sizes[0] = 0."""
        sizes = np.bincount(self.labels.ravel(), minlength=self.count + 1).astype(np.int64)
        sizes[0] = 0
        return sizes

    @cached_property
    def _slices(self) -> list[tuple[slice, slice]]:
        found: list[tuple[slice, slice]] = ndi.find_objects(self.labels, self.count)
        return found

    def box(self, k: int) -> tuple[int, int, int, int]:
        """(y0, x0, y1, x1) half-open bounding box of component `k` (>= 1), in mask
        coordinates."""
        rows, cols = self._slices[k - 1]
        oy, ox = self.origin
        return oy + rows.start, ox + cols.start, oy + rows.stop, ox + cols.stop

    def local(self, k: int) -> np.ndarray:
        """(y1 - y0, x1 - x0) bool mask of component `k` inside its box."""
        local: np.ndarray = self.labels[self._slices[k - 1]] == k
        return local

    def first_pixel(self, k: int) -> int:
        """Raster index (y * W + x, mask coordinates) of component `k`'s first pixel (it lies
        in the top row of the component's box)."""
        y0, x0, _, _ = self.box(k)
        return y0 * self.shape[1] + x0 + int(np.argmax(self.local(k)[0]))

    def mask(self, k: int) -> np.ndarray:
        """(H, W) bool mask of component `k`."""
        out = np.zeros(self.shape, dtype=bool)
        y0, x0, y1, x1 = self.box(k)
        out[y0:y1, x0:x1] = self.local(k)
        return out


def label_components(mask: np.ndarray, *, crop: bool = True,
                     connectivity: int = CONNECTIVITY) -> Components:
    """The connected components of `mask` ((H, W) bool).

    Args:
        mask: (H, W) bool.
        crop: label inside the mask's bounding box only (faster; label numbers may then
            differ from those of the whole mask, the components do not); False, or an empty
            mask, labels the whole mask.
        connectivity: 4 or 8.
    """
    shape = (int(mask.shape[0]), int(mask.shape[1]))
    oy = ox = 0
    window = mask
    if crop:
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        if len(rows):
            oy, ox = int(rows[0]), int(cols[0])
            window = mask[oy:rows[-1] + 1, ox:cols[-1] + 1]
    n, labels = cv2.connectedComponents(window.astype(np.uint8), connectivity=connectivity)
    return Components(shape, (oy, ox), labels, int(n) - 1)


def component_at(mask: np.ndarray, y: int, x: int, connectivity: int = CONNECTIVITY
                 ) -> np.ndarray:
    """(H, W) bool: the connected component of `mask` containing (y, x) (empty if mask[y, x]
    is False). connectivity: 4 or 8."""
    out = np.zeros(mask.shape, dtype=bool)
    if not mask[y, x]:
        return out
    work = mask.astype(np.uint8)
    cv2.floodFill(work, None, (int(x), int(y)), 2, flags=connectivity)
    filled: np.ndarray = work == 2
    return filled


@dataclass(frozen=True)
class ErrorRegion:
    """The error region a robot corrects.

    Attributes:
        mask: (H, W) bool, one connected FN or FP component.
        is_positive: True for an FN component (a positive correction).
        fully_clicked: every pixel of it was clicked before (only when no other region is
            left; see ``largest_error_region``'s `clicked`).
    """

    mask: np.ndarray
    is_positive: bool
    fully_clicked: bool = False


def largest_error_region(target: np.ndarray, ignore: np.ndarray, pred: np.ndarray, *,
                         order: Literal["first_pixel", "label"] = "first_pixel",
                         clicked: tuple[np.ndarray, np.ndarray] | None = None,
                         ties: Literal["fn", "fp"] = "fn") -> ErrorRegion | None:
    """The largest 8-connected component over FN and FP.

    Ranking: larger size first; on equal sizes FN before FP (`ties` "fp": FP before FN, the
    rule of Forte et al.'s released robot); then, within one error type,
    by `order`: "first_pixel" = the component whose first pixel in raster order comes first;
    "label" = the lower OpenCV label of the whole-image labelling (OpenCV's default
    8-connected algorithm scans 2 x 2 blocks, so this is not always the raster order).

    Args:
        target, ignore, pred: (H, W) bool.
        order: the tie rule within one error type (above).
        clicked: optional (ys, xs) int arrays of clicked pixels: a component all of whose
            pixels were clicked is passed over; when every component is, the ranking is
            taken over them all (``fully_clicked`` is then True).
        ties: which error type wins between components of equal size ("fn" or "fp").

    Returns:
        The chosen ErrorRegion, or None when there is no FN and no FP pixel.

    Raises:
        ValueError: `order` or `ties` is none of its values.
    """
    if order not in ("first_pixel", "label"):
        raise ValueError(f"order must be 'first_pixel' or 'label', got {order!r}")
    if ties not in ("fn", "fp"):
        raise ValueError(f"ties must be 'fn' or 'fp', got {ties!r}")
    fn, fp = error_masks(target, pred, ignore)
    found = [(is_positive, label_components(err, crop=order == "first_pixel"))
             for is_positive, err in ((True, fn), (False, fp))]
    pools: list[tuple[bool, list[np.ndarray]]] = [(False, [c.sizes for _, c in found])]
    if clicked is not None:
        was_clicked = np.zeros(target.shape, dtype=bool)
        was_clicked[clicked] = True
        fresh, spent = [], []
        for _, comps in found:
            (oy, ox), (h, w) = comps.origin, comps.labels.shape
            in_window = was_clicked[oy:oy + h, ox:ox + w]
            hits = np.bincount(comps.labels[in_window], minlength=comps.count + 1)
            fresh.append(np.where(hits < comps.sizes, comps.sizes, 0))
            spent.append(np.where(hits == comps.sizes, comps.sizes, 0))
        pools = [(False, fresh), (True, spent)]
    for fully_clicked, pool in pools:
        # (key, is_positive, components, label); the keys are distinct (one rank per label of
        # each error type), so min() never compares past them
        candidates = [
            ((-int(sizes[label]), is_positive == (ties == "fp"),
              comps.first_pixel(label) if order == "first_pixel" else label),
             is_positive, comps, label)
            for (is_positive, comps), sizes in zip(found, pool) if sizes.max() > 0
            for label in np.flatnonzero(sizes == sizes.max()).tolist()]
        if candidates:
            _, is_positive, comps, label = min(candidates)
            return ErrorRegion(comps.mask(label), is_positive, fully_clicked)
    return None


def interaction_error_region(target: np.ndarray, ignore: np.ndarray, prev_pred: np.ndarray,
                             interaction: Interaction) -> np.ndarray:
    """The error region an interaction was placed in (corrective accuracy, Forte et al.).

    The 8-connected component(s) of the interaction's error type (FN for a positive, FP for a
    negative interaction) in `prev_pred` that contain its pixels: for a click the clicked
    pixel, for a stroke every painted pixel (the union of the components it touches).

    Args:
        target, ignore, prev_pred: (H, W) bool.
        interaction: a Click or Scribble.

    Returns:
        (H, W) bool (empty when the interaction touches no error pixel of its type).
    """
    fn, fp = error_masks(target, prev_pred, ignore)
    err = fn if interaction.is_positive else fp
    if isinstance(interaction, Click):
        return component_at(err, interaction.y, interaction.x)
    px = interaction_pixels(interaction, target.shape)
    labels = label_components(err, crop=False).labels
    hit = np.unique(labels[px[:, 0], px[:, 1]])
    region: np.ndarray = np.isin(labels, hit[hit > 0])
    return region

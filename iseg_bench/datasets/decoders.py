"""Mask and annotation decoders of the click benchmarks' file formats: GrabCut/Berkeley
trimaps, non-zero masks (DAVIS, COCO-MVal), SBD ``.mat`` instance maps and PASCAL VOC
palette PNGs. Formats are specified in ``docs/datasets.md``.

Constants: ``VOC_CLASSES`` (the 20 PASCAL VOC object classes, class index i = 1..20 is
``VOC_CLASSES[i - 1]``), ``VOC_VOID`` = 255 (the VOC palette index of void pixels).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import scipy.io
from PIL import Image

from iseg_bench.errors import DatasetError

VOC_CLASSES = (
    "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
    "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa",
    "train", "tvmonitor",
)

VOC_VOID = 255


def colour_channels(mask: np.ndarray) -> np.ndarray:
    """(H, W, C<=3) view of a mask: a channel axis added to grey masks, alpha dropped."""
    return mask[:, :, None] if mask.ndim == 2 else mask[:, :, :3]


def decode_band_mask(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Decode a GrabCut/Berkeley trimap: values above 128 object, 128 ignored, the rest
    background (the RITM evaluation loader's rule).

    Args:
        mask: (H, W) or (H, W, C) integer array; a colour mask is reduced to the maximum of
            its colour channels.

    Returns:
        (target, ignore): two disjoint (H, W) bool arrays.
    """
    grey = colour_channels(mask).max(axis=2)
    return np.asarray(grey > 128), np.asarray(grey == 128)


def decode_nonzero_mask(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Decode a mask where any non-zero colour channel marks the object (DAVIS, COCO-MVal).

    Args:
        mask: (H, W) or (H, W, C) integer array; an alpha channel is not looked at.

    Returns:
        (target, ignore): (H, W) bool object mask and an all-False (H, W) bool ignore mask.
    """
    target = np.asarray((colour_channels(mask) > 0).any(axis=2))
    return target, np.zeros_like(target)


def voc_class_name(index: Any) -> str | None:
    """The VOC class name of class index `index` (1..20), None outside that range."""
    index = int(index)
    return VOC_CLASSES[index - 1] if 1 <= index <= len(VOC_CLASSES) else None


def majority_voc_class(values: np.ndarray) -> str | None:
    """The VOC class name most of an instance's pixels carry (void and background
    excluded; ties to the lower class index), None when no pixel has a class.

    Args:
        values: integer array of VOC palette indices of the instance's pixels.
    """
    counts = np.bincount(values.ravel(), minlength=VOC_VOID + 1)[1:VOC_VOID]
    return voc_class_name(int(counts.argmax()) + 1) if counts.any() else None


def read_sbd_instances(path: Path) -> tuple[np.ndarray, dict[int, str | None]]:
    """Read an SBD ``inst/<id>.mat`` file (MATLAB struct ``GTinst``).

    Returns:
        ((H, W) int32 instance-id map, 0 = background; {instance id: VOC class name or
        None}).

    Raises:
        DatasetError: naming the file when it cannot be read or lacks GTinst.Segmentation.
    """
    try:
        gt = scipy.io.loadmat(str(path), squeeze_me=True, struct_as_record=False)["GTinst"]
        seg = np.asarray(gt.Segmentation)
    except Exception as err:  # any failure to parse means the file is unusable
        raise DatasetError(f"cannot read SBD annotation {path}: expected a .mat file with a "
                           f"GTinst struct holding Segmentation ({err})") from err
    if seg.ndim != 2:
        raise DatasetError(f"SBD annotation {path}: GTinst.Segmentation is not a 2-D map")
    classes = np.atleast_1d(np.asarray(getattr(gt, "Categories", []))).ravel()
    names = {i + 1: voc_class_name(c) for i, c in enumerate(classes)}
    return seg.astype(np.int32), names


def read_palette_indices(path: Path) -> np.ndarray:
    """Read a palette PNG (PASCAL VOC ``SegmentationObject``/``SegmentationClass``) as its
    raw palette indices, (H, W) uint8; a greyscale PNG is read as its values.

    Raises:
        DatasetError: naming the file when it is unreadable or neither palette nor grey.
    """
    try:
        with Image.open(path) as im:
            if im.mode not in ("P", "L"):
                raise DatasetError(f"VOC annotation {path} has mode {im.mode}; expected a "
                                   "palette (P) PNG of indices")
            return np.array(im, dtype=np.uint8)
    except (OSError, ValueError) as err:
        raise DatasetError(f"cannot read VOC annotation {path}: the file is missing, "
                           f"truncated or not an image ({err})") from err

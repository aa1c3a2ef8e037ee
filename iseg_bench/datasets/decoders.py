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


#: a mask with more distinct values than this is taken as JPEG-compressed or resampled
#: (our choice: the benchmarks' binary masks hold 2 to 4 values)
MAX_MASK_LEVELS = 8

#: a 16-bit value v holds the 8-bit value v / EIGHT_TO_SIXTEEN_BITS (65535 / 255 = 257:
#: the exact scaling of 8-bit data saved at 16 bits, as PIL, OpenCV and ImageMagick do)
EIGHT_TO_SIXTEEN_BITS = 257


def eight_bit_values(mask: np.ndarray) -> np.ndarray:
    """The 8-bit values of a mask read at its own bit depth (``docs/datasets.md``).

    uint8 is returned as is. uint16 whose values are all <= 255 holds 8-bit values in a
    16-bit container (returned as uint8); otherwise every value must be an 8-bit value
    scaled to 16 bits (a multiple of 257, so the band 128 is stored as 128 * 257) and is
    divided by 257.

    Args:
        mask: integer array of any shape.

    Returns:
        uint8 array of the same shape.

    Raises:
        ValueError: another dtype, or 16-bit values that are not 8-bit values scaled by
            257 (e.g. 12-bit data): the object/band/background levels cannot be told.
    """
    if mask.dtype == np.uint8:
        return mask
    if mask.dtype != np.uint16:
        raise ValueError(f"mask of dtype {mask.dtype}; expected 8- or 16-bit unsigned integers")
    if mask.max(initial=0) <= 255:
        return mask.astype(np.uint8)
    if (mask % EIGHT_TO_SIXTEEN_BITS).any():
        raise ValueError("16-bit mask whose values are neither 8-bit values (<= 255) nor 8-bit "
                         f"values scaled by {EIGHT_TO_SIXTEEN_BITS} (e.g. 12-bit data); save "
                         "it as an 8-bit mask: 0 background, 128 band, 255 object")
    return (mask // EIGHT_TO_SIXTEEN_BITS).astype(np.uint8)


def decode_band_mask(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Decode a GrabCut/Berkeley trimap: values above 128 object, 128 ignored, the rest
    background (the RITM evaluation loader's rule), on the 8-bit values of the mask
    (:func:`eight_bit_values`: a 16-bit band is 128 * 257).

    Args:
        mask: (H, W) or (H, W, C) uint8 or uint16 array; a colour mask is reduced to the
            maximum of its colour channels.

    Returns:
        (target, ignore): two disjoint (H, W) bool arrays.

    Raises:
        ValueError: a mask whose 8-bit values cannot be told (:func:`eight_bit_values`), or
            a JPEG-compressed or resampled one (:func:`check_mask_levels`: values near 128
            would be scored as object or background by chance).
    """
    grey = eight_bit_values(colour_channels(mask).max(axis=2))
    check_mask_levels(grey)
    return np.asarray(grey > 128), np.asarray(grey == 128)


def check_mask_levels(mask: np.ndarray) -> None:
    """Refuse a mask with more than ``MAX_MASK_LEVELS`` distinct values, the mark of lossy
    compression (JPEG) or resampling, whose faint stray values would count as object.

    Args:
        mask: integer array of any shape.

    Raises:
        ValueError: saying how many distinct values the mask holds.
    """
    levels = np.unique(mask).size
    if levels > MAX_MASK_LEVELS:
        raise ValueError(f"mask with {levels} distinct values (a binary or label mask has a "
                         f"few): JPEG compression or resampling? Faint stray values would be "
                         "scored as object; use the lossless original mask")


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

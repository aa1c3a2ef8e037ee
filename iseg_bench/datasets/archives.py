"""The official archives of the benchmarks, their checksums, and how one is unpacked into
the layout the loader reads (``iseg-bench datasets fetch``; docs/datasets.md, "Fetching").

URLs: GrabCut, Berkeley, DAVIS and COCO-MVal are the archives linked from the dataset table
of RITM's README (``SamsungLabs/ritm_interactive_segmentation``, README.md, "Datasets"),
released with f-BRS; SBD, PASCAL VOC 2012, COCO 2017 and ADE20K are their projects' own
archives (the sites the RITM README and the loaders' ``source`` name). Sizes are the RITM
README's for its four archives, otherwise the projects' download pages' approximate sizes.

Checksums: no project publishes a SHA-256 of these archives and none was verified here, so
every entry's ``sha256`` is None ("not pinned"): ``fetch`` then prints the SHA-256 it
computed and refuses unless told ``trust_unpinned`` (``--trust-unpinned``); a pinned hash
is checked and a mismatch always refuses. Pin a hash by filling in ``sha256``.
"""

from __future__ import annotations

import hashlib
import shutil
import tarfile
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

from iseg_bench.errors import DatasetError, DatasetUsageError, UsageError

#: bytes read at a time when hashing or downloading
CHUNK = 1 << 20
#: the folder under the data root where fetch unpacks before moving into place
STAGING = ".fetch-staging"


@dataclass(frozen=True)
class Archive:
    """One official archive.

    Attributes:
        key: the name given to ``datasets fetch`` (the dataset name, or "dataset:part" for
            a dataset made of several archives).
        dataset: the registered dataset it feeds.
        url: the official download address.
        size: its size as published ("11 MB"), or "unknown".
        sha256: 64 hex digits, or None when not pinned.
        markers: entries (files or folders) that the folder to keep holds inside the
            archive; fetch keeps the shallowest folder holding all of them.
        target: where that folder goes, relative to the data root.
        nested: zip files inside that folder that are unpacked in place afterwards.
        note: what is left to do by hand after unpacking, or "".
    """

    key: str
    dataset: str
    url: str
    size: str
    sha256: str | None
    markers: tuple[str, ...]
    target: str
    nested: tuple[str, ...] = ()
    note: str = ""


_FBRS = "https://github.com/saic-vul/fbrs_interactive_segmentation/releases/download/v1.0/"

ARCHIVES: dict[str, Archive] = {a.key: a for a in (
    Archive("grabcut", "grabcut", _FBRS + "GrabCut.zip", "11 MB", None,
            ("data_GT", "boundary_GT"), "GrabCut"),
    Archive("berkeley", "berkeley", _FBRS + "Berkeley.zip", "7 MB", None,
            ("images", "masks"), "Berkeley"),
    Archive("davis", "davis", _FBRS + "DAVIS.zip", "43 MB", None, ("img", "gt"), "DAVIS"),
    Archive("coco-mval", "coco-mval", _FBRS + "COCO_MVal.zip", "127 MB", None,
            ("img", "gt"), "COCO_MVal"),
    Archive("sbd", "sbd", "http://www.eecs.berkeley.edu/Research/Projects/CS/vision/grouping/"
            "semantic_contours/benchmark.tgz", "1.4 GB", None, ("img", "inst", "val.txt"),
            "SBD"),
    Archive("pascalvoc", "pascalvoc", "http://host.robots.ox.ac.uk/pascal/VOC/voc2012/"
            "VOCtrainval_11-May-2012.tar", "1.9 GB", None,
            ("JPEGImages", "SegmentationObject", "ImageSets"), "PascalVOC"),
    Archive("coco-panoptic:images", "coco-panoptic",
            "http://images.cocodataset.org/zips/val2017.zip", "778 MB", None,
            ("000000000139.jpg",), "COCO_panoptic/val2017"),
    Archive("coco-panoptic:annotations", "coco-panoptic", "http://images.cocodataset.org/"
            "annotations/panoptic_annotations_trainval2017.zip", "821 MB", None,
            ("panoptic_val2017.json", "panoptic_val2017.zip"), "COCO_panoptic/annotations",
            nested=("panoptic_val2017.zip",)),
    Archive("ade20k-panoptic", "ade20k-panoptic",
            "http://data.csail.mit.edu/places/ADEchallenge/ADEChallengeData2016.zip",
            "923 MB", None, ("images", "annotations"), "ADEChallengeData2016",
            note="then write the panoptic annotations with Mask2Former's "
                 "datasets/prepare_ade20k_pan_seg.py (it also needs the ADE20K instance "
                 "annotations); the loader reads ade20k_panoptic_val.json and "
                 "ade20k_panoptic_val/ beside images/"),
)}


def archives_of(dataset: str) -> list[Archive]:
    """The archives feeding `dataset`, in table order (empty when none is known)."""
    return [a for a in ARCHIVES.values() if a.dataset == dataset]


def archive(key: str) -> Archive:
    """The archive of `key` (a dataset with one archive, or "dataset:part").

    Raises:
        UsageError: an unknown key, or a dataset of several archives (the message names
            the keys to use).
    """
    if key in ARCHIVES:
        return ARCHIVES[key]
    parts = archives_of(key)
    if parts:
        raise UsageError(f"{key} comes in {len(parts)} archives; fetch each: "
                         f"{', '.join(a.key for a in parts)}")
    raise UsageError(f"no known archive {key!r}; known: {', '.join(ARCHIVES)}")


def sha256_of(path: Path) -> str:
    """The SHA-256 of the file `path`, 64 lowercase hex digits."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download(url: str, folder: Path) -> Path:
    """Download `url` into `folder` (created) under its last path part; return the file.

    Raises:
        DatasetError: the download fails (the message names the URL).
    """
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / url.rstrip("/").rsplit("/", 1)[-1]
    part = path.with_suffix(path.suffix + ".part")
    try:
        with urllib.request.urlopen(url) as response, open(part, "wb") as fh:  # noqa: S310
            shutil.copyfileobj(response, fh, CHUNK)
    except OSError as err:
        part.unlink(missing_ok=True)
        raise DatasetError(f"cannot download {url}: {err}; download it by hand and give "
                           "--archive FILE") from err
    part.replace(path)
    return path


def verify(entry: Archive, path: Path, trust_unpinned: bool) -> str:
    """The SHA-256 of `path` after checking it against `entry`.

    Raises:
        DatasetUsageError (exit 2): the hash differs from the pinned one, or is not pinned and
            `trust_unpinned` is False (the message gives the computed hash either way).
    """
    digest = sha256_of(path)
    if entry.sha256 is None and not trust_unpinned:
        raise DatasetUsageError(f"{path}: SHA-256 {digest}; the checksum of {entry.key} is not "
                           "pinned in iseg_bench/datasets/archives.py, so it cannot be "
                           "verified; compare it with a trusted copy, then repeat with "
                           "--trust-unpinned")
    if entry.sha256 is not None and digest != entry.sha256.lower():
        raise DatasetUsageError(f"{path}: SHA-256 {digest} is not the official {entry.key} "
                           f"archive's {entry.sha256}; the file is damaged or another "
                           "archive; download it again")
    return digest


def _unpack(path: Path, dest: Path) -> None:
    """Unpack the zip or tar archive `path` into `dest`, refusing members that would land
    outside it.

    Raises:
        DatasetUsageError (exit 2): not a zip or tar file, or an unsafe member.
    """
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            root = dest.resolve()
            for name in zf.namelist():
                if not (dest / name).resolve().is_relative_to(root):
                    raise DatasetUsageError(f"{path}: member {name!r} would be written outside "
                                       "the data root; refusing the archive")
            zf.extractall(dest)
    elif tarfile.is_tarfile(path):
        with tarfile.open(path) as tf:
            try:
                tf.extractall(dest, filter="data")
            except tarfile.FilterError as err:
                raise DatasetUsageError(f"{path}: unsafe member ({err}); refusing the archive"
                                   ) from err
    else:
        raise DatasetUsageError(f"{path} is neither a zip nor a tar archive")


def _find_folder(top: Path, markers: tuple[str, ...]) -> Path | None:
    """The shallowest folder under `top` (itself included) holding every marker."""
    candidates = [top, *sorted((p for p in top.rglob("*") if p.is_dir()),
                               key=lambda p: (len(p.parts), str(p)))]
    return next((c for c in candidates if all((c / m).exists() for m in markers)), None)


def unpack_into(entry: Archive, path: Path, data_root: Path) -> Path:
    """Unpack the archive `path` of `entry` into ``data_root / entry.target``; return that
    folder. Existing files there are never overwritten.

    Raises:
        DatasetUsageError (exit 2): the archive does not hold the expected folder
            (``entry.markers``), or a file it would write exists already.
    """
    data_root.mkdir(parents=True, exist_ok=True)
    target = data_root / entry.target
    with tempfile.TemporaryDirectory(prefix=STAGING, dir=data_root) as staging:
        _unpack(path, Path(staging))
        found = _find_folder(Path(staging), entry.markers)
        if found is None:
            raise DatasetUsageError(f"{path} holds no folder with {', '.join(entry.markers)}; it "
                               f"is not the {entry.key} archive the loader expects")
        clashes = [c.name for c in found.iterdir() if (target / c.name).exists()]
        if clashes:
            raise DatasetUsageError(f"{target} already holds {', '.join(sorted(clashes)[:3])}; "
                               "move it away to fetch again")
        target.mkdir(parents=True, exist_ok=True)
        for child in sorted(found.iterdir()):
            shutil.move(str(child), target / child.name)
    for inner in entry.nested:
        _unpack(target / inner, target)
    return target

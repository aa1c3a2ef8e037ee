"""The ScribbleSeg ADE20K stuff/thing benchmark: a fixed, seeded manifest of segments and
the ``ade20k-scribble`` dataset that reads it.

Source: Chen et al., "ScribbleSeg: Scribble-based Interactive Image Segmentation",
Sec. 3.4 and Tab. 2. Selection rule and manifest format: ``docs/datasets.md``.

Constants: ``MANIFEST_FORMAT``, ``MANIFEST_NAME`` (default manifest file inside the ADE20K
panoptic folder), ``DEFAULT_SEED`` = 0, ``DEFAULT_PER_CATEGORY`` = 5, ``FIELDS`` (manifest
columns).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from iseg_bench.datasets.base import Dataset, SampleRef
from iseg_bench.datasets.panoptic import (
    Ade20kPanopticDataset,
    PanopticImage,
    SegmentInfo,
    load_panoptic_json,
    load_segment_sample,
)
from iseg_bench.errors import DatasetError, DatasetUsageError
from iseg_bench.options import option
from iseg_bench.types import Sample

MANIFEST_FORMAT = "iseg-bench/ade20k-scribble-manifest/1"
#: File name of the manifest inside the ADE20K panoptic folder (default location).
MANIFEST_NAME = "iseg_bench_ade20k_scribble.json"
DEFAULT_SEED = 0
DEFAULT_PER_CATEGORY = 5
FIELDS = ("image", "panoptic", "image_id", "segment_id", "category_id", "category", "is_thing")


def _ade_folder(ade_root: Path) -> tuple[Path, Path, Path, Path]:
    """Locate the panoptic layout given the data root or the ADE20K folder itself."""
    ade_root = Path(ade_root)
    for base in (ade_root, ade_root.parent):
        try:
            return Ade20kPanopticDataset.locate(base)
        except DatasetError:
            continue
    return Ade20kPanopticDataset.locate(ade_root)     # raises with the expected layout


def select_segments(images: list[PanopticImage], seed: int = DEFAULT_SEED,
                    per_category: int = DEFAULT_PER_CATEGORY,
                    min_area: int = 0) -> list[tuple[PanopticImage, Any]]:
    """The benchmark's segments (the rule: ``docs/datasets.md``).

    Args:
        images: the split's images (``load_panoptic_json`` order).
        seed: int seed.
        per_category: segments per category (>= 1).
        min_area: smallest JSON ``area`` in pixels of a candidate.

    Returns:
        [(image, SegmentInfo)] ordered by (image file name, segment id).
    """
    if per_category < 1:
        raise ValueError(f"per_category must be >= 1, got {per_category}")
    by_cat: dict[int, list[tuple[PanopticImage, SegmentInfo]]] = {}
    for entry in sorted(images, key=lambda e: e.image_path.name):
        for seg in sorted(entry.segments, key=lambda s: s.id):
            if not seg.iscrowd and seg.area >= min_area:
                by_cat.setdefault(seg.category_id, []).append((entry, seg))
    picked = []
    for cat_id in sorted(by_cat):
        cands = by_cat[cat_id]
        if len(cands) <= per_category:
            picked.extend(cands)
        else:
            rng = np.random.default_rng([int(seed), int(cat_id)])
            idx = np.sort(rng.choice(len(cands), per_category, replace=False))
            picked.extend(cands[i] for i in idx)
    picked.sort(key=lambda p: (p[0].image_path.name, p[1].id))
    return picked


def build_ade20k_scribble_manifest(ade_root: Path, out_path: Path | None = None,
                                   seed: int = DEFAULT_SEED,
                                   per_category: int = DEFAULT_PER_CATEGORY,
                                   min_area: int = 0) -> Path:
    """Write the ADE20K scribble-benchmark manifest from a local ADE20K panoptic copy.

    Args:
        ade_root: the data root (holding ADEChallengeData2016/ or ADE20K_panoptic/) or the
            ADE20K panoptic folder itself.
        out_path: manifest file (.json, or .csv); default
            ``<ADE20K panoptic folder>/iseg_bench_ade20k_scribble.json``.
        seed, per_category, min_area: see ``select_segments``.

    Returns:
        The manifest path.

    Raises:
        DatasetError: the ADE20K panoptic layout is missing or malformed.
    """
    folder, image_dir, png_dir, js = _ade_folder(ade_root)
    images, _ = load_panoptic_json(js, image_dir, png_dir)
    rows = [{"image": entry.image_path.relative_to(folder).as_posix(),
             "panoptic": entry.png_path.relative_to(folder).as_posix(),
             "image_id": entry.image_id, "segment_id": seg.id,
             "category_id": seg.category_id, "category": seg.category,
             "is_thing": seg.is_thing}
            for entry, seg in select_segments(images, seed, per_category, min_area)]
    out = Path(out_path) if out_path is not None else folder / MANIFEST_NAME
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".csv":
        with out.open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=FIELDS)
            writer.writeheader()
            writer.writerows(rows)
    else:
        n_thing = sum(r["is_thing"] for r in rows)
        out.write_text(json.dumps({
            "format": MANIFEST_FORMAT, "seed": int(seed), "per_category": int(per_category),
            "min_area": int(min_area), "source_json": js.relative_to(folder).as_posix(),
            "n_samples": len(rows), "n_thing": n_thing, "n_stuff": len(rows) - n_thing,
            "samples": rows}, indent=1))
    return out


def read_manifest(path: Path) -> list[dict[str, Any]]:
    """Rows of a manifest written by ``build_ade20k_scribble_manifest`` (JSON or CSV).

    Raises:
        DatasetError: unreadable file or missing fields.
    """
    path = Path(path)
    try:
        if path.suffix.lower() == ".csv":
            with path.open(newline="") as f:
                rows = list(csv.DictReader(f))
            for r in rows:
                r["segment_id"] = int(r["segment_id"])
                r["category_id"] = int(r["category_id"])
                r["is_thing"] = r["is_thing"].strip().lower() in ("1", "true", "yes")
        else:
            data = json.loads(path.read_text())
            if data.get("format") != MANIFEST_FORMAT:
                raise DatasetError(f"{path} is not an ade20k-scribble manifest (format "
                                   f"{data.get('format')!r}, expected {MANIFEST_FORMAT!r})")
            rows = data["samples"]
        for r in rows:
            missing = [k for k in FIELDS if k not in r]
            if missing:
                raise DatasetError(f"manifest {path}: a row lacks {', '.join(missing)}")
    except (OSError, ValueError, KeyError) as exc:
        raise DatasetError(f"cannot read the ade20k-scribble manifest {path}: {exc}") from exc
    return rows


@dataclass(frozen=True)
class ManifestOptions:
    """Options of ``ade20k-scribble``."""

    manifest: str | None = option(None, "path of the manifest (default: MANIFEST_NAME inside "
                                        "the ADE20K panoptic folder)")


class Ade20kScribbleDataset(Dataset):
    """The ScribbleSeg ADE20K benchmark (Sec. 3.4): the segments listed in the manifest.

    Options: ``ManifestOptions``. Samples carry ``is_thing`` for the
    ADE-Stuff / ADE-Thing / ADE-Full split (Tab. 2).
    """

    name = "ade20k-scribble"
    options_class = ManifestOptions
    layout = (Ade20kPanopticDataset.layout + "\nplus the manifest " + MANIFEST_NAME
              + " (build it with `iseg-bench datasets build ade20k-scribble`)")
    source = Ade20kPanopticDataset.source

    def __init__(self, refs: list[SampleRef], root: Path, manifest: Path):
        super().__init__(refs)
        self.root = root
        self.manifest = manifest

    @classmethod
    def from_root(cls, data_root: Path | None, **options: Any) -> Ade20kScribbleDataset:
        """Read the manifest (no image is opened).

        Raises:
            UsageError: an unknown option.
            DatasetError: no data root, missing layout or manifest.
        """
        manifest = cls.parse_options(options).manifest
        if data_root is None:
            raise DatasetUsageError(f"{cls.name}: no data root given; pass --data-root or set "
                               "ISEG_BENCH_DATA")
        try:
            folder = _ade_folder(Path(data_root))[0]
        except DatasetError as exc:
            raise cls.layout_error(Path(data_root), "no ADE20K panoptic folder") from exc
        path = Path(manifest) if manifest else folder / MANIFEST_NAME
        if not path.is_file():
            raise cls.layout_error(folder, f"manifest {path} not found; build it with "
                                           "`iseg-bench datasets build ade20k-scribble`")
        refs = []
        for r in read_manifest(path):
            stem = Path(r["image"]).stem
            refs.append(SampleRef(
                f"{stem}_{r['segment_id']}", (folder / r["image"], folder / r["panoptic"]),
                {"category": r["category"], "is_thing": bool(r["is_thing"]),
                 "segment_id": int(r["segment_id"]), "image_id": r["image_id"],
                 "category_id": int(r["category_id"])}))
        return cls(refs, folder, path)

    def describe(self) -> dict[str, Any]:
        things = sum(bool(r.meta["is_thing"]) for r in self.refs)
        return {**super().describe(), "path": str(self.root), "manifest": str(self.manifest),
                "n_thing": things, "n_stuff": len(self.refs) - things}

    def load(self, index: int) -> Sample:
        """Sample `index` (target = the segment; ignore = nothing), as ``ade20k-panoptic``."""
        return load_segment_sample(self.refs[index], self.name)

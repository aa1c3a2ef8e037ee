"""Data fingerprints: what the files of each unit's samples held, so that a resume can
refuse a data folder that changed (``docs/execution.md``, Resume).

A unit's fingerprint is the SHA-1 (hex) of the name, size in bytes and SHA-1 of the content
of every file its samples name (``SampleRef.paths``), in sorted order of full path. Names,
not folders, enter it, so the same data under another ``--data-root`` matches. A file
shared by several samples is read once.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from iseg_bench.datasets.base import Dataset
from iseg_bench.errors import DatasetError
from iseg_bench.protocols.base import Unit

#: bytes read at a time while hashing a file
CHUNK_BYTES = 1 << 20


def file_digest(path: Path) -> str:
    """"<size in bytes>:<SHA-1 hex of the content>" of the file `path`.

    Raises:
        OSError: the file cannot be read.
    """
    sha = hashlib.sha1()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            sha.update(chunk)
            size += len(chunk)
    return f"{size}:{sha.hexdigest()}"


def unit_fingerprints(dataset: Dataset, units: list[Unit]) -> dict[str, str]:
    """{unit id: SHA-1 hex of its samples' files} (see the module docstring); a unit of
    generated samples (no file) gets the digest of nothing.

    Raises:
        DatasetError: a file cannot be read (naming it).
    """
    digests: dict[Path, str] = {}
    out = {}
    for unit in units:
        paths = sorted({p for i in unit.indices for p in dataset.refs[i].paths})
        sha = hashlib.sha1()
        for path in paths:
            if path not in digests:
                try:
                    digests[path] = file_digest(path)
                except OSError as err:
                    raise DatasetError(f"cannot read {path}: {err}") from err
            sha.update(f"{path.name}\0{digests[path]}\n".encode())
        out[unit.unit_id] = sha.hexdigest()
    return out

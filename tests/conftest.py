"""Shared test fixtures: the real benchmark data root.

The data lives outside the repository (../shared/datasets, or $ISEG_BENCH_DATA). Locally a
missing folder skips the tests that need it; under CI=true it is a failure.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _data_root() -> Path:
    env = os.environ.get("ISEG_BENCH_DATA")
    return Path(env) if env else REPO.parent / "shared" / "datasets"


@pytest.fixture(scope="session")
def data_root() -> Path:
    """Path to the real benchmark data (GrabCut/, DAVIS/, COCO_MVal/)."""
    root = _data_root()
    if not (root / "GrabCut").is_dir():
        message = f"benchmark data not found at {root} (set ISEG_BENCH_DATA)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return root

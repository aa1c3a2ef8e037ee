"""Shared test fixtures: the real benchmark data root; Hypothesis's CI profile.

The data lives outside the repository (../shared/datasets, or $ISEG_BENCH_DATA). Locally a
missing folder skips the tests that need it; under CI=true it is a failure. Under CI=true
Hypothesis draws the same examples on every run (derandomize), so a CI result, and the
coverage gate of .ci/run (docs/testing.md), can be reproduced.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

REPO = Path(__file__).resolve().parents[1]


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


settings.register_profile("ci", derandomize=True)
if _in_ci():
    settings.load_profile("ci")


def _data_root() -> Path:
    env = os.environ.get("ISEG_BENCH_DATA")
    return Path(env) if env else REPO.parent / "shared" / "datasets"


@pytest.fixture(scope="session")
def data_root() -> Path:
    """Path to the real benchmark data (GrabCut/, DAVIS/, COCO_MVal/)."""
    root = _data_root()
    if not (root / "GrabCut").is_dir():
        message = f"benchmark data not found at {root} (set ISEG_BENCH_DATA)"
        if _in_ci():
            pytest.fail(message)
        pytest.skip(message)
    return root

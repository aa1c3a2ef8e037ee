"""The fixed CI subset of core mutants (tests/mutation_subset.py): every one must be killed."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.mutation_subset import MUTANTS

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the subset forks one child per mutant")
def test_every_mutant_of_the_fixed_subset_is_killed(tmp_path):
    shutil.copytree(REPO / "iseg_bench", tmp_path / "iseg_bench",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "tests", tmp_path / "tests",
                    ignore=shutil.ignore_patterns("__pycache__", "golden", "models"))
    # the copy must be the one imported, and it must not be measured as the repository
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("COVERAGE") and k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, str(tmp_path / "tests" / "mutation_subset.py"),
                           str(tmp_path)], capture_output=True, text=True, env=env,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    status = json.loads(done.stdout.strip().splitlines()[-1])
    assert status.pop("unmutated") == 0        # the tests pass on the code as it is
    assert list(status) == [m[0] for m in MUTANTS]
    survivors = [m for m, rc in status.items() if rc != 1]  # 1: tests ran and one failed
    assert not survivors, f"mutants not killed (pytest exit status): {status}"


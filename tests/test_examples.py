"""The Python API example of docs/examples runs as a script, as a reader would run it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_the_python_api_example_runs_as_a_script(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, str(REPO / "docs" / "examples" / "python_api.py"),
                           "--limit", "1", "--out", str(tmp_path)],
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    names = {d: json.loads((tmp_path / d / "summary.json").read_text()).get("name")
             for d in ("by-name", "instance", "loop", "replay")}
    assert names == {"by-name": "random walker", "instance": "grown", "loop": "loop",
                     "replay": "grown, replayed"}
    assert "grown, replayed" in proc.stdout     # the table is labelled by the names

"""Draw the figure of docs/simulators.md: simulated training strokes of each family (Bezier,
axial, boundary; rows) on real DAVIS masks (columns), under the training default
(``protect``), seed 0.

Usage:
    python benchmarks/figure_simulated_strokes.py [--data-root ../shared/datasets]
        [--frames 0,40,120,200,300] [--out docs/img/simulated-strokes.png]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from iseg_bench.simulators.scribbles import FAMILIES, ScribbleSimulator  # noqa: E402

STROKES_PER_PANEL = 3


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-root", default=str(REPO.parent / "shared" / "datasets"))
    ap.add_argument("--frames", default="0,40,120,200,300")
    ap.add_argument("--out", default=str(REPO / "docs" / "img" / "simulated-strokes.png"))
    args = ap.parse_args()
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    frames = [int(f) for f in args.frames.split(",")]
    sim = ScribbleSimulator()
    fig, axes = plt.subplots(len(FAMILIES), len(frames), figsize=(3 * len(frames), 6.6))
    for col, f in enumerate(frames):
        gt = cv2.imread(str(Path(args.data_root) / "DAVIS" / "gt" / f"{f:03d}.png"))
        target = gt.max(axis=2) > 0
        for row, family in enumerate(FAMILIES):
            rng = np.random.default_rng([0, f, row])
            canvas = np.where(target[..., None], [200, 200, 200], [40, 40, 40]).astype(np.uint8)
            for _ in range(STROKES_PER_PANEL):
                s = sim.stroke(rng, target, True, family=family)
                canvas[s.painted] = (0, 200, 0)
            ax = axes[row, col]
            ax.imshow(canvas)
            ax.set_xticks([])
            ax.set_yticks([])
            if col == 0:
                ax.set_ylabel(family)
            if row == 0:
                ax.set_title(f"DAVIS {f:03d}")
    fig.tight_layout()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=60)
    print(args.out)


if __name__ == "__main__":
    main()

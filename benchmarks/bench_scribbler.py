"""Time the ScribbleSeg scribbler (iseg_bench.robots.scribbler) per stroke at DAVIS size.

Target: median <= 20 ms per stroke at 854x480 on a 2-core machine, and the speed-up
of the tree-diameter longest path over Alg. 1's literal every-node loop (ScribbleSeg Sec.
3.4, Alg. 1 lines 12-17) on the same masks.

Error masks: for each DAVIS frame (../shared/datasets/DAVIS/gt/*.png, any channel > 0 =
object) five situations of a session: the first interaction (empty prediction) and four
synthetic predictions, the target shifted by (+8, +12) px, eroded by 5 px, dilated by 5 px
(3x3 square, 5 iterations), and shifted by (-6, -4) px then eroded by 2 px. Each robot call
(the whole ``next_interaction``: error components, erosion, medial axis, graph, path,
Bezier) is timed with time.perf_counter (wall) and time.process_time (CPU time of this
process, which is less disturbed by other processes on a shared machine). The every-node
baseline runs the same robot with ``path_method="every_node"`` on the first
``--oracle-frames`` frames only (it is slow), and the speed-up is reported on exactly those
masks, for the whole stroke and for the path step alone (Alg. 1 lines 3-17, both methods
on the skeletons the robot builds), where the path lengths are also checked to agree.

Usage:
    python benchmarks/bench_scribbler.py [--data-root ../shared/datasets] [--frames 345]
        [--oracle-frames 20] [--boundary none] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import iseg_bench.geometry.graph_paths as graph_paths_module  # noqa: E402
from iseg_bench.geometry.graph_paths import skeleton_longest_path  # noqa: E402
from iseg_bench.robots.scribbler import MedialAxisScribbler  # noqa: E402

KERNEL = np.ones((3, 3), np.uint8)


def load_targets(data_root: Path, frames: int) -> list[tuple[str, np.ndarray]]:
    files = sorted((data_root / "DAVIS" / "gt").glob("*.png"))[:frames]
    if not files:
        raise SystemExit(f"no DAVIS masks under {data_root / 'DAVIS' / 'gt'}; pass --data-root")
    out = []
    for f in files:
        m = cv2.imread(str(f), cv2.IMREAD_UNCHANGED)
        m = m.reshape(m.shape[0], m.shape[1], -1)
        out.append((f.stem, (m > 0).any(axis=2)))
    return out


def situations(target: np.ndarray):
    """(name, pred, first) for the five session situations of one target."""
    t8 = target.astype(np.uint8)
    yield "first", np.zeros_like(target), True
    yield "shift(+8,+12)", np.roll(target, (8, 12), axis=(0, 1)), False
    yield "erode5", cv2.erode(t8, KERNEL, iterations=5).astype(bool), False
    yield "dilate5", cv2.dilate(t8, KERNEL, iterations=5).astype(bool), False
    yield ("shift(-6,-4)+erode2",
           cv2.erode(np.roll(t8, (-6, -4), axis=(0, 1)), KERNEL, iterations=2).astype(bool),
           False)


def time_robot(robot, cases) -> tuple[np.ndarray, np.ndarray, list]:
    """(wall ms, process CPU ms, strokes) per case."""
    wall, cpu, strokes = [], [], []
    for target, pred, first in cases:
        ignore = np.zeros_like(target)
        c0, t0 = time.process_time(), time.perf_counter()
        s = robot.next_interaction(target, ignore, pred, [] if first else [None])
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        strokes.append(s)
    return np.array(wall) * 1e3, np.array(cpu) * 1e3, strokes


def path_step(robot, cases) -> dict:
    """Alg. 1 lines 3-17 alone on the skeletons the robot builds for `cases`: both methods'
    time and whether their path lengths agree (the every-node loop is the oracle)."""
    skeletons = []

    def capture(skel, radius, method):
        skeletons.append((skel.copy(), radius))
        return skeleton_longest_path(skel, radius, method)

    graph_paths_module.skeleton_longest_path = capture
    try:
        time_robot(robot, cases)
    finally:
        graph_paths_module.skeleton_longest_path = skeleton_longest_path
    fast, slow, agree, nodes = [], [], 0, []
    for skel, radius in skeletons:
        t0 = time.perf_counter()
        _, a = skeleton_longest_path(skel, radius, "diameter")
        t1 = time.perf_counter()
        _, b = skeleton_longest_path(skel, radius, "every_node")
        t2 = time.perf_counter()
        fast.append(t1 - t0)
        slow.append(t2 - t1)
        agree += abs(a - b) <= 1e-9
        nodes.append(int(skel.sum()))
    fast, slow = np.array(fast) * 1e3, np.array(slow) * 1e3
    return {"n": len(skeletons), "skeleton_nodes_median": float(np.median(nodes)),
            "diameter": summary(fast), "every_node": summary(slow),
            "speedup_median": float(np.median(slow) / np.median(fast)),
            "speedup_total": float(slow.sum() / fast.sum()),
            "lengths_agree": f"{agree}/{len(skeletons)}"}


def summary(ms: np.ndarray) -> dict:
    return {"n": int(len(ms)), "median_ms": float(np.median(ms)),
            "p90_ms": float(np.percentile(ms, 90)), "max_ms": float(ms.max()),
            "mean_ms": float(ms.mean())}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-root", type=Path,
                    default=Path(os.environ.get("ISEG_BENCH_DATA", REPO.parent / "shared"
                                                / "datasets")))
    ap.add_argument("--frames", type=int, default=345)
    ap.add_argument("--oracle-frames", type=int, default=20)
    ap.add_argument("--boundary", default="none",
                    choices=["none", "protect", "clean", "allow"])
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)

    targets = load_targets(args.data_root, args.frames)
    cases = [(t, p, first) for _, t in targets for _, p, first in situations(t)]
    names = [name for _, t in targets for name, _, _ in situations(t)]
    fast = MedialAxisScribbler(boundary=args.boundary)
    slow = MedialAxisScribbler(boundary=args.boundary, path_method="every_node")
    time_robot(fast, cases[:2])                                   # warm-up (lookup tables)

    load_before = os.getloadavg()[0]
    ms, cpu, strokes = time_robot(fast, cases)
    n_oracle = min(len(cases), 5 * args.oracle_frames)
    ms_slow, cpu_slow, strokes_slow = time_robot(slow, cases[:n_oracle])
    same = sum(a == b for a, b in zip(strokes, strokes_slow))
    paths = path_step(fast, cases[:n_oracle])

    report = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "opencv_threads": cv2.getNumThreads(), "load_avg_1min": load_before},
        "shape": list(targets[0][1].shape), "boundary": args.boundary,
        "diameter": summary(ms),
        "diameter_cpu": summary(cpu),
        "per_situation": {k: summary(ms[[n == k for n in names]]) for k in dict.fromkeys(names)},
        "oracle_subset": {"diameter": summary(ms[:n_oracle]),
                          "every_node": summary(ms_slow),
                          "every_node_cpu": summary(cpu_slow),
                          "speedup_median_cpu": float(np.median(cpu_slow)
                                                      / np.median(cpu[:n_oracle])),
                          "speedup_median": float(np.median(ms_slow) / np.median(ms[:n_oracle])),
                          "speedup_total": float(ms_slow.sum() / ms[:n_oracle].sum()),
                          "identical_strokes": f"{same}/{n_oracle}"},
        "path_step": paths,
        "points_per_stroke_median": float(np.median([len(s.points) for s in strokes])),
    }
    d = report["diameter"]
    o = report["oracle_subset"]
    print(f"scribbler ({args.boundary}) on {len(targets)} DAVIS frames x 5 situations "
          f"= {d['n']} strokes at {report['shape'][1]}x{report['shape'][0]}, "
          f"{report['machine']['cpus']} CPUs, load average {load_before:.1f} at start")
    print(f"  per stroke: median {d['median_ms']:.2f} ms, p90 {d['p90_ms']:.2f} ms, "
          f"max {d['max_ms']:.2f} ms, mean {d['mean_ms']:.2f} ms "
          f"(target: median <= 20 ms)")
    c = report["diameter_cpu"]
    print(f"  process CPU time per stroke: median {c['median_ms']:.2f} ms, p90 "
          f"{c['p90_ms']:.2f} ms (less sensitive to other processes on the machine)")
    for k, v in report["per_situation"].items():
        print(f"    {k:22s} median {v['median_ms']:7.2f} ms   p90 {v['p90_ms']:7.2f} ms")
    print(f"  every-node baseline on the first {n_oracle} strokes: median "
          f"{o['every_node']['median_ms']:.1f} ms vs {o['diameter']['median_ms']:.2f} ms -> "
          f"speed-up x{o['speedup_median']:.1f} (median), x{o['speedup_total']:.1f} (total), "
          f"x{o['speedup_median_cpu']:.1f} (median CPU time); "
          f"identical strokes {o['identical_strokes']}")
    p = report["path_step"]
    print(f"  path step alone (Alg. 1 lines 3-17) on those {p['n']} skeletons (median "
          f"{p['skeleton_nodes_median']:.0f} nodes): diameter median "
          f"{p['diameter']['median_ms']:.2f} ms vs every-node {p['every_node']['median_ms']:.1f}"
          f" ms -> x{p['speedup_median']:.0f} (median), x{p['speedup_total']:.0f} (total); "
          f"path lengths agree {p['lengths_agree']}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

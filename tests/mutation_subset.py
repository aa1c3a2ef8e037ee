"""A fixed subset of one-line mutants of the core rules, each with the tests that must kill it.

Run by ``tests/test_mutation_subset.py`` (in CI) as ``python tests/mutation_subset.py COPY``:
COPY is a scratch copy of the repository (``iseg_bench/`` and ``tests/``). The heavy
third-party imports are loaded once; then for each mutant the copy's source file is patched,
a forked child runs the mutant's tests on it with pytest, and the file is restored. Prints
one JSON object {mutant id: pytest exit status} (1 = killed: a test failed), after
the status of the unmutated copy (0: the tests pass there, so each kill is the mutant's).

The full mutation run of the core is ``mutmut`` (docs/testing.md); this subset keeps the
rules most easily broken by a one-character edit pinned in every CI run.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

#: (id, source file, exact text, replacement, test node ids that must fail)
MUTANTS = [
    ("iou-ignore-in-intersection", "iseg_bench/masks.py",
     "np.count_nonzero(target & pred & valid)", "np.count_nonzero(target & pred)",
     ["tests/test_rules.py::test_iou_drops_an_ignored_pixel_that_is_both_predicted_and_on_the_target"]),
    ("noc-reach-is-inclusive", "iseg_bench/metrics.py",
     "reached = ious >= effective_threshold", "reached = ious > effective_threshold",
     ["tests/test_metrics.py"]),
    ("proportion-above-is-strict", "iseg_bench/metrics.py",
     "float(np.mean(ious[:, k - 1] > t))", "float(np.mean(ious[:, k - 1] >= t))",
     ["tests/test_metrics.py"]),
    ("seconds-to-reach-cumulative", "iseg_bench/metrics.py",
     "float(cum[np.arange(len(nocs)), nocs - 1].mean())",
     "float(seconds[np.arange(len(nocs)), nocs - 1].mean())",
     ["tests/test_metrics.py"]),
    ("fill-carries-last", "iseg_bench/metrics.py",
     "out[i, n:] = c[n - 1] if n else np.nan", "out[i, n:] = c[0] if n else np.nan",
     ["tests/test_metrics.py"]),
    ("stop-at-iou-inclusive", "iseg_bench/protocols/session.py",
     "score >= stop_at", "score > stop_at",
     ["tests/test_rules.py::test_stop_at_iou_stops_at_exactly_the_threshold"]),
    ("prob-threshold-strict", "iseg_bench/protocols/session.py",
     "prob > self.prob_threshold", "prob >= self.prob_threshold",
     ["tests/test_session.py::test_threshold_is_strictly_greater_than_049"]),
    ("clicker-tie-negative", "iseg_bench/robots/clicker.py",
     "is_positive = fn_max > fp_max", "is_positive = fn_max >= fp_max",
     ["tests/test_clicker.py::test_tie_between_fn_and_fp_gives_a_negative_click"]),
    ("largest-region-fn-first", "iseg_bench/geometry/error_regions.py",
     'is_positive == (ties == "fp")', 'is_positive != (ties == "fp")',
     ["tests/test_rules.py::test_dios_clicker_breaks_an_equal_size_fn_fp_tie_towards_fn"]),
    ("error-regions-8-connected", "iseg_bench/geometry/error_regions.py",
     "\nCONNECTIVITY = 8\n", "\nCONNECTIVITY = 4\n",
     ["tests/test_rules.py::test_corrective_accuracy_region_is_8_connected_across_a_diagonal"]),
    ("journal-skips-corrupt-middle-line", "iseg_bench/execution/journal.py",
     "except json.JSONDecodeError:\n                continue",
     "except json.JSONDecodeError:\n                break",
     ["tests/test_rules.py::test_a_corrupt_line_in_the_middle_of_the_journal_is_skipped"]),
    ("early-stop-spends-no-time", "iseg_bench/protocols/curves.py",
     "secs[i, len(g):] = 0.0", "secs[i, len(g) + 1:] = 0.0",
     ["tests/test_rules.py::test_seconds_after_an_early_stop_are_zero_and_ious_carry_forward"]),
    ("split-names", "iseg_bench/protocols/figures.py",
     'THING, STUFF = "thing", "stuff"', 'THING, STUFF = "stuff", "thing"',
     ["tests/test_rules.py::test_single_object_summary_splits_are_named_thing_and_stuff"]),
    ("click-json-sign", "iseg_bench/types.py",
     'return Click(int(d["y"]), int(d["x"]), bool(d["is_positive"]), d.get("region"))',
     'return Click(int(d["y"]), int(d["x"]), True, d.get("region"))',
     ["tests/test_rules.py::test_interaction_from_json_every_kind"]),
    ("corrective-share-of-target", "iseg_bench/robots/corrective.py",
     "new_pred[region] == target[region]", "new_pred[region]",
     ["tests/test_masks_corrective.py"]),
]


def run_tests(tests: list[str]) -> int:
    """The exit status of pytest on `tests`, run in a forked child (a fresh import of
    iseg_bench from the working directory)."""
    pid = os.fork()
    if pid == 0:
        import pytest

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        os._exit(int(pytest.main(["-x", "-q", "-p", "no:cacheprovider", *tests])))
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def run_mutant(root: Path, path: str, old: str, new: str, tests: list[str]) -> int:
    """Patch `path` under `root`, run `tests` on it, restore; pytest's exit status."""
    file = root / path
    source = file.read_text(encoding="utf-8")
    if source.count(old) != 1:
        raise SystemExit(f"{path}: the mutated text must occur exactly once: {old!r}")
    file.write_text(source.replace(old, new), encoding="utf-8")
    try:
        return run_tests(tests)
    finally:
        file.write_text(source, encoding="utf-8")


def main(root: Path) -> dict[str, int]:
    """{"unmutated": exit status of all the subset's tests on the copy at `root` as it is,
    then mutant id: exit status} for every mutant of :data:`MUTANTS`."""
    os.chdir(root)
    sys.path.insert(0, str(root))
    # third-party modules the tests need, imported once before forking (never iseg_bench)
    import cv2  # noqa: F401
    import hypothesis  # noqa: F401
    import numpy  # noqa: F401
    import pandas  # noqa: F401
    import scipy.ndimage  # noqa: F401
    import skimage  # noqa: F401
    status = {"unmutated": run_tests(sorted({t for m in MUTANTS for t in m[4]}))}
    status.update((mid, run_mutant(root, path, old, new, tests))
                  for mid, path, old, new, tests in MUTANTS)
    return status


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]))))

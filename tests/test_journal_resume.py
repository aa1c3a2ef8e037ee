"""The journal's line format and writer, and the resume checks, on hand-written inputs
(docs/execution.md), without running a model."""

from __future__ import annotations

import json

import numpy as np
import pytest

from iseg_bench.config import RunConfig, versions
from iseg_bench.errors import ConfigMismatchError, IsegBenchError
from iseg_bench.execution import journal, resume
from iseg_bench.run_folder import CONFIG, DATA_FINGERPRINTS, RECORDS


def test_result_lines_hold_exactly_the_documented_keys():
    assert journal.ok_result("u1", [{"iou": 0.5}]) == {
        "unit_id": "u1", "status": "ok", "error": None, "records": [{"iou": 0.5}]}
    assert journal.failed_result("u2", "ValueError: bad", "tb") == {
        "unit_id": "u2", "status": "failed", "error": "ValueError: bad", "traceback": "tb",
        "records": []}
    assert journal.failed_result("u3", "E: x")["traceback"] is None


def test_dumps_line_is_one_json_line_with_numpy_values_and_nan():
    line = journal.dumps_line(journal.ok_result(
        "u", [{"a": np.int64(3), "b": np.float32(0.5), "c": np.array([1, 2]), "d": np.nan}]))
    assert "\n" not in line
    assert line == ('{"unit_id": "u", "status": "ok", "error": null, "records": '
                    '[{"a": 3, "b": 0.5, "c": [1, 2], "d": NaN}]}')
    with pytest.raises(TypeError, match="record value of type object"):
        journal.dumps_line(journal.ok_result("u", [{"x": object()}]))


def test_record_writer_appends_lines_after_cutting_a_torn_one(tmp_path):
    path = tmp_path / RECORDS
    path.write_text('{"unit_id": "a", "status": "ok"}\n{"unit_id": "b", "sta',
                    encoding="utf-8")
    writer = journal.RecordWriter(path)
    writer.write(journal.ok_result("c", []))
    writer.write(journal.failed_result("d", "E: x"))
    writer.close()
    writer.close()                                   # idempotent
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    assert lines[0] == '{"unit_id": "a", "status": "ok"}\n'
    assert [json.loads(x)["unit_id"] for x in lines] == ["a", "c", "d"]
    assert all(x.endswith("\n") for x in lines)
    # a missing or empty journal needs no repair
    assert journal.repair_journal(tmp_path / "none.jsonl") == 0
    (tmp_path / "empty.jsonl").write_bytes(b"")
    assert journal.repair_journal(tmp_path / "empty.jsonl") == 0
    # a journal that is one partial line loses all of it
    (tmp_path / "one.jsonl").write_bytes(b'{"unit')
    assert journal.repair_journal(tmp_path / "one.jsonl") == 6
    assert (tmp_path / "one.jsonl").read_bytes() == b""


def test_read_results_of_a_folder_without_journal_is_empty(tmp_path):
    assert list(journal.read_results(tmp_path)) == []


def test_order_results_keeps_each_units_last_result_in_unit_order():
    r = [{"unit_id": u, "status": s} for u, s in
         [("b", "failed"), ("a", "ok"), ("x", "ok"), ("b", "ok"), ("y", "ok"), ("x", "failed")]]
    ordered = journal.order_results(r, ["a", "b", "c"])
    assert [(x["unit_id"], x["status"]) for x in ordered] == [
        ("a", "ok"), ("b", "ok"), ("y", "ok"), ("x", "failed")]
    # units ranked by the given order, not by the journal's
    assert [x["unit_id"] for x in journal.order_results(r, ["b", "a"])] == ["b", "a", "y", "x"]
    # without a unit order: the order of each unit's last result
    assert [(x["unit_id"], x["status"]) for x in journal.order_results(r, None)] == [
        ("a", "ok"), ("b", "ok"), ("y", "ok"), ("x", "failed")]


def _stored(cfg: RunConfig, units, prints=None) -> dict:
    out = {**cfg.to_json(), "versions": versions(), "units": list(units)}
    if prints is not None:
        out[DATA_FINGERPRINTS] = prints
    return out


CFG = RunConfig(model="faulty", dataset="synthetic", limit=3, max_interactions=3)


def test_resume_mismatches_lists_every_difference_in_words():
    units = ["u0", "u1", "u2"]
    stored = _stored(CFG, units, {"u0": "f0", "u1": "f1", "u2": "f2"})
    same = {"u0": "f0", "u1": "f1", "u2": "f2"}
    assert resume.resume_mismatches(stored, CFG, units, same) == []
    # execution settings (workers, limit, data_root) may change
    changed = RunConfig(model="faulty", dataset="synthetic", limit=9, max_interactions=3,
                        workers=4)
    assert resume.resume_mismatches(stored, changed, units, same) == []
    other = RunConfig(model="faulty", dataset="synthetic", limit=3, max_interactions=5)
    stored["versions"] = {**stored["versions"], "numpy": "0.0.1"}
    got = resume.resume_mismatches(stored, other, ["u0", "u1", "v2", "u3"],
                                   {"u0": "f0", "u1": "changed", "v2": "f2"})
    assert got == [
        "setting 'max_interactions': the run has 3, this command has 5",
        f"version of numpy: the run used '0.0.1', this environment has "
        f"{versions()['numpy']!r}",
        "samples: the run has 3, this command 4 (first difference at position 2; --limit, "
        "the dataset or its options changed)",
        "data: the files of 1 sample(s) differ from those the run started with: u1 (another "
        "or an edited data folder)"]


def test_unit_difference_at_the_end_of_the_shorter_list():
    assert "first difference at position 2;" in resume._unit_difference(["a", "b"],
                                                                         ["a", "b", "c"])
    assert "first difference at position 0;" in resume._unit_difference(["x"], ["a"])


def test_changed_data_names_ten_units_and_counts_the_rest():
    changed = [f"u{i}" for i in range(12)]
    text = resume._data_difference(changed)
    assert text == ("data: the files of 12 sample(s) differ from those the run started "
                    "with: u0, u1, u2, u3, u4, u5, u6, u7, u8, u9 and 2 more (another or an "
                    "edited data folder)")
    assert " more" not in resume._data_difference(changed[:10])


def test_a_run_stored_without_units_or_fingerprints_checks_only_settings():
    stored = {**CFG.to_json(), "versions": versions()}
    assert resume.resume_mismatches(stored, CFG, ["anything"], {}) == []


def test_check_resume_errors_name_the_folder(tmp_path):
    with pytest.raises(IsegBenchError, match=f"cannot resume {tmp_path}: it holds no run "
                                             rf"\({CONFIG} missing\); start it without "
                                             "--resume"):
        resume.check_resume(tmp_path, CFG, [], {})
    (tmp_path / CONFIG).write_text(json.dumps(_stored(CFG, [])), encoding="utf-8")
    assert resume.check_resume(tmp_path, CFG, [], {})["units"] == []
    other = RunConfig(model="faulty", dataset="synthetic", max_interactions=4)
    with pytest.raises(ConfigMismatchError, match=f"cannot resume {tmp_path}: this command "
                                                  "differs from the interrupted run:\n  - "
                                                  "setting 'max_interactions'"):
        resume.check_resume(tmp_path, other, [], {})


def test_versions_missing_on_either_side_are_differences():
    stored = _stored(CFG, ["u0"])
    now = versions()
    del stored["versions"]["numpy"]
    stored["versions"]["oldlib"] = "1.0"
    assert resume.resume_mismatches(stored, CFG, ["u0"], {}) == [
        f"version of numpy: the run used None, this environment has {now['numpy']!r}",
        "version of oldlib: the run used '1.0', this environment has None"]
    del stored["versions"]                             # a run stored without versions
    assert len(resume.resume_mismatches(stored, CFG, ["u0"], {})) == len(now)


def test_numpy_option_values_compare_as_their_json():
    cfg = RunConfig(model="faulty", dataset="synthetic", limit=3,
                    model_options={"max_side": np.int64(48), "beta": np.float64(0.5)})
    stored = json.loads(json.dumps(_stored(cfg, ["u0"]), default=lambda o: o.item()))
    assert resume.resume_mismatches(stored, cfg, ["u0"], {}) == []


class _Unit:
    def __init__(self, unit_id):
        self.unit_id = unit_id


def test_check_resume_lists_every_problem_one_per_line(tmp_path):
    units = [_Unit("u0"), _Unit("u1")]
    (tmp_path / CONFIG).write_text(json.dumps(_stored(CFG, ["u0", "u1"],
                                                      {"u0": "f0", "u1": "f1"})),
                                   encoding="utf-8")
    assert resume.check_resume(tmp_path, CFG, units, {"u0": "f0", "u1": "f1"})["units"] == [
        "u0", "u1"]
    other = RunConfig(model="faulty", dataset="synthetic", limit=3, max_interactions=4)
    with pytest.raises(ConfigMismatchError) as err:
        resume.check_resume(tmp_path, other, units, {"u0": "f0", "u1": "new"})
    assert str(err.value) == (
        f"cannot resume {tmp_path}: this command differs from the interrupted run:\n"
        "  - setting 'max_interactions': the run has 3, this command has 4\n"
        "  - data: the files of 1 sample(s) differ from those the run started with: u1 "
        "(another or an edited data folder)")

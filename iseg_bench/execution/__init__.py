"""Execution of a run: orchestration, the worker pool, resume checks, the journal, the run
folder and output writing (``docs/execution.md``)."""

from iseg_bench.execution.outputs import RunOutcome, finalize
from iseg_bench.execution.run import execute
from iseg_bench.execution.run_folder import load_records, load_run

__all__ = ["RunOutcome", "execute", "finalize", "load_records", "load_run"]

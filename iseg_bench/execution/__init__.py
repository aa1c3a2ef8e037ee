"""Execution of a run: orchestration, the worker pool, resume checks, the journal and output
writing (``docs/execution.md``); the run folder's files are read and written by
``iseg_bench.run_folder``."""

from iseg_bench.execution.outputs import RunOutcome, finalize
from iseg_bench.execution.run import execute

__all__ = ["RunOutcome", "execute", "finalize"]

"""What a run's process leaves behind when it dies without finishing (a segfault in a
model's C code, SIGKILL, the OOM killer), and how a later command reads it.

A process cannot survive a real SIGSEGV, but it can leave word: while a run executes,
``faulthandler`` writes the Python traceback of a fatal signal to ``crash.log`` in the run
folder, and the run-folder lock file names the unit being evaluated in this process
(:meth:`~iseg_bench.execution.lock.RunFolderLock.mark`). The rules are in
``docs/execution.md``.
"""

from __future__ import annotations

import faulthandler
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from iseg_bench.execution.lock import lock_holder
from iseg_bench.run_folder import CRASH_LOG


@contextmanager
def crash_log(out_dir: Path) -> Iterator[None]:
    """Within the block, a fatal signal of this process (SIGSEGV, SIGFPE, SIGABRT, SIGBUS,
    SIGILL) writes the Python traceback of every thread to ``out_dir/crash.log`` before the
    process dies. Afterwards the file is removed when nothing was written, and a
    faulthandler that was enabled before is enabled again on stderr.

    Raises:
        OSError: crash.log cannot be created.
    """
    path = Path(out_dir) / CRASH_LOG
    was_enabled = faulthandler.is_enabled()
    fh = open(path, "w", encoding="utf-8")
    try:
        faulthandler.enable(file=fh, all_threads=True)
        yield
    finally:
        faulthandler.disable()
        fh.close()
        if path.stat().st_size == 0:
            path.unlink()
        if was_enabled:
            _enable_on_stderr()


def _enable_on_stderr() -> None:
    """Enable faulthandler on the process's stderr again (when it has a file number)."""
    if sys.__stderr__ is None:
        return
    try:
        faulthandler.enable(file=sys.__stderr__)
    except (AttributeError, ValueError, OSError):   # a stderr without a file number
        pass


def crash_signal(out_dir: Path) -> str | None:
    """The first line of ``out_dir/crash.log`` (e.g. "Fatal Python error: Segmentation
    fault"), None when there is none."""
    try:
        lines = (Path(out_dir) / CRASH_LOG).read_text(encoding="utf-8",
                                                      errors="replace").splitlines()
    except OSError:
        return None
    return next((line.strip() for line in lines if line.strip()), None)


def how_it_ended(out_dir: Path) -> str | None:
    """In words, why the run in `out_dir` has no summary.json: a run still writing it, or
    one whose process died (naming its pid, the unit it was evaluating and the crash.log
    signal); None when its lock file says nothing (no lock file is left)."""
    holder = lock_holder(out_dir)
    if holder is None:
        return None
    if holder.alive:
        return f"a run is writing it now (pid {holder.pid})"
    unit = (f" while evaluating {holder.unit}" if holder.unit is not None
            else " while no unit was being evaluated in it")
    signal = crash_signal(out_dir)
    cause = f" ({signal}; see {Path(out_dir) / CRASH_LOG})" if signal else " (killed?)"
    return f"its process (pid {holder.pid}) died{unit}{cause}"

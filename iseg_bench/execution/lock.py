"""The run-folder lock: one run (new or resumed) writes a run folder at a time.

An OS-level lock (``fcntl.flock``, exclusive, non-blocking) on ``run.lock`` in the folder,
held for the whole run. The kernel releases it when its holder exits however it ends
(SIGKILL, OOM kill), so a crash never leaves a stale lock. The rules are in
``docs/execution.md``.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType
from typing import Literal

from iseg_bench.errors import IsegBenchError, RunFolderError
from iseg_bench.run_folder import LOCK

#: times an acquirer re-opens the lock file that its holder removed meanwhile
REOPEN_ATTEMPTS = 5


class RunFolderBusyError(IsegBenchError):
    """Another process holds the run folder's lock."""


def _holder(path: Path) -> str:
    """The pid written in the lock file `path`, as text ("unknown" when unreadable)."""
    try:
        text = path.read_text().strip()
    except OSError:
        return "unknown"
    return text if text.isdigit() else "unknown"


class RunFolderLock:
    """Hold the lock of run folder `out_dir` within a ``with`` block.

    Entering creates the folder when missing and writes this process's pid into the lock
    file; leaving removes the lock file, then the folder when this lock created it and it
    is empty (a run that failed to start leaves nothing behind).

    Raises (on entering):
        RunFolderBusyError: another process holds the lock; the message names its pid.
        RunFolderError: the folder or the lock file cannot be created.
    """

    def __init__(self, out_dir: Path):
        self.out_dir = Path(out_dir)
        self.path = self.out_dir / LOCK
        self._fd: int | None = None
        self._created = False

    def __enter__(self) -> RunFolderLock:
        self._created = not self.out_dir.exists()
        for _ in range(REOPEN_ATTEMPTS):
            fd = self._open()
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                self._remove_created_folder()
                raise RunFolderBusyError(
                    f"{self.out_dir} is in use by another iseg-bench run (pid "
                    f"{_holder(self.path)}); wait for it to end or choose another --out"
                ) from None
            if self._same_file(fd):   # else its holder removed it between open and flock
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()}\n".encode())
                self._fd = fd
                return self
            os.close(fd)
        raise RunFolderBusyError(f"{self.out_dir}: its lock file keeps being replaced; is "
                                 "another iseg-bench run starting there?")

    def _open(self) -> int:
        """The lock file's descriptor (folder and file created when missing).

        Raises:
            RunFolderError: the folder or the file cannot be created (a read-only or
                full disk, a file in the way).
        """
        try:
            self.out_dir.mkdir(parents=True, exist_ok=True)
            return os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            raise RunFolderError(f"cannot write the run folder {self.out_dir}: "
                                 f"{err.strerror or err}") from err

    def _same_file(self, fd: int) -> bool:
        """Whether `fd` is still the file at the lock's path."""
        try:
            return os.stat(self.path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            return False

    def _remove_created_folder(self) -> None:
        """Remove the folder if this lock created it and nothing is in it."""
        if self._created:
            try:
                self.out_dir.rmdir()
            except OSError:   # not empty: another run uses it
                pass

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> Literal[False]:
        if self._fd is not None:
            self.path.unlink(missing_ok=True)   # while still locked: see _same_file
            os.close(self._fd)
            self._fd = None
            self._remove_created_folder()
        return False

"""The run-folder lock: one run (new or resumed) writes a run folder at a time.

An OS-level lock (``fcntl.flock``, exclusive, non-blocking) on ``run.lock`` in the folder,
held for the whole run. The kernel releases it when its holder exits however it ends
(SIGKILL, OOM kill), so a crash never leaves a stale lock. The rules are in
``docs/execution.md``.
"""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Literal

from iseg_bench.errors import IsegBenchError, RunFolderError
from iseg_bench.run_folder import LOCK

#: times an acquirer re-opens the lock file that its holder removed meanwhile
REOPEN_ATTEMPTS = 5
#: start of the lock file's line naming the unit its holder is evaluating in this process
UNIT_PREFIX = "unit "


class RunFolderBusyError(IsegBenchError):
    """Another process holds the run folder's lock."""


def _lock_lines(path: Path) -> list[str]:
    """The lines of the lock file `path` ([] when missing or unreadable)."""
    try:
        return path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []


def _holder(path: Path) -> str:
    """The pid written in the lock file `path`, as text ("unknown" when unreadable)."""
    lines = _lock_lines(path)
    return lines[0] if lines and lines[0].isdigit() else "unknown"


def _unit_in_progress(lines: list[str]) -> str | None:
    """The unit id of a lock file's "unit <id>" line (None when there is none)."""
    for line in lines[1:]:
        if line.startswith(UNIT_PREFIX):
            return line[len(UNIT_PREFIX):]
    return None


@dataclass(frozen=True)
class Holder:
    """The process named in a run folder's lock file.

    Attributes:
        pid: its pid as text ("unknown" when unreadable).
        unit: the unit it was evaluating in its own process (None: none, or units ran in
            worker processes).
        alive: whether it still holds the lock (False: it died without releasing it,
            killed or crashed).
    """

    pid: str
    unit: str | None
    alive: bool


def lock_holder(out_dir: Path) -> Holder | None:
    """The process named in `out_dir`'s lock file, None when there is no lock file.

    Only looks: takes the lock for an instant when it is free, never creates the file."""
    path = Path(out_dir) / LOCK
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        alive = False
    except BlockingIOError:
        alive = True
    finally:
        os.close(fd)   # closing drops the lock
    return Holder(_holder(path), _unit_in_progress(_lock_lines(path)), alive)


class RunFolderLock:
    """Hold the lock of run folder `out_dir` within a ``with`` block.

    Entering creates the folder when missing and writes this process's pid into the lock
    file (:meth:`mark` adds the unit being evaluated); leaving removes the lock file, then
    the folder (and the parents made for it) when this lock created it and it is empty (a
    run that failed to start leaves nothing behind).

    Raises (on entering):
        RunFolderBusyError: another process holds the lock; the message names its pid.
        RunFolderError: the folder or the lock file cannot be created.
    """

    def __init__(self, out_dir: Path):
        self.out_dir = Path(out_dir)
        self.path = self.out_dir / LOCK
        self._fd: int | None = None
        self._created: list[Path] = []   # the folders this lock creates, deepest first

    def __enter__(self) -> RunFolderLock:
        self._created = [d for d in (self.out_dir, *self.out_dir.parents) if not d.exists()]
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
                self._fd = fd
                self.mark(None)
                return self
            os.close(fd)
        raise RunFolderBusyError(f"{self.out_dir}: its lock file keeps being replaced; is "
                                 "another iseg-bench run starting there?")

    def mark(self, unit_id: str | None) -> None:
        """Write this process's pid into the held lock file, and the unit it now evaluates
        (a "unit <id>" line) unless `unit_id` is None, so that a crash leaves it named
        (:func:`lock_holder`). Not synced: it survives the process, not a power loss."""
        if self._fd is None:
            return
        text = f"{os.getpid()}\n" + ("" if unit_id is None else f"{UNIT_PREFIX}{unit_id}\n")
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, text.encode("utf-8"), 0)

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
        """Remove the folder, and the parents made for it, that this lock created and that
        hold nothing."""
        for folder in self._created:
            try:
                folder.rmdir()
            except OSError:   # not empty: another run uses it
                return

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> Literal[False]:
        if self._fd is not None:
            self.path.unlink(missing_ok=True)   # while still locked: see _same_file
            os.close(self._fd)
            self._fd = None
            self._remove_created_folder()
        return False

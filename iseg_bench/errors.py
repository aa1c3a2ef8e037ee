"""Exception types with messages meant for the person running the benchmark.

Each class states the command line's exit status for it (``exit_code``); the scheme is in
``docs/cli.md``: 0 done, 1 samples failed (or a regression for ``compare``), 2 usage or
refusal, 3 I/O or environment error, 130 interrupted.
"""

from typing import ClassVar

#: exit status of a run that finished with failed samples (``compare``: a regression)
FAILED_EXIT = 1
#: exit status of a usage error or a refusal (click's own convention for usage errors)
USAGE_EXIT = 2
#: exit status of an I/O or environment error (a file or folder cannot be read or written)
ENVIRONMENT_EXIT = 3
#: exit status of a command stopped by Ctrl-C or SIGTERM (128 + SIGINT)
INTERRUPTED_EXIT = 130


class IsegBenchError(Exception):
    """Base class: an error whose message says what went wrong and how to fix it.

    Class attribute ``exit_code``: the command line's exit status for it (``USAGE_EXIT``
    unless a subclass says otherwise)."""

    exit_code: ClassVar[int] = USAGE_EXIT


class UsageError(IsegBenchError):
    """A setting given by the user is wrong: a bad option value or an unknown option key.

    The command line reports it in one line and exits with status 2."""


class UnknownNameError(UsageError):
    """A registry (models, robots, datasets, protocols) has no entry of that name.

    The message lists the known names."""


class DatasetError(IsegBenchError):
    """A dataset folder is missing or malformed, or one of its files cannot be read.

    An environment error: exit status 3."""

    exit_code = ENVIRONMENT_EXIT


class DatasetUsageError(UsageError, DatasetError):
    """A dataset setting given by the user is wrong (an option out of range, no data root):
    a usage error (exit status 2) that is also a DatasetError."""

    exit_code = USAGE_EXIT


class AdapterError(IsegBenchError):
    """A model adapter cannot be found, built, or returned an invalid prediction."""


class SampleError(IsegBenchError):
    """One sample cannot be evaluated (empty target, empty union, bad prediction...)."""


class ConfigMismatchError(IsegBenchError):
    """A resumed or compared run was made with different settings."""


class RunFolderError(IsegBenchError):
    """A run folder or one of its files cannot be read or written (a damaged config.json or
    summary.json, a read-only or missing folder): an environment error, exit status 3."""

    exit_code = ENVIRONMENT_EXIT


class NotARunError(RunFolderError):
    """A path given as a run folder holds no (finished) run: a usage error, exit status 2."""

    exit_code = USAGE_EXIT

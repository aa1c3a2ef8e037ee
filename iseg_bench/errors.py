"""Exception types with messages meant for the person running the benchmark."""


class IsegBenchError(Exception):
    """Base class: an error whose message says what went wrong and how to fix it."""


class UsageError(IsegBenchError):
    """A setting given by the user is wrong: a bad option value or an unknown option key.

    The command line reports it in one line and exits with status 2."""


class UnknownNameError(UsageError):
    """A registry (models, robots, datasets, protocols) has no entry of that name.

    The message lists the known names."""


class DatasetError(IsegBenchError):
    """A dataset folder is missing or malformed, or one of its files cannot be read."""


class AdapterError(IsegBenchError):
    """A model adapter cannot be found, built, or returned an invalid prediction."""


class SampleError(IsegBenchError):
    """One sample cannot be evaluated (empty target, empty union, bad prediction...)."""


class ConfigMismatchError(IsegBenchError):
    """A resumed or compared run was made with different settings."""


class RunFolderError(IsegBenchError):
    """A path is not a run folder, or its config.json or summary.json cannot be read."""

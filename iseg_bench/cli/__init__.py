"""The ``iseg-bench`` command line (click); the commands are described in ``docs/cli.md``.

This module holds the command group ``main`` (the console script) and its error handling;
each command lives in a module of this package: ``run`` (run), ``results`` (report, plot,
compare), ``pictures`` (show, gallery), ``data`` (datasets, datasets build) and ``models``
(train, models).

Exit status (``docs/cli.md``): 0 done, 1 some samples failed (``run``) or a figure got
worse (``compare``), 2 a usage error or a refusal, 3 an I/O or environment error, 130
stopped by Ctrl-C or SIGTERM; every error but a run's failed samples is one line on stderr.
"""

from __future__ import annotations

import sys
from typing import Any, NoReturn

import click

from iseg_bench.cli import data as data_commands
from iseg_bench.cli import merge as merge_command
from iseg_bench.cli import models as model_commands
from iseg_bench.cli import pictures as picture_commands
from iseg_bench.cli import results as result_commands
from iseg_bench.cli import run as run_command
from iseg_bench.cli.hints import os_error_message
from iseg_bench.errors import (
    ENVIRONMENT_EXIT,
    FAILED_EXIT,
    INTERRUPTED_EXIT,
    USAGE_EXIT,
    IsegBenchError,
)

__all__ = ["ENVIRONMENT_EXIT", "FAILED_EXIT", "INTERRUPTED_EXIT", "USAGE_EXIT", "main"]


def _fail(message: str, status: int) -> NoReturn:
    click.secho(f"error: {message}", fg="red", err=True)
    sys.exit(status)


class _Group(click.Group):
    """Reports every error as one line: click's usage errors with exit status 2, an
    IsegBenchError with its class's ``exit_code``, an OSError (a full disk, a read-only
    folder) with 3, Ctrl-C with 130."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            _fail(exc.format_message(), USAGE_EXIT)
        except IsegBenchError as exc:
            _fail(str(exc), exc.exit_code)
        except OSError as exc:
            _fail(os_error_message(exc), ENVIRONMENT_EXIT)
        except KeyboardInterrupt:
            _fail("interrupted", INTERRUPTED_EXIT)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="iseg-bench")
def main() -> None:
    """Benchmark interactive segmentation models with deterministic robot users.

    \b
    Start with:
      iseg-bench datasets                      # which benchmark folders are found
      iseg-bench run --model grabcut --dataset grabcut --data-root ../shared/datasets
      iseg-bench report runs/*                 # one table across runs
    """


for _command in (run_command.run, result_commands.report, result_commands.plot,
                 result_commands.compare, data_commands.datasets, model_commands.train,
                 model_commands.models, merge_command.merge):
    main.add_command(_command)
for _command in (picture_commands.show, picture_commands.gallery):
    main.add_command(_command)

"""The ``iseg-bench`` command line (click); the commands are described in ``docs/cli.md``.

This module holds the command group ``main`` (the console script) and its error handling;
each command lives in a module of this package: ``run`` (run), ``results`` (report, plot,
compare), ``data`` (datasets, datasets build) and ``models`` (train, models).

Exit status: 0 done, 1 some samples failed (``run``) or a figure got worse (``compare``),
2 a usage error (bad option, unknown name, missing data) shown as one line, 130 a run
stopped by Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import sys
from typing import Any, NoReturn

import click

from iseg_bench.cli import data as data_commands
from iseg_bench.cli import merge as merge_command
from iseg_bench.cli import models as model_commands
from iseg_bench.cli import results as result_commands
from iseg_bench.cli import run as run_command
from iseg_bench.cli.run import INTERRUPTED_EXIT
from iseg_bench.errors import IsegBenchError

__all__ = ["INTERRUPTED_EXIT", "USAGE_EXIT", "main"]

#: exit status of a usage error (click's own convention)
USAGE_EXIT = 2


def _fail(message: str) -> NoReturn:
    click.secho(f"error: {message}", fg="red", err=True)
    sys.exit(USAGE_EXIT)


class _Group(click.Group):
    """Reports IsegBenchError and click's usage errors as one line, exit status 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            _fail(exc.format_message())
        except IsegBenchError as exc:
            _fail(str(exc))


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

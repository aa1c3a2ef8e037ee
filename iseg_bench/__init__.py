"""iseg-bench: deterministic robot users and standard figures for interactive segmentation.

The public API: :func:`evaluate` runs a benchmark and returns its :class:`Run`;
:func:`interactive_session` runs one for a model that answers each interaction in a loop;
the interaction and sample types; the run settings; the error classes
(``iseg_bench.errors``). See ``docs/`` for the protocols, robots and the run folder.
"""

from iseg_bench import errors
from iseg_bench.api import Run, evaluate
from iseg_bench.config import RunConfig
from iseg_bench.execution import RunOutcome
from iseg_bench.interactive import InteractiveSession, interactive_session
from iseg_bench.types import Box, Click, ExtremePoints, Sample, Scribble

__version__ = "0.1.0"

__all__ = ["Box", "Click", "ExtremePoints", "InteractiveSession", "Run", "RunConfig",
           "RunOutcome", "Sample", "Scribble", "errors", "evaluate", "interactive_session"]

"""An interactive session for a model that is not an adapter class (in the style of the
DAVIS interactive challenge's session): the caller iterates over (sample, interaction) and
submits a probability map for each one.

    session = iseg_bench.interactive_session("grabcut", robot="clicker", limit=2)
    for sample, interaction in session:
        session.submit(my_model(sample.image, session.history, session.prev_prob))
    print(session.run.summary)

The run is the ordinary single-object run of ``iseg_bench.evaluate`` on the same session loop
(``protocols/session.py``): it runs in a background thread whose model hands each call over
to the caller and waits for the submitted map, so records, summary and run folder are those
``evaluate`` writes with an adapter that returns the same maps (``docs/api.md``).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from iseg_bench.adapters.base import Adapter, validate_probability
from iseg_bench.api import Run, default_run_folder, run_config
from iseg_bench.datasets.base import Dataset
from iseg_bench.errors import UsageError
from iseg_bench.execution import execute
from iseg_bench.execution.evaluation import load_dataset
from iseg_bench.types import Interaction, Sample


class SubmittedMaps(Adapter):
    """The model of an interactive session: each ``predict`` hands (history, previous map)
    to the caller's thread and returns the map it submits. A closed session makes the
    waiting call raise KeyboardInterrupt, which ends the run as interrupted."""

    name = "submitted-maps"
    accepts = frozenset({"click", "scribble"})

    def __init__(self) -> None:
        self.requests: queue.Queue[tuple[list[Interaction], np.ndarray] | None] = queue.Queue()
        self.answers: queue.Queue[np.ndarray | None] = queue.Queue()

    def set_image(self, image: np.ndarray) -> None:
        """Nothing: the caller gets the whole sample with its first interaction."""

    def predict(self, interactions: Sequence[Interaction], prev_prob: np.ndarray) -> np.ndarray:
        self.requests.put((list(interactions), prev_prob))
        answer = self.answers.get()
        if answer is None:
            raise KeyboardInterrupt("the interactive session was closed")
        return answer


class _Observed(Dataset):
    """`inner`, telling the session which sample the loop loaded last."""

    def __init__(self, inner: Dataset, session: InteractiveSession):
        super().__init__(inner.refs)
        self.inner, self.session = inner, session

    def load(self, index: int) -> Sample:
        sample = self.inner.load(index)
        self.session.sample = sample
        return sample

    def describe(self) -> dict[str, Any]:
        return self.inner.describe()


class InteractiveSession:
    """Iterate to get each (sample, interaction); answer each with :meth:`submit`.

    Attributes:
        config: the run's settings (model "iseg_bench.interactive:SubmittedMaps").
        folder: the run folder.
        sample: the current sample (its ``target`` and ``ignore`` are the robot's; a model
            must not look at them).
        history: the current sample's interactions so far, oldest first, the newest being
            the one just given.
        prev_prob: (H, W) float32, the map submitted for the previous interaction of the
            sample (zeros before the first).
        run: the finished :class:`~iseg_bench.api.Run` once the iteration has ended (also
            after a ``break``: an interrupted run holding the samples finished before).
    """

    def __init__(self, dataset: str | Dataset, robot: str | None = None, *,
                 out_dir: str | Path | None = None, **settings: Any):
        if settings.get("protocol", "single-object") != "single-object":
            raise UsageError("an interactive session runs the single-object protocol only")
        self.model = SubmittedMaps()
        self.config = run_config(self.model, dataset, robot, settings)
        self.folder = Path(out_dir) if out_dir is not None else default_run_folder(self.config)
        self.dataset = _Observed(dataset if isinstance(dataset, Dataset)
                                 else load_dataset(self.config), self)
        self.sample: Sample | None = None
        self.history: list[Interaction] = []
        self.prev_prob = np.zeros((0, 0), np.float32)
        self.run: Run | None = None
        self._waiting = False
        self._started = False
        self._done = False
        self._error: BaseException | None = None

    def _execute(self) -> None:
        """The run (background thread); its end is a None request."""
        try:
            outcome = execute(self.config, self.folder, progress=False, adapter=self.model,
                              dataset=self.dataset)
            self.run = Run(outcome.out_dir, self.config, outcome)
        except BaseException as exc:  # handed to the caller's thread, raised there
            self._error = exc
        finally:
            self.model.requests.put(None)

    def __iter__(self) -> Iterator[tuple[Sample, Interaction]]:
        """(sample, its newest interaction), one per model call of the run, in run order.

        Raises:
            UsageError: iterated twice, or the next item asked for before :meth:`submit`.
            Any error of the run itself (e.g. the folder already holds a run).
        """
        if self._started:
            raise UsageError("an interactive session is iterated once; start a new one")
        self._started = True
        thread = threading.Thread(target=self._execute, name="iseg-bench session", daemon=True)
        thread.start()
        try:
            while (request := self.model.requests.get()) is not None:
                self.history, self.prev_prob = request
                self._waiting = True
                assert self.sample is not None   # loaded by the run before the model call
                yield self.sample, self.history[-1]
                if self._waiting:
                    raise UsageError("submit(prob) a map for each interaction before asking "
                                     "for the next")
            self._done = True
        finally:
            self._close(thread)
        if self._error is not None:
            raise self._error

    def _close(self, thread: threading.Thread) -> None:
        """Let the run end (interrupted when it is not done) and wait for its thread."""
        if not self._done:
            if self._waiting:
                self.model.answers.put(None)
                self._waiting = False
            while self.model.requests.get() is not None:
                self.model.answers.put(None)
            self._done = True
        thread.join()

    def submit(self, prob: np.ndarray) -> None:
        """Answer the current interaction with the foreground probability map `prob`,
        (H, W) float in [0, 1] of the sample's image (thresholded by the run's
        ``prob_threshold``, 0.49 by default).

        Raises:
            UsageError: no interaction is waiting for a map.
            SampleError: `prob` has the wrong shape or dtype, or values outside [0, 1]
                (nothing is submitted; submit a correct map).
        """
        if not self._waiting or self.sample is None:
            raise UsageError("no interaction is waiting for a map (iterate over the session "
                             "first; submit once per interaction)")
        validate_probability(prob, self.sample.shape)
        self._waiting = False
        self.model.answers.put(prob)


def interactive_session(dataset: str | Dataset, robot: str | None = None, *,
                        out_dir: str | Path | None = None,
                        **settings: Any) -> InteractiveSession:
    """An :class:`InteractiveSession` on `dataset` with the robot user `robot`.

    Args:
        dataset: a registered dataset name or a Dataset instance.
        robot: a registered robot name (default clicker).
        out_dir: the run folder to create (default: ``runs/...``).
        **settings: RunConfig fields as for ``iseg_bench.evaluate`` (``limit``,
            ``max_interactions``, ``robot_options``, ``name``, ...); not ``model_options``,
            and one worker only.

    Raises:
        UsageError: an unknown setting, another protocol; UnknownNameError: an unknown
            dataset or robot; DatasetError: the dataset cannot be loaded.
    """
    return InteractiveSession(dataset, robot, out_dir=out_dir, **settings)

"""The replay robot: each sample's interactions are read from a file instead of simulated
(the records of another run, human click sequences, another toolkit's clicks or strokes).

The file formats, the errors and how a run records the file are in
``docs/robots/replay.md``. Source: none; replaying recorded interactions is our design. The
interactions are scored by the same session loop as those of any robot.

Constants: none.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from iseg_bench.errors import SampleError, UsageError
from iseg_bench.options import option
from iseg_bench.robots.base import Robot
from iseg_bench.run_folder import RECORDS_CSV
from iseg_bench.types import Box, Click, Interaction, Sample, Scribble

#: cells of an ``is_positive`` column read as True / False (case-insensitive)
_SIGNS = {"true": True, "1": True, "false": False, "0": False}


@dataclass(frozen=True)
class ReplayOptions:
    """Options of the replay robot."""

    file: str = option("", "the interactions: a run folder, its records.csv, or a .json/.csv "
                           "of clicks or strokes per sample (docs/robots/replay.md)")
    sha256: str = option("", "SHA-256 (hex) the file must have; a run fills it in from the "
                             "file, so a changed file is refused on resume")


def replay_file(path: str | Path) -> Path:
    """The file read for `path`: ``records.csv`` inside a run folder, else `path` itself.

    Raises:
        UsageError: no path given, or nothing readable there.
    """
    if not str(path):
        raise UsageError("robot replay needs the file to replay: --robot-opt file=PATH "
                         "(a run folder, its records.csv, or a .json/.csv of interactions)")
    file = Path(path) / RECORDS_CSV if Path(path).is_dir() else Path(path)
    if not file.is_file():
        raise UsageError(f"robot replay: {file} does not exist (give a run folder, its "
                         "records.csv, or a .json/.csv of interactions)")
    return file


def file_sha256(path: str | Path) -> str:
    """SHA-256 (hex) of the file :func:`replay_file` reads for `path`.

    Raises:
        UsageError: as :func:`replay_file`.
    """
    return hashlib.sha256(replay_file(path).read_bytes()).hexdigest()


def _sign(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    sign = _SIGNS.get(str(value).strip().lower())
    if sign is None:
        raise UsageError(f"{where}: is_positive must be true or false, got {value!r}")
    return sign


def _pixel(value: Any, where: str) -> int:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise UsageError(f"{where}: y and x must be pixel numbers, got {value!r}") from None
    if not number.is_integer():
        raise UsageError(f"{where}: y and x must be integer pixels (row, column), got "
                         f"{value!r}; round the file's coordinates first")
    return int(number)


def parse_interaction(item: dict[str, Any], where: str) -> Interaction:
    """A Click, Scribble or Box from one entry of a replay file (a JSON object or a CSV row).

    Args:
        item: ``is_positive`` and either ``y``, ``x`` (a click) or ``points`` ([[y, x], ...],
            a JSON list, or its text in a CSV cell) with an optional ``thickness`` (px,
            default 3); an optional ``kind`` ("click", "scribble" or "box": ``points`` are
            then its corners [[y0, x0], [y1, x1]], integer pixels) decides between them,
            else a non-empty ``points`` makes a scribble. Empty CSV cells count as absent.
        where: the file and entry, for messages.

    Raises:
        UsageError: a missing or malformed value, or another kind of interaction.
    """
    item = {k: v for k, v in item.items() if v is not None and v != ""}
    kind = item.get("kind", "scribble" if "points" in item else "click")
    if "is_positive" not in item:
        raise UsageError(f"{where}: is_positive is missing")
    positive = _sign(item["is_positive"], where)
    if kind == "click":
        if "y" not in item or "x" not in item:
            raise UsageError(f"{where}: a click needs y and x")
        return Click(_pixel(item["y"], where), _pixel(item["x"], where), positive)
    if kind not in ("scribble", "box"):
        raise UsageError(f"{where}: kind {kind!r} cannot be replayed on one object (click, "
                         "scribble or box)")
    points = item.get("points")
    try:
        points = json.loads(points) if isinstance(points, str) else points
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    except (TypeError, ValueError):
        raise UsageError(f"{where}: points must be a list of [y, x] pairs") from None
    if kind == "box":
        if len(pts) != 2:
            raise UsageError(f"{where}: a box needs its two corners [[y0, x0], [y1, x1]]")
        (y0, x0), (y1, x1) = ((_pixel(v, where) for v in p) for p in pts)
        try:
            return Box(y0, x0, y1, x1)
        except ValueError as err:
            raise UsageError(f"{where}: {err}") from None
    if not len(pts):
        raise UsageError(f"{where}: a scribble needs at least one point")
    return Scribble(pts, positive, _pixel(item.get("thickness", 3), where))


def _from_json(text: str, name: str) -> dict[str, list[Interaction]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise UsageError(f"{name} is not valid JSON: {err}") from None
    if not isinstance(data, dict) or not all(isinstance(v, list) for v in data.values()):
        raise UsageError(f"{name}: expected an object {{sample id: [interaction, ...]}} "
                         "(docs/robots/replay.md)")
    return {str(sid): [parse_interaction(it if isinstance(it, dict) else {},
                                         f"{name}: sample {sid}, interaction {i + 1}")
                       for i, it in enumerate(items)]
            for sid, items in data.items()}


def _from_csv(text: str, name: str) -> dict[str, list[Interaction]]:
    rows = list(csv.DictReader(io.StringIO(text)))
    columns = set(rows[0]) if rows else set()
    if "sample_id" not in columns:
        raise UsageError(f"{name}: a replay CSV needs a sample_id column (docs/robots/"
                         "replay.md)")
    per_sample: dict[str, list[tuple[int, Interaction]]] = {}
    for line, row in enumerate(rows, start=2):
        where = f"{name}, line {line}"
        order = _pixel(row["interaction"], where) if row.get("interaction") else line
        per_sample.setdefault(row["sample_id"], []).append(
            (order, parse_interaction(row, where)))
    out = {}
    for sid, items in per_sample.items():
        orders = [o for o, _ in items]
        if len(set(orders)) != len(orders):
            raise UsageError(f"{name}: sample {sid} repeats an interaction number")
        out[sid] = [it for _, it in sorted(items, key=lambda pair: pair[0])]
    return out


def read_replay(path: str | Path) -> tuple[dict[str, list[Interaction]], str]:
    """({sample id: its interactions, oldest first}, SHA-256 hex of the file read).

    Args:
        path: a run folder (its records.csv is read), a ``.csv`` (records.csv or any CSV of
            the same columns) or a ``.json`` file; formats in ``docs/robots/replay.md``.

    Raises:
        UsageError: no such file, another suffix, or malformed content (naming the file and
            the entry).
    """
    file = replay_file(path)
    data = file.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UsageError(f"{file} is not UTF-8 text") from None
    suffix = file.suffix.lower()
    if suffix == ".json":
        table = _from_json(text, str(file))
    elif suffix == ".csv":
        table = _from_csv(text, str(file))
    else:
        raise UsageError(f"robot replay reads .json and .csv files, not {file.name}")
    return table, hashlib.sha256(data).hexdigest()


class ReplayRobot(Robot):
    """Gives each sample's recorded interactions in order (``docs/robots/replay.md``).

    ``next_interaction`` returns interaction k + 1 of the current sample's list when the
    history holds k; the run calls :meth:`start_sample` before a sample's first interaction.

    Raises:
        UsageError (construction): no file, a malformed file, or one whose SHA-256 is not
            the ``sha256`` option.
        SampleError (per sample): the file has no list for the sample, the list has run
            out, or an interaction lies outside the image.
    """

    name = "replay"
    kind: ClassVar[str | None] = None   # click, scribble or box: known from the file only
    options_class = ReplayOptions

    def __init__(self, **options: Any):
        super().__init__(**options)
        self.file = str(replay_file(self.options.file))
        self.table, self.sha256 = read_replay(self.options.file)
        if self.options.sha256 and self.options.sha256 != self.sha256:
            raise UsageError(f"robot replay: {self.file} has SHA-256 {self.sha256}, the run "
                             f"expects {self.options.sha256} (the file changed; start a new "
                             "run)")
        self.sample_id: str | None = None

    @classmethod
    def complete_options(cls, options: dict[str, Any]) -> dict[str, Any]:
        """`options` with ``sha256`` set to the file's hash when not given, so that the run's
        settings name the exact file.

        Raises:
            UsageError: as :func:`replay_file`.
        """
        if options.get("sha256"):
            return options
        return {**options, "sha256": file_sha256(options.get("file", ""))}

    def check_dataset(self, sample_ids: Sequence[str]) -> None:
        known = set(sample_ids)
        unknown = sorted(sid for sid in self.table if sid not in known)
        if unknown:
            raise UsageError(f"robot replay: {self.file} names {len(unknown)} sample(s) the "
                             f"dataset does not have: {', '.join(unknown[:5])}"
                             f"{', ...' if len(unknown) > 5 else ''} (another dataset, or "
                             "other sample ids?)")

    def start_sample(self, sample: Sample) -> None:
        if sample.sample_id not in self.table:
            raise SampleError(f"replay file {self.file} has no interactions for sample "
                              f"{sample.sample_id}")
        self.sample_id = sample.sample_id

    def next_interaction(self, target: np.ndarray, ignore: np.ndarray, pred: np.ndarray,
                         history: Sequence[Interaction]) -> Interaction:
        if self.sample_id is None:
            raise SampleError("the replay robot was not started on a sample (it replays "
                              "single-object sessions only)")
        items = self.table[self.sample_id]
        k = len(history)
        if k >= len(items):
            raise SampleError(f"replay file {self.file}: sample {self.sample_id} has "
                              f"{len(items)} interactions, interaction {k + 1} was asked for "
                              f"(use --max-clicks {len(items)} or the recorded run's "
                              "--stop-at-iou)")
        inter = items[k]
        if isinstance(inter, Click):
            pts = np.array([[inter.y, inter.x]])
        elif isinstance(inter, Box):
            pts = np.array([[inter.y0, inter.x0], [inter.y1, inter.x1]])
        else:
            pts = inter.points
        h, w = target.shape
        if not ((pts >= 0).all() and (pts[:, 0] < h).all() and (pts[:, 1] < w).all()):
            raise SampleError(f"replay file {self.file}: sample {self.sample_id}, interaction "
                              f"{k + 1} lies outside the {h}x{w} image")
        return inter

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "file": self.file, "sha256": self.sha256}

"""One arm of one sequential stream: initial-click proposals, the user's clicks through the
shared session loop, and online learning with a delay; ``docs/protocols/sequential.md``.

Source: Lin et al., "Sequential Interactive Image Segmentation" (SIIS), Sec. 3.2 (initial
click proposal, the ignore mask I <- I u A), Sec. 3.3 (online learning with delay delta),
Sec. 2.2 and 4.3 (learning from the final prediction), Fig. 4a (learning stopped after the
first m samples).
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from iseg_bench.adapters.base import has_hook
from iseg_bench.errors import SampleError
from iseg_bench.protocols.base import WorkerContext
from iseg_bench.protocols.session import ObjectSession, ObjectState, run, step, timed
from iseg_bench.protocols.streams import Arm
from iseg_bench.types import Click, Interaction, Sample


def proposal_accepted(point: tuple[int, int] | None, target: np.ndarray, ignore: np.ndarray,
                      annotated: np.ndarray) -> bool:
    """The robot's acceptance rule for an initial-click proposal (SIIS Sec. 3.2).

    Args:
        point: (y, x) int pixel, or None (no proposal).
        target, ignore, annotated: (H, W) bool -- the object, the sample's ignore mask and
            the union of finished annotations on this image.

    Returns:
        True iff the point is inside the image, on the target and on neither mask.
    """
    if point is None:
        return False
    y, x = point
    h, w = target.shape
    if not (0 <= y < h and 0 <= x < w):
        return False
    return bool(target[y, x] and not ignore[y, x] and not annotated[y, x])


def as_point(raw: Any) -> tuple[int, int] | None:
    """A ``propose_click`` result as an int (y, x) pair (rounded) or None.

    Raises:
        SampleError: the result is not None nor a pair of finite numbers.
    """
    if raw is None:
        return None
    try:
        y, x = raw
        fy, fx = float(y), float(x)
    except (TypeError, ValueError) as exc:
        raise SampleError(f"propose_click returned {raw!r}; expected (y, x) or None") from exc
    if not (np.isfinite(fy) and np.isfinite(fx)):
        raise SampleError(f"propose_click returned a non-finite point {raw!r}")
    return int(round(fy)), int(round(fx))


def image_key(image: np.ndarray) -> str:
    """Identity of an image's pixels (shape + SHA-1 of the bytes): samples that share it are
    instances of the same image for the proposal ignore mask."""
    return f"{image.shape}:{hashlib.sha1(np.ascontiguousarray(image).tobytes()).hexdigest()}"


@dataclass
class Pending:
    """A finished sample waiting to be learned: its stream position, image, category,
    annotation ((H, W) bool), interactions (oldest first) and record rows (which receive
    ``learn_seconds``)."""

    position: int
    image: np.ndarray
    category: str | None
    annotation: np.ndarray
    clicks: list[Interaction]
    rows: list[dict[str, Any]]


@dataclass
class FinishedSample:
    """One sample's outcome: record rows, the final (H, W) bool prediction, the proposal
    columns and the interactions of the annotation (an accepted proposal first)."""

    rows: list[dict[str, Any]]
    prediction: np.ndarray
    proposal: dict[str, Any]
    history: list[Interaction]


def sample_session(sample: Sample, ctx: WorkerContext, proposes: bool,
                   annotated: np.ndarray) -> FinishedSample:
    """One sample of a stream: ``set_image`` (timed: ``encoder_seconds``), ``set_category``
    (when the adapter has it), the optional proposal, then the user's clicks.

    Args:
        proposes: whether to ask ``ctx.adapter.propose_click``.
        annotated: (H, W) bool union of the finished annotations on this image.
    """
    cfg = ctx.config
    state = ObjectState.start(sample)
    session = ObjectSession(ctx.adapter, ctx.robot, cfg.prob_threshold)
    category = sample.meta.get("category")
    _, encoder = timed(lambda: ctx.adapter.set_image(sample.image))
    if has_hook(ctx.adapter, "set_category"):
        ctx.adapter.set_category(category)
    point, secs = None, None
    if proposes:
        raw, secs = timed(lambda: ctx.adapter.propose_click(
            sample.image, category, annotated.copy()))
        point = as_point(raw)
    accepted = proposal_accepted(point, state.target, sample.ignore, annotated)
    info = {"proposal_y": None if point is None else point[0],
            "proposal_x": None if point is None else point[1],
            "proposal_made": point is not None, "proposal_accepted": accepted,
            "proposal_seconds": secs, "encoder_seconds": encoder}
    stopped = False
    if accepted and point is not None:
        score = step(session, state, [Click(point[0], point[1], True)])
        stopped = cfg.stop_at_iou is not None and score >= cfg.stop_at_iou
    if not stopped:
        run(session, state, cfg.max_interactions, cfg.stop_at_iou)
    offset = 1 if accepted else 0
    for r in state.records:
        r["step"] = r["interaction"]
        r["interaction"] = r["interaction"] - offset
        r["source"] = "proposal" if r["interaction"] == 0 else "user"
    return FinishedSample(state.records, state.pred.copy(), info, list(state.history))


def run_stream(samples: Iterable[Sample], ctx: WorkerContext, arm: Arm, order: int,
               learn_from: str, learn_delay: int) -> list[dict[str, Any]]:
    """Run one arm of one stream with ``ctx.adapter`` as given (not reset here).

    Args:
        samples: the stream, in order (iterated once).
        arm: whether to ask for proposals and which samples to teach.
        order: order index, written into the records.
        learn_from: "prediction" (the final thresholded prediction, SIIS's supervision)
            or "gt" (the ground truth, optimistic): the annotation that is learned and joins
            the proposal ignore mask.
        learn_delay: delta >= 1: sample n uses the model taught samples 1..n - delta.

    Returns:
        Record rows in stream order (columns in ``docs/protocols/sequential.md``).
    """
    adapter = ctx.adapter
    learns = has_hook(adapter, "learn") and arm.learn_limit != 0
    proposes = arm.proposals and has_hook(adapter, "propose_click")
    annotated: dict[str, np.ndarray] = {}  # image key -> packed (np.packbits) mask
    pending: deque[Pending] = deque()
    learned = 0
    out: list[dict[str, Any]] = []

    def learn_one(p: Pending) -> None:
        nonlocal learned
        _, secs = timed(lambda: adapter.learn(p.image, p.category, p.annotation, p.clicks))
        learned += 1
        for r in p.rows:
            r["learn_seconds"] = secs

    for position, sample in enumerate(samples, start=1):
        while pending and pending[0].position <= position - learn_delay:
            learn_one(pending.popleft())
        category = sample.meta.get("category")
        key = image_key(sample.image)
        packed = annotated.get(key)
        seen = (np.zeros(sample.shape, bool) if packed is None else
                np.unpackbits(packed, count=sample.target.size).reshape(sample.shape)
                .astype(bool))
        done = sample_session(sample, ctx, proposes, seen)
        session = f"{arm.name}|o{order}|{sample.sample_id}"
        for r in done.rows:
            r.update(category=category, is_thing=sample.meta.get("is_thing"),
                     order=order, position=position, arm=arm.name, session=session,
                     learned_samples=learned, learn_seconds=None, **done.proposal)
        out.extend(done.rows)
        annotation = sample.target.astype(bool) if learn_from == "gt" else done.prediction
        annotated[key] = np.packbits(seen | annotation)
        if learns and arm.learns(position):
            pending.append(Pending(position, sample.image, category, annotation.copy(),
                                   done.history, done.rows))
    while pending:
        learn_one(pending.popleft())
    return out

"""The lockstep batched loop: B samples advanced together, one batched model call per step.

Each step asks the robot for every sample in flight (:meth:`Session.interact`), makes one
batched model call for all of them, then validates and scores each (:meth:`Session.validate`,
:meth:`Session.score`), exactly the per-sample steps of :func:`iseg_bench.protocols.session.step`.
A sample leaves the batch when it has made its `steps` steps or reached `stop_at`, or when
it fails; the next sample takes its place at once, so the batch stays full. Whenever the
model's output for a sample does not depend on its batch-mates, every sample's records
equal those of the one-sample loop (:func:`iseg_bench.protocols.session.run`), their
``model_seconds`` aside: a batched call's wall-clock time divided by the number of samples
in it (``docs/execution.md``).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from iseg_bench.protocols.session import S, Session, timed


@dataclass
class _Slot:
    """A sample in flight: its key, state and steps made so far."""

    key: Hashable
    state: Any
    steps: int = 0


def run_lockstep(session: Session[S, Any], predict_batch: Callable[[list[tuple[Hashable, S]]],
                                                                   list[Any]],
                 starts: Iterable[tuple[Hashable, Callable[[], S]]], batch_size: int,
                 steps: int, stop_at: float | None = None
                 ) -> Iterator[tuple[Hashable, S | BaseException]]:
    """Run every sample of `starts` through up to `steps` steps, `batch_size` at a time.

    Args:
        session: the protocol's per-sample steps.
        predict_batch: the batched model call: [(key, state)] (each history includes this
            step) -> raw outputs in the same order.
        starts: (key, make the sample's start state) in order; a start that raises fails
            that sample only.
        batch_size: samples in flight, >= 1.
        steps: steps per sample, >= 1; a sample stops after the first step whose score is
            >= `stop_at` (None: never early).

    Yields:
        (key, finished state) or (key, the exception that failed it), in completion order.
        A batched call that raises fails every sample of that call. A ``SystemExit`` is a
        failure too; KeyboardInterrupt propagates.
    """
    pending = iter(starts)
    active: list[_Slot] = []
    exhausted = False
    while True:
        while not exhausted and len(active) < batch_size:
            nxt = next(pending, None)
            if nxt is None:
                exhausted = True
                break
            key, start = nxt
            try:
                active.append(_Slot(key, start()))
            except (Exception, SystemExit) as exc:   # this sample's data: it alone fails
                yield key, exc
        if not active:
            return
        yield from _advance(session, predict_batch, active, steps, stop_at)


def _advance(session: Session[S, Any],
             predict_batch: Callable[[list[tuple[Hashable, S]]], list[Any]],
             active: list[_Slot], steps: int,
             stop_at: float | None) -> Iterator[tuple[Hashable, S | BaseException]]:
    """One lockstep step of every slot in `active`; removes (and yields) the slots that
    finish or fail."""
    done: list[tuple[_Slot, S | BaseException]] = []
    moving: list[tuple[_Slot, Any]] = []
    for slot in active:
        try:
            new = session.interact(slot.state)
        except (Exception, SystemExit) as exc:   # the robot failed on this sample
            done.append((slot, exc))
            continue
        slot.state.history.extend(new)
        moving.append((slot, new))
    if moving:
        try:
            raws, seconds = timed(lambda: predict_batch([(s.key, s.state) for s, _ in moving]))
            if len(raws) != len(moving):
                raise ValueError(f"predict_batch returned {len(raws)} outputs for "
                                 f"{len(moving)} samples")
        except (Exception, SystemExit) as exc:   # the whole batched call failed
            done.extend((slot, exc) for slot, _ in moving)
            moving, raws = [], []
        for (slot, new), raw in zip(moving, raws):
            try:
                score = session.score(slot.state, new, session.validate(slot.state, raw),
                                      seconds / len(moving))
            except (Exception, SystemExit) as exc:
                done.append((slot, exc))
                continue
            slot.steps += 1
            if slot.steps >= steps or (stop_at is not None and score >= stop_at):
                done.append((slot, slot.state))
    for slot, outcome in done:
        active.remove(slot)
        yield slot.key, outcome

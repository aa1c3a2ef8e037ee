"""Protocols: how a run is cut into units, the one session loop that evaluates a unit, and
the typed summary of each protocol's records (``docs/protocols/``, ``docs/figures.md``)."""

from iseg_bench.protocols.base import Protocol, Summary, Unit, WorkerContext
from iseg_bench.protocols.curves import ClickCurves, click_curves, session_curves
from iseg_bench.protocols.full_image import FullImageOptions, FullImageProtocol
from iseg_bench.protocols.full_image_figures import FullImageSummary, RegionCurve
from iseg_bench.protocols.registry import PROTOCOLS, build_protocol, protocol_class
from iseg_bench.protocols.sequential import SequentialOptions, SequentialProtocol
from iseg_bench.protocols.sequential_figures import ArmFigures, SequentialSummary
from iseg_bench.protocols.session import ObjectSession, ObjectState, Session, run, step
from iseg_bench.protocols.single_object import SingleObjectProtocol, run_session
from iseg_bench.protocols.single_object_figures import ClickFigures, SingleObjectSummary

__all__ = [
    "PROTOCOLS",
    "ArmFigures",
    "ClickCurves",
    "ClickFigures",
    "FullImageOptions",
    "FullImageProtocol",
    "FullImageSummary",
    "ObjectSession",
    "ObjectState",
    "Protocol",
    "RegionCurve",
    "SequentialOptions",
    "SequentialProtocol",
    "SequentialSummary",
    "Session",
    "SingleObjectProtocol",
    "SingleObjectSummary",
    "Summary",
    "Unit",
    "WorkerContext",
    "build_protocol",
    "click_curves",
    "protocol_class",
    "run",
    "run_session",
    "session_curves",
    "step",
]

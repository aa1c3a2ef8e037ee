"""Typed option sets: one frozen dataclass per protocol, robot and model option set.

An option class declares each key once, with its type, default and help text::

    @dataclass(frozen=True)
    class ScribblerOptions:
        thickness: int = option(3, "stroke width in pixels")
        boundary: Literal["protect", "clean", "allow"] = option("protect", "...")

:func:`parse_options` builds it from the ``KEY=VALUE`` pairs of the command line (or a
dict), converting each value to the declared type and rejecting unknown keys and values of
the wrong type or outside the declared choices with a :class:`UsageError` that names the
owner and lists the allowed keys. A ``__post_init__`` of the class checks ranges and raises
UsageError itself. :func:`options_help` gives the ``--help`` text.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal, TypeVar, Union

from iseg_bench.errors import UsageError

T = TypeVar("T")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def option(default: Any, help: str) -> Any:
    """A dataclass field with `default` and its `help` text (shown by ``--help``)."""
    if isinstance(default, (list, dict, set)):
        raise TypeError("option defaults must be immutable (use a tuple)")
    return dataclasses.field(default=default, metadata={"help": help})


def reject_unknown(values: Mapping[str, Any], allowed: typing.Iterable[str], owner: str) -> None:
    """Raise UsageError naming `owner` when `values` has a key outside `allowed`."""
    allowed = sorted(allowed)
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise UsageError(f"{owner}: unknown option(s) {', '.join(unknown)}; allowed: "
                         f"{', '.join(allowed) or 'none'}")


def _to_bool(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise UsageError(f"{where} must be true or false, got {value!r}")


def _to_number(kind: type, value: Any, where: str) -> Any:
    if isinstance(value, bool):
        raise UsageError(f"{where} must be a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise UsageError(f"{where} must be a number, got {value!r}") from None
    if kind is int:
        if not number.is_integer():
            raise UsageError(f"{where} must be an integer, got {value!r}")
        return int(number)
    if math.isnan(number):
        raise UsageError(f"{where} must be a number, got {value!r}")
    return number


def convert(tp: Any, value: Any, where: str) -> Any:
    """`value` converted to the annotated type `tp` (str, int, float, bool, Literal,
    Optional, tuple[X, ...]; a string "a,b" becomes a tuple). Raises UsageError."""
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None or (isinstance(value, str) and value.lower() in ("none", "null")):
            if type(None) in args:
                return None
        inner = [a for a in args if a is not type(None)]
        return convert(inner[0], value, where) if len(inner) == 1 else value
    if origin is Literal:
        choices = typing.get_args(tp)
        if value not in choices:
            raise UsageError(f"{where} must be one of {', '.join(map(str, choices))}, "
                             f"got {value!r}")
        return value
    if origin is tuple:
        (item, *_rest) = typing.get_args(tp)
        items = value.split(",") if isinstance(value, str) else list(value)
        return tuple(convert(item, v, where) for v in items)
    if tp is bool:
        return _to_bool(value, where)
    if tp in (int, float):
        return _to_number(tp, value, where)
    if tp is str:
        return str(value)
    return value


def parse_options(cls: type[T], values: Mapping[str, Any] | None, owner: str) -> T:
    """An instance of the option dataclass `cls` from `values` (missing keys: defaults).

    Args:
        cls: a dataclass whose fields are the allowed keys.
        values: key -> value (strings from the command line, or typed values).
        owner: what the options belong to, for messages ("robot scribbler").

    Raises:
        UsageError: an unknown key, a value of the wrong type, or one rejected by the
            class's own checks; the message names the owner and the key.
    """
    values = dict(values or {})
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    reject_unknown(values, fields, owner)
    hints = typing.get_type_hints(cls)
    kwargs = {k: convert(hints[k], v, f"{owner}: option {k}") for k, v in values.items()}
    return cls(**kwargs)


def options_dict(options: Any) -> dict[str, Any]:
    """The JSON-ready dict of an option dataclass (tuples become lists)."""
    return {k: list(v) if isinstance(v, tuple) else v
            for k, v in dataclasses.asdict(options).items()}


def options_help(cls: type) -> str:
    """One line per option of `cls`: "key (default D): help"."""
    lines = []
    for f in dataclasses.fields(cls):
        default = f.default if f.default is not dataclasses.MISSING else "required"
        lines.append(f"{f.name} (default {default}): {f.metadata.get('help', '')}")
    return "\n".join(lines)

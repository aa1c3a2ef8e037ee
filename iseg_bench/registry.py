"""The one registry mechanism: names mapped to "package.module:attr" strings, imported on use.

Every registry of the toolkit (models, robots, datasets, protocols) is a :class:`Registry`.
Entries are strings so that the core never imports an optional dependency (torch) or a
module it does not need; a registry may also accept entry points of a plugin group and
importable "package.module:attr" paths given by the user.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import Any

from iseg_bench.errors import IsegBenchError, UnknownNameError


def load_object(spec: str) -> Any:
    """The object named by `spec` ("package.module:attr" or "package.module:Class.attr").

    Raises:
        ImportError: the module cannot be imported.
        AttributeError: the module has no such attribute.
    """
    module, _, attr = spec.partition(":")
    obj: Any = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


class Registry:
    """Names of one kind of thing (e.g. "model") mapped to "module:attr" strings.

    Args:
        kind: what the entries are, used in messages ("model", "robot", ...).
        entries: name -> "package.module:attr" of the built-in entries.
        entry_point_group: a package metadata entry-point group whose entries are added
            (built-in names win), or None.
        allow_paths: whether a name containing ":" that is not registered is imported as a
            "package.module:attr" path.
        load_error: the error raised when an entry cannot be imported.
    """

    def __init__(self, kind: str, entries: dict[str, str], *,
                 entry_point_group: str | None = None, allow_paths: bool = False,
                 load_error: type[IsegBenchError] = IsegBenchError):
        self.kind = kind
        self._entries = dict(entries)
        self.entry_point_group = entry_point_group
        self.allow_paths = allow_paths
        self.load_error = load_error

    def entries(self) -> dict[str, str]:
        """name -> "module:attr" of every entry, built-in and from entry points."""
        found = dict(self._entries)
        if self.entry_point_group is not None:
            for ep in entry_points(group=self.entry_point_group):
                found.setdefault(ep.name, ep.value)
        return found

    def __contains__(self, name: object) -> bool:
        return name in self.entries()

    def names(self) -> list[str]:
        """The sorted registered names."""
        return sorted(self.entries())

    def spec(self, name: str) -> str:
        """The "module:attr" string of `name`.

        Raises:
            UnknownNameError: `name` is not registered (the message lists the known names).
        """
        entries = self.entries()
        if name in entries:
            return entries[name]
        if self.allow_paths and ":" in name:
            return name
        hint = "; or give an importable 'package.module:Factory'" if self.allow_paths else ""
        raise UnknownNameError(f"unknown {self.kind} {name!r}; known: "
                               f"{', '.join(sorted(entries)) or 'none'}{hint}")

    def resolve(self, name: str) -> Any:
        """The object registered as `name` (imported now).

        Raises:
            UnknownNameError: `name` is not registered.
            load_error: the entry's module or attribute cannot be imported.
        """
        spec = self.spec(name)
        try:
            return load_object(spec)
        except (ImportError, AttributeError) as exc:
            raise self.load_error(f"cannot load {self.kind} {name!r} from {spec!r}: "
                                  f"{type(exc).__name__}: {exc}") from exc

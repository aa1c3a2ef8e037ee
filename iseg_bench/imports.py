"""Resolving "package.module:attr[.attr...]" strings, as every registry stores its entries
(imported on use, so the core never imports an optional dependency it does not need)."""

from __future__ import annotations

import importlib
from typing import Any


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

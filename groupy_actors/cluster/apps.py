"""Applications named as text: "package.module:ClassName"."""
from __future__ import annotations

import importlib
import json
from typing import Any

from ..application import Application


class AppSpecError(Exception):
    """The application cannot be used (the message says why)."""


def spec_of(app: type | str) -> str:
    """The text naming `app` (a class, or already text: checked either way)."""
    if isinstance(app, str):
        resolve(app)
        return app
    if not (isinstance(app, type) and issubclass(app, Application)):
        raise AppSpecError(f"{app!r} is not an Application subclass")
    spec = f"{app.__module__}:{app.__qualname__}"
    if app.__module__ == "__main__" or "<locals>" in app.__qualname__:
        raise AppSpecError(f"{app.__qualname__} must be importable by other processes "
                           f"(defined in a module, not in __main__ or a function)")
    return spec


def resolve(spec: str) -> type:
    """The Application subclass that `spec` names."""
    module, sep, name = spec.partition(":")
    if not sep or not module or not name:
        raise AppSpecError(f"{spec!r} is not package.module:ClassName")
    try:
        mod = importlib.import_module(module)
    except Exception as e:     # ImportError, or the module failed while importing
        raise AppSpecError(f"cannot import {module!r}: {e}") from None
    obj: Any = mod
    for part in name.split("."):
        obj = getattr(obj, part, None)
        if obj is None:
            raise AppSpecError(f"module {module!r} has no {name!r}")
    if not (isinstance(obj, type) and issubclass(obj, Application)):
        raise AppSpecError(f"{spec} is not an Application subclass")
    return obj


def parse_args(text: str | None) -> tuple[Any, ...]:
    """--args JSON: a list is the positional arguments, anything else the one."""
    if text is None:
        return ()
    try:
        value = json.loads(text)
    except ValueError as e:
        raise AppSpecError(f"--args is not JSON: {e}") from None
    return tuple(value) if isinstance(value, list) else (value,)

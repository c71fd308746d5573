"""Is a message from outside well formed? Field types, then a few sanity rules.

Anything may arrive at a member actor (a buggy peer, a stray tell), so the
core checks every event before any handler sees it and drops bad ones with a
note instead of raising.
"""
from __future__ import annotations

import typing
from dataclasses import fields, is_dataclass
from functools import lru_cache
from typing import Any, Callable, Optional, Union

from . import events, messages
from .member import Member

_KNOWN = messages.WIRE_MESSAGES + events.LOCAL_EVENTS


@lru_cache(maxsize=None)
def _hints(cls: type) -> tuple[tuple[str, Any], ...]:
    hints = typing.get_type_hints(cls)
    return tuple((f.name, hints[f.name]) for f in fields(cls))


def _conforms(value: Any, tp: Any) -> bool:
    if tp is Any:
        return True
    origin = typing.get_origin(tp)
    if origin is Union:
        return any(_conforms(value, arg) for arg in typing.get_args(tp))
    if origin is tuple:
        args = typing.get_args(tp)
        if not isinstance(value, tuple):
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(_conforms(v, args[0]) for v in value)
        return len(args) == len(value) and all(map(_conforms, value, args))
    if tp is type(None):
        return value is None
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if tp is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(tp, type):
        return isinstance(value, tp) and (not is_dataclass(tp) or _fields_problem(value) is None)
    return True


def _fields_problem(obj: Any) -> Optional[str]:
    for name, tp in _hints(type(obj)):
        value = getattr(obj, name)
        if not _conforms(value, tp):
            return f"{type(obj).__name__}.{name}={value!r:.60} is not {tp}"
    return None


def _unique_members(members: tuple[Member, ...]) -> bool:
    return len({m.name for m in members}) == len(members) > 0


_RULES: dict[type, Callable[[Any], bool]] = {
    messages.Msg: lambda m: m.seq >= 1 and m.n >= 1,
    messages.View: lambda v: (v.seq >= 1 and v.view_id >= 1 and _unique_members(v.members)
                              and len(v.incs) == len(v.members)),
    messages.Broadcast: lambda b: b.epoch >= 0 and b.top >= 0 and all(
        _RULES[type(e)](e) for e in b.entries),
    messages.Mcast: lambda m: m.n >= 1,
    messages.Propose: lambda p: p.view_id >= 1 and _unique_members(p.members),
    messages.Nack: lambda n: 1 <= n.first <= n.last,
    messages.Promise: lambda p: p.delivered >= 0 and p.received >= 0 and all(
        _RULES[type(e)](e) for e in p.entries),
    messages.State: lambda s: s.seq >= 1 and _RULES[messages.View](s.view) and all(
        _RULES[type(e)](e) for e in s.entries),
}


def problem(event: Any) -> Optional[str]:
    """None if `event` is acceptable, else a one-line reason to drop it."""
    if type(event) not in _KNOWN:
        return f"unknown message type {type(event).__name__}"
    bad = _fields_problem(event)
    if bad:
        return bad
    rule = _RULES.get(type(event))
    if rule is not None and not rule(event):
        return f"{type(event).__name__} out of range: {event!r:.120}"
    return None

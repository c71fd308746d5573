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


Check = Callable[[Any], bool]


@lru_cache(maxsize=None)
def _hints(cls: type) -> tuple[tuple[str, Any], ...]:
    hints = typing.get_type_hints(cls)
    return tuple((f.name, hints[f.name]) for f in fields(cls))


def _any(value: Any) -> bool:
    return True


def _count(value: Any) -> bool:
    return type(value) is int or (isinstance(value, int) and not isinstance(value, bool))


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@lru_cache(maxsize=None)
def _check(tp: Any) -> Check:
    """A test for values of type `tp`, built once per type: every message
    a member receives is checked, entry by entry, so this is on the hot path."""
    if tp is Any:
        return _any
    origin = typing.get_origin(tp)
    if origin is Union:
        options = tuple(_check(arg) for arg in typing.get_args(tp))
        return lambda v: any(ok(v) for ok in options)
    if origin is tuple:
        args = typing.get_args(tp)
        if len(args) == 2 and args[1] is Ellipsis:
            item = _check(args[0])
            return lambda v: isinstance(v, tuple) and all(map(item, v))
        items = tuple(_check(arg) for arg in args)
        return lambda v: (isinstance(v, tuple) and len(v) == len(items)
                          and all(ok(x) for ok, x in zip(items, v)))
    if tp is type(None):
        return lambda v: v is None
    if tp is int:
        return _count
    if tp is float:
        return _number
    if isinstance(tp, type):
        if is_dataclass(tp):
            return lambda v: isinstance(v, tp) and _fields_problem(v) is None
        return lambda v: isinstance(v, tp)
    return _any


@lru_cache(maxsize=None)
def _field_checks(cls: type) -> tuple[tuple[str, Any, Check], ...]:
    return tuple((name, tp, _check(tp)) for name, tp in _hints(cls))


def _fields_problem(obj: Any) -> Optional[str]:
    for name, tp, ok in _field_checks(type(obj)):
        value = getattr(obj, name)
        if not ok(value):
            return f"{type(obj).__name__}.{name}={value!r:.60} is not {tp}"
    return None


def _unique_members(members: tuple[Member, ...]) -> bool:
    return len({m.name for m in members}) == len(members) > 0


_RULES: dict[type, Callable[[Any], bool]] = {
    messages.Msg: lambda m: m.seq >= 1 and m.n >= 1,
    messages.View: lambda v: (v.seq >= 1 and v.view_id >= 1 and _unique_members(v.members)
                              and len(v.incs) == len(v.members)
                              and all(m in v.members for m in v.learners)
                              and v.leader not in v.learners),
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


def known(event: Any) -> bool:
    """Is `event` of a type the core handles (whatever its fields)?"""
    return type(event) in _KNOWN


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

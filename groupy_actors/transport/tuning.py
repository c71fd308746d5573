"""Speed fixes for Thespian's code above the transport, applied only in the
processes our base starts (the admin, the logger and the actors: each runs
nothing but a system of our base), never in the process that called
`ActorSystem(...)`, which may also run stock systems.

- Debug text built only when it is logged: `TransmitIntent.identify()`
  formats the message, timers and retry state for a DEBUG log line that
  is almost always filtered out (systemCommon ~164, asyncTransportBase
  ~331); it was about a third of a sender's profile. It now returns an
  object that builds that text when (if) it is formatted. Every caller in
  Thespian uses it only as a `%s` argument. (`ReceiveEnvelope.identify()`,
  actorManager ~133, is handled by the transport's own envelope class.)
- The hidden per-actor rate throttle: `systemCommon.RATE_THROTTLE`
  (~4,480 sends/s, then 0.1 s of sleep per send) is read when an admin or
  actor is constructed, which happens after its transport is; it is raised
  far beyond what one process can send.
"""
from __future__ import annotations

from typing import Any, Callable

RATE_LIMIT = 10_000_000     # sends per second per actor before Thespian sleeps

_applied = False


class LazyText:
    """Text built by `make` when first formatted (`%s`, `str()`)."""

    __slots__ = ("_make",)

    def __init__(self, make: Callable[[], str]) -> None:
        self._make = make

    def __str__(self) -> str:
        return self._make()

    __repr__ = __str__


def apply() -> None:
    global _applied
    if _applied:
        return
    _applied = True
    from thespian.system import systemCommon
    from thespian.system.transport import TransmitIntent

    systemCommon.RATE_THROTTLE = RATE_LIMIT
    eager = TransmitIntent.identify

    def identify(self: Any) -> LazyText:
        return LazyText(lambda: eager(self))

    TransmitIntent.identify = identify

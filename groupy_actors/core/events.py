"""Local events: what a member's host feeds its core besides wire messages."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from .member import Member
from .wire import wire


@wire
@dataclass(frozen=True, slots=True)
class Start:
    """Begin: found a new group (no contact) or join through `contact`."""

    me: Member
    contact: Optional[Member]


@wire
@dataclass(frozen=True, slots=True)
class AppMcast:
    """The application multicasts `payload`."""

    payload: Any


@wire
@dataclass(frozen=True, slots=True)
class AppLeave:
    """The application leaves the group gracefully."""


@wire
@dataclass(frozen=True, slots=True)
class Down:
    """`member` has crashed (an exit notice, a dead letter, or silence)."""

    member: Member


@wire
@dataclass(frozen=True, slots=True)
class Tick:
    """A timer fired; the core reads the time passed to `handle`."""


@wire
@dataclass(frozen=True, slots=True)
class SnapshotReady:
    """The application answered TakeSnapshot(token)."""

    token: int
    data: Any


LOCAL_EVENTS = (Start, AppMcast, AppLeave, Down, Tick, SnapshotReady)

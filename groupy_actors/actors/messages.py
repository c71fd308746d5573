"""Messages of the actor shell (the protocol's own are in core.messages)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from ..core.config import Config
from ..core.member import Member
from ..core.wire import wire
from ..observe.probe import ProbeSettings


@wire
@dataclass(frozen=True, slots=True)
class Contact:
    """How to reach a member: its group actor and its system's supervisor."""

    actor: Any
    supervisor: Any


@dataclass(frozen=True, slots=True)
class LinkFaults:
    """Faults the shell injects on every link a member sends on (the classic
    assignment's emulation): loss, duplication and delay per message, and a
    chance that a leader's send is its last (its process then dies: the
    classic `arghh`, a crash in the middle of a broadcast or a flush)."""

    loss: float = 0.0
    duplicate: float = 0.0
    delay: float = 0.0             # seconds, uniform in [0, delay]
    crash_on_send: float = 0.0
    seed: Optional[int] = None

    @property
    def any(self) -> bool:
        return bool(self.loss or self.duplicate or self.delay or self.crash_on_send)


@dataclass(frozen=True, slots=True)
class Spawn:
    """To a supervisor: create a member (group actor + application actor)."""

    name: str
    config: Config
    contact: Optional[Member]
    app: type
    args: tuple[Any, ...] = ()
    observer: Any = None
    faults: LinkFaults = field(default_factory=LinkFaults)
    seed: Optional[int] = None
    own_process: bool = False       # each actor a process (multiproc bases)
    trace: bool = True              # observe every delivery (else views, stops, counters)
    probe: Optional[ProbeSettings] = None   # metrics and trace points (observe/probe.py)
    embedded: bool = False          # the application in the group actor (two hops, not four)


@dataclass(frozen=True, slots=True)
class Spawned:
    name: str
    gms: Any
    app: Any


@dataclass(frozen=True, slots=True)
class SpawnFailed:
    name: str
    reason: str


@dataclass(frozen=True, slots=True)
class MemberInit:
    """Supervisor -> new group actor."""

    me: Member
    config: Config
    contact: Optional[Member]
    app: Any
    observer: Any
    faults: LinkFaults
    own_process: bool
    trace: bool = True
    probe: Optional[ProbeSettings] = None
    embedded: Optional["AppInit"] = None    # the application to run in the group actor


@dataclass(frozen=True, slots=True)
class AppInit:
    """Supervisor -> new application actor."""

    name: str
    level: str
    app: type
    args: tuple[Any, ...]
    gms: Any
    observer: Any
    seed: Optional[int]


@dataclass(frozen=True, slots=True)
class WatchRequest:
    """To the supervisor of `target`: tell `watcher` when it goes down."""

    watcher: Any
    target: Member


@dataclass(frozen=True, slots=True)
class UnwatchRequest:
    watcher: Any
    target: Member


@wire(brief=True)
@dataclass(frozen=True, slots=True)
class Observed:
    """Group actor -> observer: things that happened at `member` (effects of
    its core, Started, RoleChanged) as (time, what) pairs, batched: one
    actor message per event would swamp Thespian's TCP transport. `n`
    numbers the batches, so the observer keeps their order."""

    member: str
    n: int
    events: tuple[tuple[float, Any], ...]


@wire(brief=True)
@dataclass(frozen=True, slots=True)
class Bundle:
    """Group actor -> group actor: every protocol message one handling
    produced for that peer, as one actor message (Thespian's cost is per
    message, not per byte)."""

    msgs: tuple[Any, ...]


@wire(brief=True)
@dataclass(frozen=True, slots=True)
class AppBatch:
    """Group actor -> application actor: what one event at the core produced
    for the application, in order, as one actor message."""

    effects: tuple[Any, ...]


@wire
@dataclass(frozen=True, slots=True)
class AppAck:
    """Application actor -> group actor: batches up to `n` were handled
    (the window in `app_link`)."""

    n: int


@dataclass(frozen=True, slots=True)
class Started:
    pid: int
    contact: Optional[str]
    node: str


@wire
@dataclass(frozen=True, slots=True)
class Report:
    """Application actor -> observer: its application's status."""

    member: str
    t: float
    status: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Crash:
    """Die at once, as if killed (for systems without processes to kill)."""


@dataclass(frozen=True, slots=True)
class Quiet:
    """To an application actor: stop proposing work (the demo is ending)."""


@dataclass(frozen=True, slots=True)
class ReportNow:
    """To an application actor: send a Report to the observer now."""


@dataclass(frozen=True, slots=True)
class AskState:
    """To a group actor or an application actor, from anyone: answer `to`
    directly (a `MemberState` or a `Report`), whoever the observer is."""

    to: Any


@dataclass(frozen=True, slots=True)
class MemberState:
    """Group actor -> whoever sent an AskState: its role, view and position."""

    name: str
    role: str
    view_id: Optional[int]
    members: tuple[str, ...]
    seq: int                        # the last stream position it delivered
    view_at: float = 0.0            # wall time it installed that view


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """Supervisor -> group actor: a message it sent to `address` found nobody."""

    address: Any


@dataclass(frozen=True, slots=True)
class RoleChanged:
    """Group actor -> observer: its core changed role."""

    role: str


@wire
@dataclass(frozen=True, slots=True)
class AppRecord:
    """Application actor -> observer: a record the application adds to the
    run's events (e.g. where its state came from, when it moves it itself)."""

    member: str
    t: float
    kind: str
    fields: dict[str, Any]


@wire
@dataclass(frozen=True, slots=True)
class Stats:
    """Group actor -> observer, now and then: its core's counters."""

    counters: dict[str, int]


@dataclass(frozen=True, slots=True)
class Gone:
    """Supervisor -> observer: member `name`'s actors have exited."""

    name: str


@dataclass(frozen=True, slots=True)
class Crashed:
    """Group actor -> observer, just before an injected crash kills it."""

    how: str


@dataclass(frozen=True, slots=True)
class Cut:
    """To a group actor: a partition (injected). Drop every protocol message
    to or from the members named here; an empty set heals it."""

    names: frozenset[str] = frozenset()

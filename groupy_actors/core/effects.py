"""Effects: what the core asks its host to do. The core does no I/O."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from .member import Member
from .messages import Msg, View
from .wire import wire


@dataclass(frozen=True, slots=True)
class Send:
    to: Member
    msg: Any


@wire
@dataclass(frozen=True, slots=True)
class Deliver:
    """Hand `msg` to the application; `view_id` is the view it belongs to."""

    msg: Msg
    view_id: int

    @property
    def seq(self) -> int:
        return self.msg.seq


@wire
@dataclass(frozen=True, slots=True)
class InstallView:
    """Tell the application about a view. `restored` marks the view that
    comes with a state transfer (already part of the restored state)."""

    view: View
    restored: bool = False

    @property
    def seq(self) -> int:
        return self.view.seq


@wire
@dataclass(frozen=True, slots=True)
class Accepted:
    """The application's multicast was taken and will be known as `msg_id`
    (`replaces`: the id it had before its sender got a new incarnation)."""

    msg_id: str
    replaces: Optional[str] = None


@dataclass(frozen=True, slots=True)
class Watch:
    member: Member


@dataclass(frozen=True, slots=True)
class Unwatch:
    member: Member


@dataclass(frozen=True, slots=True)
class StartTimer:
    after: float


@wire
@dataclass(frozen=True, slots=True)
class TakeSnapshot:
    """Ask the application for its state; answer with SnapshotReady(token)."""

    token: int


@wire(brief=True)
@dataclass(frozen=True, slots=True)
class Restore:
    """Replace the application state by `data`, the state as of stream entry
    `seq` (`after` names the last item it covers; `source` sent it)."""

    data: Any
    seq: int
    after: Optional[str]
    source: Member


@wire
@dataclass(frozen=True, slots=True)
class Rejoining:
    """The member was put out of the group and is joining it again;
    `abandoned` multicasts were sent but not seen delivered."""

    reason: str
    abandoned: int


@wire
@dataclass(frozen=True, slots=True)
class Halt:
    """Quorum mode: this member cannot reach a majority and delivers nothing
    until it can (it then rejoins, or the halted majority restarts)."""

    reason: str


@wire
@dataclass(frozen=True, slots=True)
class Stop:
    """The member is done; the host should stop it. `history_lost`: it
    stopped because no survivor held the group's whole history (the group
    cannot go on; a simulator counts the group lost, not a member stuck)."""

    reason: str
    history_lost: bool = False


@dataclass(frozen=True, slots=True)
class Note:
    """A diagnostic for the host's log (`level` as in the logging module)."""

    level: int
    text: str

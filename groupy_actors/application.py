"""What a group member's application is: your replicated state machine.

Subclass `Application`; each member runs its own instance (in the member's
application actor, a process of its own on `multiprocTCPBase`). The group
calls `deliver` for every message in the same order at every member, `view`
at every membership change, and `snapshot`/`restore` to give a newcomer the
state it missed. Use `self.group` to multicast, leave, or set timers.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Optional, Protocol

if TYPE_CHECKING:
    from .core.effects import Deliver


@dataclass(frozen=True)
class Message:
    """One delivered message."""

    payload: Any
    sender: str
    id: str
    seq: int
    view_id: int


def message_of(d: "Deliver") -> Message:
    """What the application is handed for the core's Deliver effect."""
    m = d.msg
    return Message(m.payload, m.sender.name, m.id, m.seq, d.view_id)


@dataclass(frozen=True)
class GroupView:
    """One installed view: members in order, the first leads."""

    view_id: int
    members: tuple[str, ...]
    restored: bool = False

    @property
    def leader(self) -> str:
        return self.members[0]


class GroupContext(Protocol):
    """What an application can ask of its member."""

    name: str
    level: str
    random: random.Random
    address: Any                    # of this member's application actor

    def mcast(self, payload: Any) -> None: ...
    def leave(self) -> None: ...
    def after(self, seconds: float, callback: Callable[[], None]) -> None: ...
    def report(self) -> None: ...
    def send(self, address: Any, msg: Any) -> None: ...
    def record(self, kind: str, **fields: Any) -> None: ...


class Application:
    """Override what you need; the defaults keep nothing."""

    group: GroupContext

    def started(self) -> None:
        """Called once, before anything else; `self.group` is set."""

    def deliver(self, message: Message) -> None:
        """A message, in the group's total order."""

    def view(self, view: GroupView) -> None:
        """A new view (membership) of the group."""

    def snapshot(self) -> Any:
        """The state a newcomer needs (must pickle). Called on the leader."""
        return None

    def restore(self, state: Any) -> None:
        """Replace the state by one from `snapshot` (gms4 state transfer)."""

    def stopped(self, reason: str) -> None:
        """The member stopped: it left, was refused, or lost the group."""

    def status(self) -> dict[str, Any]:
        """What monitoring shows about this member (JSON-friendly). A
        "digest" entry (a hash of the replicated state) lets `status`
        commands judge whether members agree."""
        return {}

    def receive(self, message: Any, sender: Any) -> None:
        """A message sent straight to this member's application actor by
        another actor or program (outside the group's order): reach it with
        `self.group.send(address, msg)`; `self.group.address` is ours."""


class Recorder(Application):
    """Keeps every payload it delivers: handy in scripts and tests."""

    def __init__(self) -> None:
        self.log: list[Any] = []
        self.views: list[tuple[str, ...]] = []

    def deliver(self, message: Message) -> None:
        self.log.append(message.payload)
        self.group.report()

    def view(self, view: GroupView) -> None:
        self.views.append(view.members)

    def snapshot(self) -> Any:
        return list(self.log)

    def restore(self, state: Optional[list[Any]]) -> None:
        self.log = list(state or [])

    def status(self) -> dict[str, Any]:
        return {"delivered": len(self.log), "last": self.log[-1] if self.log else None}

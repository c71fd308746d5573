"""A member whose application is another program: the relay.

`Cluster.member(group, name)` places a member whose application is a
`Relay` on the node the program is connected to, with the program's
address. The relay tells the program its own address (`RelayUp`), then
passes it every delivery, view and stop, and multicasts or leaves when the
program says so. It leaves the group when the program falls silent for
`SILENCE` seconds (the program pings every `PING_EVERY`), so a program that
dies takes its member out with it.

The program holds whatever state it keeps: a relay hands none to a
newcomer (its snapshot is empty).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from ..application import Application, GroupView, Message

SPEC = "groupy_actors.cluster.relay:Relay"
SILENCE = 10.0          # seconds without a word from the program: leave
PING_EVERY = 1.0        # how often the program says it is there


@dataclass(frozen=True, slots=True)
class RelayUp:
    relay: Any


@dataclass(frozen=True, slots=True)
class Ping:
    """Program -> relay: I am still here."""


@dataclass(frozen=True, slots=True)
class RelayMcast:
    payload: Any


@dataclass(frozen=True, slots=True)
class RelayLeave:
    """Program -> relay: leave the group."""


@dataclass(frozen=True, slots=True)
class Delivered:
    message: Message


@dataclass(frozen=True, slots=True)
class Viewed:
    view: GroupView


@dataclass(frozen=True, slots=True)
class Stopped:
    reason: str


class Relay(Application):
    def __init__(self, program: Any) -> None:
        self.program = program
        self.heard = time.monotonic()
        self.leaving = False

    def started(self) -> None:
        self.group.send(self.program, RelayUp(self.group.address))
        self.group.after(SILENCE / 4, self.check)

    def check(self) -> None:
        if self.leaving:
            return
        if time.monotonic() - self.heard > SILENCE:
            self.leave()            # the program is gone
            return
        self.group.after(SILENCE / 4, self.check)

    def leave(self) -> None:
        self.leaving = True
        self.group.leave()

    def deliver(self, message: Message) -> None:
        self.group.send(self.program, Delivered(message))

    def view(self, view: GroupView) -> None:
        self.group.send(self.program, Viewed(view))

    def stopped(self, reason: str) -> None:
        self.group.send(self.program, Stopped(reason))

    def receive(self, msg: Any, sender: Any) -> None:
        self.heard = time.monotonic()
        kind = type(msg)
        if kind is RelayMcast:
            self.group.mcast(msg.payload)
        elif kind is RelayLeave and not self.leaving:
            self.leave()

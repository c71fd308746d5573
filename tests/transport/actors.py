"""Actors for the transport tests (importable by module path: the actor
processes are forks, and remote systems create them by name)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from thespian.actors import (Actor, ActorExitRequest, ChildActorExited, DeadEnvelope)


@dataclass(frozen=True)
class Pid:
    pid: int
    node: Any = None


@dataclass(frozen=True)
class Spawn:
    pass


@dataclass(frozen=True)
class Exited:
    child: Any


@dataclass(frozen=True)
class SendTo:
    target: Any
    msg: Any


@dataclass(frozen=True)
class Burst:
    target: Any
    count: int
    first: int = 0


@dataclass(frozen=True)
class Count:
    report_to: Any
    expect: int
    drop_sender_at: int = -1        # ask the sender's transport to drop its connections


@dataclass(frozen=True)
class Counted:
    seen: list = field(default_factory=list)


@dataclass(frozen=True)
class Dead:
    target: Any
    msg: Any


class Echo(Actor):
    """Answers a str with it upper-cased, "pid" with its Pid (and node
    capability), a SendTo by sending, and a reply it gets back to whoever
    asked it to send."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.asker = None

    def receiveMessage(self, msg: Any, sender: Any) -> None:
        if msg == "pid":
            self.send(sender, Pid(os.getpid(), getattr(self, "_node", None)))
        elif isinstance(msg, SendTo):
            self.asker = sender
            self.send(msg.target, msg.msg)
        elif isinstance(msg, str) and msg.isupper() and self.asker is not None:
            self.send(self.asker, msg)          # a reply to what we sent
        elif isinstance(msg, str):
            self.send(sender, msg.upper())
        elif isinstance(msg, Burst):
            for i in range(msg.first, msg.first + msg.count):
                self.send(msg.target, i)


class Placed(Echo):
    """An Echo that goes only where capability "node" matches."""

    @staticmethod
    def actorSystemCapabilityCheck(caps: dict, reqs: dict) -> bool:
        return not reqs or reqs.get("node") in (None, caps.get("node"))

    def __init__(self, capabilities: dict | None = None) -> None:
        super().__init__()
        self._node = (capabilities or {}).get("node")


class Parent(Actor):
    """Spawn: create a Child and answer with the child's Pid (forwarded);
    ChildActorExited goes to whoever asked for the spawn."""

    def __init__(self) -> None:
        super().__init__()
        self.asker = None

    def receiveMessage(self, msg: Any, sender: Any) -> None:
        if isinstance(msg, Spawn):
            self.asker = sender
            child = self.createActor(Echo)
            self.send(child, "pid")                 # the child answers us
        elif isinstance(msg, Pid):
            self.send(self.asker, msg)
        elif isinstance(msg, ChildActorExited):
            self.send(self.asker, Exited(msg.childAddress))


class DeadLetters(Actor):
    """The system's dead-letter handler: reports each DeadEnvelope."""

    def __init__(self) -> None:
        super().__init__()
        self.report_to = None

    def receiveMessage(self, msg: Any, sender: Any) -> None:
        if msg == "register":
            self.report_to = sender
            self.handleDeadLetters(True)
            self.send(sender, "registered")
        elif isinstance(msg, DeadEnvelope) and self.report_to is not None:
            self.send(self.report_to, Dead(msg.deadAddress, msg.deadMessage))


class Counter(Echo):
    """Records the ints it gets; reports them once `expect` distinct arrived
    (and answers what an Echo answers)."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[int] = []
        self.distinct: set[int] = set()
        self.order = None

    def receiveMessage(self, msg: Any, sender: Any) -> None:
        if isinstance(msg, Count):
            self.order, self.seen, self.distinct = msg, [], set()
            self.send(sender, "counting")
        elif isinstance(msg, int) and self.order is not None:
            self.seen.append(msg)
            self.distinct.add(msg)
            if len(self.seen) - 1 == self.order.drop_sender_at:
                from groupy_actors.transport import TransportControl
                self.send(sender, TransportControl(token=f"drop-{os.getpid()}-{msg}"))
            if len(self.distinct) == self.order.expect:
                self.send(self.order.report_to, Counted(self.seen))
                self.order = None
        else:
            super().receiveMessage(msg, sender)


class Exit(Actor):
    """Exits on "exit" (an ActorExitRequest to itself), answering first."""

    def receiveMessage(self, msg: Any, sender: Any) -> None:
        if msg == "exit":
            self.send(sender, "exiting")
            self.send(self.myAddress, ActorExitRequest())

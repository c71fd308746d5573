"""A node's tap: its members' records pass through it on their way to their
observer, and a copy goes to the node's own process (metrics, web page).

A node started with `--metrics-port` or `--web` sets `TAP_ENV` before its
actor system starts, so every process of that system sees it. Its
supervisor then makes the tap (one per actor system, by global name) the
observer of the members it spawns and tells the tap whom they really
report to (`Via`); the tap forwards everything unchanged, in the order it
arrives. Without the variable nothing changes: members report straight to
their observer.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Optional

from thespian.actors import ActorTypeDispatcher

from ..actors.messages import AppRecord, Gone, Observed, Report, Stats
from .probe import ProbeSettings

TAP_NAME = "groupy-observe-tap"
TAP_ENV = "GROUPY_OBSERVE_TAP"
NODE_PROBE = ProbeSettings(counters=True, span_ratio=0.0, takeovers=False)


def enabled() -> bool:
    return bool(os.environ.get(TAP_ENV))


@dataclass(frozen=True, slots=True)
class Via:
    """Supervisor -> tap: member `name` reports to `observer`."""

    name: str
    observer: Any


@dataclass(frozen=True, slots=True)
class Subscribe:
    """Node process -> tap: send me a copy of everything."""


@dataclass(frozen=True, slots=True)
class Subscribed:
    members: tuple[str, ...]


class Tap(ActorTypeDispatcher):
    def __init__(self) -> None:
        super().__init__()
        self.via: dict[str, Any] = {}
        self.early: dict[str, list[Any]] = {}     # arrived before their Via
        self.subscribers: list[Any] = []

    def receiveMsg_Via(self, msg: Via, sender: Any) -> None:
        self.via[msg.name] = msg.observer
        for held in self.early.pop(msg.name, []):
            self.send(msg.observer, held)

    def receiveMsg_Subscribe(self, msg: Subscribe, sender: Any) -> None:
        if not any(s == sender for s in self.subscribers):
            self.subscribers.append(sender)
        self.send(sender, Subscribed(tuple(self.via)))

    def _pass(self, name: str, msg: Any) -> None:
        observer: Optional[Any] = self.via.get(name)
        if observer is None:
            self.early.setdefault(name, []).append(msg)
        else:
            self.send(observer, msg)
        for s in self.subscribers:
            self.send(s, msg)

    def receiveMsg_Observed(self, msg: Observed, sender: Any) -> None:
        self._pass(msg.member, msg)

    def receiveMsg_Report(self, msg: Report, sender: Any) -> None:
        self._pass(msg.member, msg)

    def receiveMsg_AppRecord(self, msg: AppRecord, sender: Any) -> None:
        self._pass(msg.member, msg)

    def receiveMsg_Gone(self, msg: Gone, sender: Any) -> None:
        self._pass(msg.name, msg)

    def receiveMsg_Stats(self, msg: Stats, sender: Any) -> None:
        pass                            # (members send Stats inside Observed)

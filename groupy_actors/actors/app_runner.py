"""Hosting one `Application`: what its member delivers goes to its
callbacks in order; it gets a context to multicast, leave, set timers and
report its status.

The same runner lives in the application actor (`app_host.py`: the Erlang
*worker*, four actor hops per multicast) or inside the group actor itself
(`member.py` with `embedded`: two hops). The host gives it four things: how
to hand an event to the member's core, how to send an actor message, how to
set a timer, and its own address.
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Any, Callable, Optional

from thespian.actors import ActorExitRequest, ActorSystemMessage

from ..application import Application, GroupView, message_of
from ..core import (AppLeave, AppMcast, Deliver, Halt, InstallView, Rejoining, Restore,
                    SnapshotReady, Stop, TakeSnapshot)
from ..logs import log
from .messages import AppBatch, AppInit, AppRecord, AskState, Quiet, Report, ReportNow

REPORT_EVERY = 0.1      # seconds: status reports are coalesced to this rate


@dataclass(frozen=True, slots=True)
class AppWake:
    """A wakeup payload of the runner's: its host hands it to the runner."""


@dataclass(frozen=True, slots=True)
class AppTimer(AppWake):
    """The application's timer `key` (`group.after`) is due."""

    key: int


@dataclass(frozen=True, slots=True)
class ReportTimer(AppWake):
    """The coalesced status report is due."""


class _Context:
    """`Application.group`: what the application may ask of its member."""

    def __init__(self, runner: "AppRunner", init: AppInit) -> None:
        self._runner = runner
        self.name = init.name
        self.level = init.level
        self.random = random.Random(None if init.seed is None else f"{init.seed}:{init.name}")

    def mcast(self, payload: Any) -> None:
        self._runner.to_gms(AppMcast(payload))

    def leave(self) -> None:
        self._runner.to_gms(AppLeave())

    def after(self, seconds: float, callback: Callable[[], None]) -> None:
        self._runner.timer(seconds, callback)

    def report(self) -> None:
        self._runner.report_soon()

    @property
    def address(self) -> Any:
        return self._runner.address()

    def send(self, address: Any, msg: Any) -> None:
        self._runner.send(address, msg)

    def record(self, kind: str, **fields: Any) -> None:
        runner = self._runner
        if runner.observer is not None:
            runner.send(runner.observer, AppRecord(self.name, time.time(), kind, fields))


class AppRunner:
    def __init__(self, to_gms: Callable[[Any], None], send: Callable[[Any, Any], None],
                 wakeup_after: Callable[[float, AppWake], None],
                 address: Callable[[], Any]) -> None:
        self.to_gms, self.send, self.wakeup_after, self.address = \
            to_gms, send, wakeup_after, address
        self.app: Optional[Application] = None
        self.gms: Any = None
        self.observer: Any = None
        self.name = "?"
        self.timers: dict[int, Callable[[], None]] = {}
        self.next_timer = 0
        self.report_due = False
        self.last_seq = 0               # deliveries must come in stream order
        # In the application actor, AppInit comes from the supervisor and
        # the batches from the group actor: two senders, so across processes
        # the first batch can come first. It waits here rather than being
        # lost (the application would miss its first view or state).
        self.early: list[Any] = []
        self.sender: Any = None         # of the actor message being handled

    def handle(self, msg: Any, sender: Any = None) -> None:
        self.sender = sender
        try:
            self.dispatch(msg)
        except Exception:
            log(__name__).exception("application of %s failed on %s", self.name, type(msg).__name__)

    def dispatch(self, msg: Any) -> None:
        kind = type(msg)
        if kind is AppInit:
            self.init(msg)
            return
        if kind is ActorExitRequest:
            return
        if self.app is None:
            self.early.append(msg)
            return
        if kind is AppBatch:
            for effect in msg.effects:
                self.dispatch(effect)
            return
        app = self.app
        if kind is Deliver:
            m = msg.msg
            if m.seq <= self.last_seq:
                log(__name__).error("%s: delivery %s came after %s", self.name, m.seq,
                                    self.last_seq)
            self.last_seq = m.seq
            app.deliver(message_of(msg))
        elif kind is InstallView:
            v = msg.view
            app.view(GroupView(v.view_id, tuple(x.name for x in v.members), msg.restored))
            self.report_soon()
        elif kind is TakeSnapshot:
            self.to_gms(SnapshotReady(msg.token, app.snapshot()))
        elif kind is Restore:
            self.last_seq = msg.seq
            app.restore(msg.data)
            self.report_soon()
        elif kind is Rejoining:
            self.last_seq = 0
            log(__name__).warning("%s was put out of the group (%s); joining again", self.name,
                                  msg.reason)
        elif kind is Halt:
            log(__name__).warning("%s halted: %s", self.name, msg.reason)
            self.report_soon()
        elif kind is Stop:
            app.stopped(msg.reason)
            self.report()
        elif kind is AppTimer:
            if msg.key in self.timers:
                self.timers.pop(msg.key)()
        elif kind is ReportTimer:
            self.report_due = False
            self.report()
        elif kind is Quiet:
            quiet = getattr(app, "quiet", None)
            if quiet:
                quiet()
            self.report()
        elif kind is ReportNow:
            self.report()
        elif kind is AskState:
            self.send(msg.to, Report(self.name, time.time(), app.status()))
        elif not isinstance(msg, ActorSystemMessage):
            receive = getattr(app, "receive", None)
            if receive is not None:
                receive(msg, self.sender)

    def init(self, msg: AppInit) -> None:
        if self.app is not None:
            return
        self.name, self.gms, self.observer = msg.name, msg.gms, msg.observer
        self.app = msg.app(*msg.args)
        self.app.group = _Context(self, msg)
        self.app.started()
        early, self.early = self.early, []
        for one in early:
            self.handle(one, self.sender)

    def timer(self, seconds: float, callback: Callable[[], None]) -> None:
        self.next_timer += 1
        self.timers[self.next_timer] = callback
        self.wakeup_after(max(0.0, seconds), AppTimer(self.next_timer))

    def report_soon(self) -> None:
        if not self.report_due and self.observer is not None:
            self.report_due = True
            self.wakeup_after(REPORT_EVERY, ReportTimer())

    def report(self) -> None:
        if self.observer is not None and self.app is not None:
            self.send(self.observer, Report(self.name, time.time(), self.app.status()))

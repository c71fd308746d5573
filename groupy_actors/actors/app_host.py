"""The application actor (the Erlang *worker*): hosts one `Application`.

It passes what its group actor delivers to the application's callbacks in
order, answers snapshot requests, and gives the application a context to
multicast, leave, set timers and report its status to the observer.
"""
from __future__ import annotations

import logging
import random
import time
from datetime import timedelta
from typing import Any, Callable, Optional

from thespian.actors import Actor, ActorExitRequest, ActorSystemMessage, WakeupMessage

from ..application import Application, GroupView, Message
from ..core import (AppLeave, AppMcast, Deliver, Halt, InstallView, Rejoining, Restore,
                    SnapshotReady, Stop, TakeSnapshot)
from .fifo import Numbering, Reorder, Seq
from .messages import (AppAck, AppBatch, AppInit, AppRecord, Bundle, AskState, Quiet, Report,
                       ReportNow)



def log() -> logging.Logger:
    """Looked up at each use: Thespian replaces the logging machinery in
    every actor process after our modules were imported."""
    return logging.getLogger(__name__)

REPORT_EVERY = 0.1      # seconds: status reports are coalesced to this rate


class _Context:
    """`Application.group`: what the application may ask of its member."""

    def __init__(self, host: "AppHost", init: AppInit) -> None:
        self._host = host
        self.name = init.name
        self.level = init.level
        self.random = random.Random(None if init.seed is None else f"{init.seed}:{init.name}")

    def mcast(self, payload: Any) -> None:
        self._host.to_gms(AppMcast(payload))

    def leave(self) -> None:
        self._host.to_gms(AppLeave())

    def after(self, seconds: float, callback: Callable[[], None]) -> None:
        self._host.timer(seconds, callback)

    def report(self) -> None:
        self._host.report_soon()

    @property
    def address(self) -> Any:
        return self._host.myAddress

    def send(self, address: Any, msg: Any) -> None:
        self._host.send(address, msg)

    def record(self, kind: str, **fields: Any) -> None:
        host = self._host
        if host.observer is not None:
            host.send(host.observer, AppRecord(self.name, time.time(), kind, fields))


class AppHost(Actor):
    def __init__(self) -> None:
        super().__init__()
        self.app: Optional[Application] = None
        self.gms: Any = None
        self.observer: Any = None
        self.name = "?"
        self.timers: dict[int, Callable[[], None]] = {}
        self.next_timer = 0
        self.report_due = False
        self.last_seq = 0               # deliveries must come in stream order
        self.numbering = Numbering()
        self.reorder = Reorder()
        self.for_gms: list[Any] = []
        # AppInit comes from the supervisor, the batches from the group
        # actor: two senders, so across processes the first batch can come
        # first. It waits here rather than being lost (the application would
        # miss its first view or state and never hold the group's state).
        self.early: list[Any] = []
        self.sender: Any = None         # of the actor message being handled

    def receiveMessage(self, msg: Any, sender: Any) -> None:
        numbered = type(msg) is Seq
        self.sender = sender
        batch = self.reorder.accept(sender, msg, time.monotonic()) if numbered else [msg]
        for one in batch:
            self.handle(one)
        if numbered and batch:
            # The group actor sends its next batch on this (see app_link);
            # it rides along with what the application multicast, if anything.
            ack = AppAck(self.reorder.expected[str(sender)] - 1)
            if self.for_gms and sender == self.gms:
                self.for_gms.append(ack)
            else:
                self.send(sender, ack)
        if self.for_gms:
            out, self.for_gms = self.for_gms, []
            self.send(self.gms, self.numbering.wrap(
                self.gms, out[0] if len(out) == 1 else Bundle(tuple(out))))

    def handle(self, msg: Any) -> None:
        try:
            self.dispatch(msg)
        except Exception:
            log().exception("application of %s failed on %s", self.name, type(msg).__name__)

    def to_gms(self, msg: Any) -> None:
        # Sent once this actor message is handled: what the application
        # multicasts on one batch of deliveries reaches its member as one
        # actor message (Thespian's cost is per message, not per byte).
        self.for_gms.append(msg)

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
                log().error("%s: delivery %s came after %s", self.name, m.seq, self.last_seq)
            self.last_seq = m.seq
            app.deliver(Message(m.payload, m.sender.name, m.id, m.seq, msg.view_id))
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
            log().warning("%s was put out of the group (%s); joining again", self.name, msg.reason)
        elif kind is Halt:
            log().warning("%s halted: %s", self.name, msg.reason)
            self.report_soon()
        elif kind is Stop:
            app.stopped(msg.reason)
            self.report()
        elif kind is WakeupMessage:
            self.wakeup(msg.payload)
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
            self.handle(one)

    def timer(self, seconds: float, callback: Callable[[], None]) -> None:
        self.next_timer += 1
        self.timers[self.next_timer] = callback
        self.wakeupAfter(timedelta(seconds=max(0.0, seconds)), payload=self.next_timer)

    def wakeup(self, key: Any) -> None:
        if key == "report":
            self.report_due = False
            self.report()
        elif key in self.timers:
            self.timers.pop(key)()

    def report_soon(self) -> None:
        if not self.report_due and self.observer is not None:
            self.report_due = True
            self.wakeupAfter(timedelta(seconds=REPORT_EVERY), payload="report")

    def report(self) -> None:
        if self.observer is not None and self.app is not None:
            self.send(self.observer, Report(self.name, time.time(), self.app.status()))

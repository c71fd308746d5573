"""The group actor (the Erlang *gms* process): hosts one protocol core.

It turns Thespian messages into core events and carries out the effects:
sends (through the injected faults, if any), timers, watches (through the
target's supervisor), and everything meant for the application (to its
application actor, and to the observer as a record of what happened).

With `embedded`, the application runs here, in this actor (`AppRunner`):
a multicast then crosses two actor hops (member -> leader -> member)
instead of four, and what the application multicasts goes to the core
once the effects of the current events are carried out.
"""
from __future__ import annotations

import os
import random
import signal
import time
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, Callable, Optional

from thespian.actors import (Actor, ActorExitRequest, ChildActorExited, PoisonMessage,
                             WakeupMessage)

from ..core import (Accepted, Deliver, Down, Gms, Halt, InstallView, Member, Note, Rejoining,
                    Restore, Send, Start, StartTimer, State, Stop, TakeSnapshot, Tick, Unwatch,
                    Watch)
from ..core.messages import source_of
from ..core.validate import known
from ..logs import log
from ..observe.probe import Probe, stats_of
from .app_link import AppLink
from .app_runner import AppRunner, AppTimer, AppWake, ReportTimer
from .transfer import PieceAck, Receiver, Sender, StatePiece
from .fifo import Numbering, Reorder, Seq
from .messages import (AppAck, Bundle, Crash, Crashed, Cut, DeadLetter, LinkFaults, MemberInit,
                       MemberState, Observed, AskState, Quiet, ReportNow, RoleChanged, Started,
                       Stats, UnwatchRequest, WatchRequest)


FOR_THE_APP = (Deliver, InstallView, Restore, TakeSnapshot, Rejoining, Halt, Stop)
OBSERVED = (Deliver, InstallView, Restore, Accepted, Rejoining, Halt, Stop)
PER_MESSAGE = (Deliver, Accepted)       # left out when not tracing


# Wakeup payloads: which of our timers fired.

@dataclass(frozen=True, slots=True)
class TickTimer:
    """The core's timer (StartTimer): a Tick."""


@dataclass(frozen=True, slots=True)
class DelayedSend:
    """A send held back by the injected delay."""

    to: Any
    msg: Any


@dataclass(frozen=True, slots=True)
class FlushTimer:
    """Observations have waited OBSERVE_EVERY: send them."""


@dataclass(frozen=True, slots=True)
class ExitTimer:
    """A stopped member has lingered EXIT_AFTER: exit."""


@dataclass(frozen=True, slots=True)
class DieTimer:
    """A crashed member's sends have had time to leave: SIGKILL."""


@dataclass(frozen=True, slots=True)
class LocalTimer:
    """An embedded application's events wait for another round."""


# One of each: they carry nothing, and a tick needs no new object.
TICK_TIMER = TickTimer()
FLUSH_TIMER = FlushTimer()
EXIT_TIMER = ExitTimer()
DIE_TIMER = DieTimer()
LOCAL_TIMER = LocalTimer()

# Rounds of an embedded application's own events handled in one go; more
# wait for a wakeup, so an application that multicasts on every delivery
# (at the leader, delivered at once) cannot hold the actor for ever.
LOCAL_ROUNDS = 4
# A stopped member lingers this long before its actor exits: messages sent
# in an exiting actor's last moments were measured to go missing (its
# final records to the observer, among them the reason it stopped).
EXIT_AFTER = timedelta(milliseconds=300)
OBSERVE_EVERY = timedelta(milliseconds=50)   # how long observations may wait
STATS_EVERY = 20                                 # ticks between counter reports


class MemberActor(Actor):
    def __init__(self) -> None:
        super().__init__()
        self.core: Optional[Gms] = None
        self.me: Optional[Member] = None
        self.app: Any = None
        self.observer: Any = None
        self.faults = LinkFaults()
        self.rng = random.Random()
        self.own_process = False
        self.trace = True
        self.crashed = False
        self.role = ""
        self.fifo_peers = False         # number peer links (gms1-3 assume FIFO)
        self.numbering = Numbering()
        self.reorder = Reorder()
        self.observed = 0
        self.ticks = 0
        self.pending: list[tuple[float, Any]] = []
        self.to_app = AppLink(self.numbering)
        self.outgoing: list[tuple[Member, Any]] = []
        self.cut: frozenset[str] = frozenset()     # injected partition
        self.batch: Optional[list[Any]] = None    # core events of the bundle being read
        self.probe: Optional[Probe] = None        # observability, if asked for (observe/)
        self.view_at = 0.0              # wall time of the last view installed (for AskState)
        self.runner: Optional[AppRunner] = None   # the application, if embedded
        self.local: list[Any] = []      # its events for the core, not yet handled
        self.app_effects: list[Any] = []
        self.state_out = Sender(self.send, lambda: self.myAddress)   # (transfer.py)
        self.state_in = Receiver()

    def receiveMessage(self, msg: Any, sender: Any) -> None:
        if self.crashed:
            if isinstance(msg, WakeupMessage) and type(msg.payload) is DieTimer:
                os.kill(os.getpid(), signal.SIGKILL)
            return
        try:
            self.dispatch(msg, sender)
            self.run_local()
        except Exception:               # never let Thespian retry a message
            log(__name__).exception("%s: failed on %s", self.me, type(msg).__name__)
        self.send_out()

    def dispatch(self, msg: Any, sender: Any) -> None:
        handler = self.HANDLERS.get(type(msg))
        if handler is not None:
            handler(self, msg, sender)
        else:
            self.to_core(msg, sender)

    # -- the shell's own messages (HANDLERS) ---------------------------------------

    def on_seq(self, msg: Seq, sender: Any) -> None:
        for released in self.reorder.accept(sender, msg, time.monotonic()):
            self.dispatch(released, sender)

    def on_bundle(self, msg: Bundle, sender: Any) -> None:
        # The core handles a bundle's events in one call, so what they
        # produce leaves together (the leader's settle).
        self.batch = []
        try:
            for one in msg.msgs:
                if type(one) is not Bundle:
                    self.dispatch(one, sender)
        finally:
            events, self.batch = self.batch, None
        if events:
            self.run_all(events)

    def on_state_piece(self, msg: StatePiece, sender: Any) -> None:
        ack, state, progress = self.state_in.piece(msg)
        if ack is not None:
            self.send(msg.reply_to, ack)
        self.observe(progress)
        if state is not None:
            self.dispatch(state, sender)

    def on_piece_ack(self, msg: PieceAck, sender: Any) -> None:
        self.state_out.acked(msg)

    def on_app_ack(self, msg: AppAck, sender: Any) -> None:
        self.to_app.ack(msg.n)
        if self.probe is not None:
            self.probe.app_acked(msg.n)

    def on_member_init(self, msg: MemberInit, sender: Any) -> None:
        self.init(msg)

    def on_wakeup(self, msg: WakeupMessage, sender: Any) -> None:
        handler = self.WAKEUPS.get(type(msg.payload))
        if handler is not None:
            handler(self, msg.payload, sender)
        else:
            log(__name__).warning("%s: dropped a wakeup of unknown kind %s", self.me,
                                  type(msg.payload).__name__)

    def on_crash(self, msg: Crash, sender: Any) -> None:
        self.crash()

    def on_cut(self, msg: Cut, sender: Any) -> None:
        self.cut = msg.names
        log(__name__).warning("%s: cut off from %s", self.me,
                              ", ".join(sorted(msg.names)) or "nobody")

    def on_report_now(self, msg: ReportNow, sender: Any) -> None:
        if self.core is not None:
            self.observe(Stats(stats_of(self.core, self.probe, time.monotonic())))
            self.flush()
        if self.runner is not None:
            self.runner.handle(msg)

    def on_quiet(self, msg: Quiet, sender: Any) -> None:
        if self.runner is not None:
            self.runner.handle(msg)

    def on_dead_letter(self, msg: DeadLetter, sender: Any) -> None:
        self.dead_letter(msg.address)

    def on_ask_state(self, msg: AskState, sender: Any) -> None:
        if self.core is not None:
            v = self.core.view
            self.send(msg.to, MemberState(
                self.me.name, self.core.role_name, v.view_id if v else None,
                tuple(m.name for m in v.members) if v else (), self.core.stream.delivered,
                self.view_at))
        if self.runner is not None:
            self.runner.handle(msg)

    def on_poison(self, msg: PoisonMessage, sender: Any) -> None:
        log(__name__).warning("%s: a message we sent made its receiver fail: %s",
                              self.me, msg.details)

    def ignore(self, msg: Any, sender: Any) -> None:
        pass

    HANDLERS: dict[type, Callable[[Any, Any, Any], None]] = {
        Seq: on_seq,
        Bundle: on_bundle,
        StatePiece: on_state_piece,
        PieceAck: on_piece_ack,
        AppAck: on_app_ack,
        MemberInit: on_member_init,
        WakeupMessage: on_wakeup,
        Crash: on_crash,
        Cut: on_cut,
        ReportNow: on_report_now,
        Quiet: on_quiet,
        DeadLetter: on_dead_letter,
        AskState: on_ask_state,
        ActorExitRequest: ignore,
        ChildActorExited: ignore,
        PoisonMessage: on_poison,
    }

    # -- timers (WAKEUPS: by the type of the wakeup's payload) ---------------------

    def on_tick(self, timer: TickTimer, sender: Any) -> None:
        for released in self.reorder.expire(time.monotonic()):
            self.dispatch(released, sender)
        self.run(Tick())
        self.state_out.expire()
        self.ticks += 1
        if self.ticks % STATS_EVERY == 0 and not self.crashed:
            self.observe(Stats(stats_of(self.core, self.probe, time.monotonic())))

    def on_app_wake(self, wake: AppWake, sender: Any) -> None:
        if self.runner is not None:
            self.runner.handle(wake)

    def on_local_timer(self, timer: LocalTimer, sender: Any) -> None:
        pass                            # run_local, after this

    def on_delayed_send(self, delayed: DelayedSend, sender: Any) -> None:
        self.send(delayed.to, delayed.msg)

    def on_flush_timer(self, timer: FlushTimer, sender: Any) -> None:
        self.flush()

    def on_exit_timer(self, timer: ExitTimer, sender: Any) -> None:
        self.send_to_app(force=True)
        self.send(self.myAddress, ActorExitRequest())

    WAKEUPS: dict[type, Callable[[Any, Any, Any], None]] = {
        TickTimer: on_tick,
        AppTimer: on_app_wake,
        ReportTimer: on_app_wake,
        LocalTimer: on_local_timer,
        DelayedSend: on_delayed_send,
        FlushTimer: on_flush_timer,
        ExitTimer: on_exit_timer,
        # DieTimer: only while crashed (receiveMessage)
    }

    # -- protocol messages -------------------------------------------------------------

    def to_core(self, msg: Any, sender: Any) -> None:
        """A message for the core (or, embedded, for the application)."""
        if self.core is None:
            log(__name__).warning("member not started yet: dropped %s", type(msg).__name__)
        elif self.runner is not None and not known(msg):
            self.runner.handle(msg, sender)     # not the protocol's: the application's
        elif self.cut and _cut_off(source_of(msg), self.cut):
            pass                        # across an injected partition
        elif self.batch is not None:
            self.batch.append(msg)
        else:
            self.run(msg)

    def init(self, msg: MemberInit) -> None:
        if self.core is not None:
            return
        self.me, self.app, self.observer, self.faults = msg.me, msg.app, msg.observer, msg.faults
        self.own_process = msg.own_process
        self.trace = msg.trace
        self.fifo_peers = not msg.config.features.reliable
        if msg.faults.seed is not None:
            self.rng.seed(f"{msg.faults.seed}:{msg.me.name}")
        self.core = Gms(msg.config)
        if msg.probe is not None:
            self.probe = Probe(msg.probe, self.observe)
        self.observe(Started(os.getpid(), msg.contact.name if msg.contact else None,
                             os.uname().nodename))
        if msg.embedded is not None:
            self.runner = AppRunner(self.from_app, self.send, self.wakeup_app,
                                    lambda: self.myAddress)
        self.run(Start(msg.me, msg.contact))
        if self.runner is not None:     # (what Start produced waits in it for this)
            self.runner.handle(replace(msg.embedded, gms=self.myAddress))

    def from_app(self, event: Any) -> None:
        self.local.append(event)        # (`local` is replaced as it is handled)

    def wakeup_app(self, seconds: float, payload: AppWake) -> None:
        self.wakeupAfter(timedelta(seconds=seconds), payload=payload)

    def run_local(self) -> None:
        """The embedded application's events (its multicasts, a snapshot),
        handled once the events that led to them are."""
        for _ in range(LOCAL_ROUNDS):
            if not self.local or self.core is None or self.crashed:
                return
            events, self.local = self.local, []
            self.run_all(events)
        if self.local:
            self.wakeupAfter(timedelta(0), payload=LOCAL_TIMER)

    def run(self, event: Any) -> None:
        self.run_all((event,))

    def run_all(self, events: Any) -> None:
        effects = self.core.handle_all(events, time.monotonic())
        for effect in effects:
            if self.crashed:
                break                   # what came before the crash was done
            self.carry_out(effect)
        if self.crashed:
            return
        if self.app_effects:
            for_app, self.app_effects = self.app_effects, []
            for e in for_app:
                self.runner.handle(e)
        if self.probe is not None:
            self.probe.step(events, effects, self.core.role_name)
        if self.core.role_name != self.role:
            self.role = self.core.role_name
            self.observe(RoleChanged(self.role))

    def carry_out(self, e: Any) -> None:
        kind = type(e)
        if kind is Send:
            self.outgoing.append((e.to, e.msg))
        elif kind is StartTimer:
            self.wakeupAfter(timedelta(seconds=e.after), payload=TICK_TIMER)
        elif kind is Watch:
            self.send(e.member.contact.supervisor, WatchRequest(self.myAddress, e.member))
        elif kind is Unwatch:
            self.send(e.member.contact.supervisor, UnwatchRequest(self.myAddress, e.member))
        elif kind is Note:
            log(__name__).log(e.level, "%s: %s", self.me, e.text)
        else:
            if kind is InstallView:
                self.view_at = time.time()
            if kind in OBSERVED and (self.trace or kind not in PER_MESSAGE):
                self.observe(e)
            if kind in FOR_THE_APP:
                if self.runner is not None:
                    self.app_effects.append(e)
                else:
                    self.to_app.add(e)
            if kind is Stop:
                log(__name__).info("%s stops: %s", self.me, e.reason)
                self.wakeupAfter(EXIT_AFTER, payload=EXIT_TIMER)

    def send_out(self) -> None:
        """Send what handling one actor message produced: one message per
        peer (a Bundle when there are several) and, as its window allows,
        one to the application."""
        self.send_to_app()
        if not self.outgoing:
            return
        out, self.outgoing = self.outgoing, []
        peers: dict[tuple[str, str], tuple[Member, list[Any]]] = {}
        for to, msg in out:
            if type(msg) is State and self.own_process and to.name not in self.cut:
                blob = self.state_out.encode(msg)
                if blob is not None:        # big: in pieces, others' sends between them
                    self.state_out.start(to.contact.actor, blob)
                    continue
            key = (to.name, str(to.contact.actor))
            if key in peers:
                peers[key][1].append(msg)
            else:
                peers[key] = (to, [msg])
        for to, msgs in peers.values():
            if self.crashed:
                return                  # a crash right after a send (injected)
            self.transmit(to, msgs[0] if len(msgs) == 1 else Bundle(tuple(msgs)))

    def send_to_app(self, force: bool = False) -> None:
        batch = self.to_app.take(self.app, time.monotonic(), force)
        if batch is not None:
            if self.probe is not None:
                self.probe.sent_to_app(batch.n, batch.msg)
            self.send(self.app, batch)

    def transmit(self, to: Member, msg: Any) -> None:
        if to.name in self.cut:
            return
        f, address = self.faults, to.contact.actor
        if f.loss and self.rng.random() < f.loss:
            return
        if self.fifo_peers:
            msg = self.numbering.wrap(address, msg)
        if not f.any:
            self.send(address, msg)
            return
        for _ in range(2 if f.duplicate and self.rng.random() < f.duplicate else 1):
            if f.delay:
                self.wakeupAfter(timedelta(seconds=self.rng.uniform(0, f.delay)),
                                 payload=DelayedSend(address, msg))
            else:
                self.send(address, msg)
        if f.crash_on_send and self.core.role_name in ("leader", "electing") \
                and self.rng.random() < f.crash_on_send:
            log(__name__).warning("%s: crashing right after a send (injected)", self.me)
            self.crash("injected, right after a send as " + self.core.role_name)

    def crash(self, how: str = "") -> None:
        """Die as if killed: nothing more is handled. With a process of our
        own, SIGKILL it once the sends already made have gone out."""
        if how:
            self.observe(Crashed(how))
        self.crashed = True
        self.flush()
        if self.own_process:
            self.wakeupAfter(timedelta(milliseconds=20), payload=DIE_TIMER)
        else:
            self.send(self.myAddress, ActorExitRequest())

    def dead_letter(self, address: Any) -> None:
        view = self.core.view if self.core else None
        for m in view.members if view else ():
            if m.contact is not None and m.contact.actor == address:
                self.run(Down(m))
                return

    def observe(self, what: Any) -> None:
        if self.observer is None:
            return
        if not self.pending:
            self.wakeupAfter(OBSERVE_EVERY, payload=FLUSH_TIMER)
        self.pending.append((time.time(), what))
        if len(self.pending) >= 64 or isinstance(what, Stop):
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.observed += 1
            self.send(self.observer, Observed(self.me.name, self.observed, tuple(self.pending)))
            self.pending = []




def _cut_off(src: Optional[Member], cut: frozenset[str]) -> bool:
    return src is not None and src.name in cut

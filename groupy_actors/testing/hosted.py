"""The timed simulator with a user's `Application` at every member.

`AppSimulation` is the seeded simulator of `groupy_actors.sim` in which each
member also runs an instance of the user's application class, fed as the
real shell (`actors/app_host.py`) feeds it:

- `Deliver` -> `app.deliver(Message(...))`, `InstallView` ->
  `app.view(GroupView(...))`, `Restore` -> `app.restore(state)`,
  `Stop` -> `app.stopped(reason)`; `started()` first, before anything else;
- `TakeSnapshot` -> `app.snapshot()`, pickled at once (the state as of the
  deliveries so far) and unpickled for the newcomer, so a snapshot shares
  nothing with the member that took it, as across processes;
- what the application multicasts, leaves or answers goes to its member
  after a random `Faults.app_delay`, in order, the output of one batch of
  callbacks together (the shell sends it as one actor message);
- payloads are pickled when multicast and unpickled for each delivery: no
  two members (nor the sender) share a payload object;
- `self.group.after(seconds, cb)` is a simulator timer `seconds *
  UNITS_PER_SECOND` units later (one unit is a simulated millisecond);
- `self.group.random` is seeded from the run's seed and the member's name;
- `self.group.report()` asks for `status()` at most every `REPORT_EVERY`
  units; `self.group.record(kind, ...)` adds a record to the run's records.

An exception raised by user code (a callback, a timer, the workload) is
kept as a `HandlerError` and the run goes on, as the shell logs it and goes
on; `groupy_actors.testing` reports them as failures.
"""
from __future__ import annotations

import logging
import pickle
import random
import traceback
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Optional

from .. import trace
from ..application import Application, GroupView, message_of
from ..core import (Accepted, AppLeave, AppMcast, Deliver, InstallView, Rejoining, Restore,
                    SnapshotReady, Stop)
from ..sim import Faults, Outcome, Simulation
from ..sim.hosts import Node
from ..sim.simulator import QUIET_CHECK_EVERY, SIM_TIMING

log = logging.getLogger(__name__)

UNITS_PER_SECOND = 1000.0
"""Simulator time units in one second of `after(seconds, ...)`: a unit is
a simulated millisecond (network latency is 1-5 units by default)."""

REPORT_EVERY = 100.0    # units: status reports coalesced, as the shell's 0.1 s
MOST_ERRORS = 50        # handler errors kept per run (the rest are counted)

Workload = Callable[[Any, int], None]
Probe = Callable[[str, str, Optional[str], float, Application], None]

_FAILED = object()      # what `call` returns when the user's code raised


@dataclass(frozen=True, slots=True)
class HandlerError:
    """User code raised: which member (life), where, when, and what."""

    member: str
    handler: str        # "deliver", "view", "snapshot", "restore", "timer", "workload step 3", ...
    time: float
    error: str          # repr of the exception
    traceback: str

    def __str__(self) -> str:
        return f"{self.member}: {self.handler} raised {self.error} at t={self.time:.1f}"


def copy_payload(value: Any) -> Any:
    """What crossing a process does to a value: a pickled copy (atoms as they are)."""
    if value is None or type(value) in (str, int, float, bool, bytes):
        return value
    return pickle.loads(pickle.dumps(value, pickle.HIGHEST_PROTOCOL))


class SimGroup:
    """`Application.group` inside the simulator (see `GroupContext`)."""

    def __init__(self, sim: "AppSimulation", slot: "Slot", level: str, seed: int) -> None:
        self._sim = sim
        self._slot = slot
        self.name = slot.name
        self.level = level
        self.random = random.Random(f"{seed}:{slot.name}")

    def mcast(self, payload: Any) -> None:
        self._sim.multicast(self._slot, payload)

    def leave(self) -> None:
        self._slot.outbox.append(AppLeave())

    def after(self, seconds: float, callback: Callable[[], None]) -> None:
        sim = self._sim
        sim.at(sim.now + max(0.0, float(seconds)) * UNITS_PER_SECOND, sim.fire, self._slot,
               callback)

    def report(self) -> None:
        self._sim.report_soon(self._slot)

    def record(self, kind: str, **fields: Any) -> None:
        self._sim.records.append(trace.event(self.name, kind, self._sim.now, **fields))


@dataclass
class Slot:
    """One member's application and what is under way between it and its core."""

    name: str
    app: Any = None
    life: int = 1
    outbox: list[Any] = field(default_factory=list)    # for the core, after this batch
    steps: deque[Optional[int]] = field(default_factory=deque)   # submitted, not yet numbered
    out_at: float = 0.0         # when the last batch reaches the core (keeps them in order)
    report_due: bool = False
    restored: Optional[str] = None      # the last item the latest state transfer covered
    status: Optional[dict[str, Any]] = None
    reports: int = 0

    @property
    def life_name(self) -> str:
        return self.name if self.life == 1 else f"{self.name}#{self.life}"


@dataclass(frozen=True, slots=True)
class Submission:
    """A multicast on its way from an application to its core."""

    payload: Any
    step: Optional[int]     # the workload step that made it, if one did


class AppSimulation(Simulation):
    """`Simulation` with `app(*args)` at each member and `workload(app, k)`
    as step k (at a random live member)."""

    def __init__(self, app: Callable[..., Application], args: tuple[Any, ...] = (),
                 workload: Optional[Workload] = None, *, level: str = "gms4", seed: int = 0,
                 members: int = 5, steps: int = 20, faults: Faults = Faults(),
                 duration: float = 400.0, settle: float = 4000.0, quorum: bool = False,
                 keep_log: bool = False, probe: Optional[Probe] = None) -> None:
        self.app_class = app
        self.app_args = tuple(args)
        self.workload = workload
        self.probe = probe
        self.slots: dict[str, Slot] = {}
        self.errors: list[HandlerError] = []
        self.more_errors = 0
        self.in_transit = 0             # batches on their way from applications to cores
        # Stream item -> life -> the Message (or GroupView) it delivered: a
        # member that crashed may have had an entry at another position.
        self.items: dict[str, dict[str, Any]] = {}
        self.steps_of: dict[str, tuple[str, Optional[int]]] = {}   # msg id -> (member, step)
        self.item_steps: dict[str, tuple[str, int]] = {}   # item -> (member, workload step)
        self.current_step: Optional[int] = None
        super().__init__(level, seed, members, steps if workload is not None else 0, faults,
                         duration, settle, SIM_TIMING, keep_log, quorum)
        self.at(self.duration, self.quiet_apps)

    # -- calling user code ---------------------------------------------------------

    def call(self, slot: Slot, what: str, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return fn(*args)
        except Exception as e:      # the shell logs it and goes on; so do we, keeping it
            if len(self.errors) < MOST_ERRORS:
                self.errors.append(HandlerError(slot.life_name, what, self.now, repr(e),
                                                traceback.format_exc()))
            else:
                self.more_errors += 1
            log.debug("%s: %s raised %r at %.1f", slot.life_name, what, e, self.now)
            return _FAILED

    def flush(self, slot: Slot) -> None:
        """What the application asked of its member during this batch of
        callbacks reaches the member together, after the application delay."""
        if not slot.outbox:
            return
        batch, slot.outbox = slot.outbox, []
        t = max(self.now + self.rng.uniform(*self.faults.app_delay), slot.out_at + 1e-6)
        slot.out_at = t
        self.in_transit += 1
        self.at(t, self.to_core, slot, batch)

    def to_core(self, slot: Slot, batch: list[Any]) -> None:
        self.in_transit -= 1
        node = self.nodes.get(slot.name)
        for event in batch:
            if node is None or not node.alive:
                return
            if type(event) is Submission:
                self.submit(node, event.payload, event.step)
            else:
                self.handle(node, event)

    def multicast(self, slot: Slot, payload: Any) -> None:
        # A copy: raises in the caller if it does not pickle, as the shell would.
        slot.outbox.append(Submission(copy_payload(payload), self.current_step))

    def fire(self, slot: Slot, callback: Callable[[], None]) -> None:
        node = self.nodes.get(slot.name)
        if node is None or not node.alive:
            return
        self.call(slot, "timer " + getattr(callback, "__qualname__", repr(callback)), callback)
        self.flush(slot)

    def report_soon(self, slot: Slot) -> None:
        if not slot.report_due:
            slot.report_due = True
            self.at(self.now + REPORT_EVERY, self.report, slot)

    def report(self, slot: Slot) -> None:
        slot.report_due = False
        node = self.nodes.get(slot.name)
        if node is not None and node.alive:
            status = self.call(slot, "status", slot.app.status)
            if status is not _FAILED:
                slot.status, slot.reports = status, slot.reports + 1

    def run(self) -> Outcome:
        outcome = super().run()
        for slot in self.slots.values():    # the last word of each live member
            self.report(slot)
        return outcome

    # -- members -------------------------------------------------------------------

    def start(self, name: str, contact: Optional[str]) -> Node:
        slot = Slot(name)
        self.slots[name] = slot
        slot.app = self.app_class(*self.app_args)
        slot.app.group = SimGroup(self, slot, self.config.level, self.seed)
        self.call(slot, "started", slot.app.started)
        node = super().start(name, contact)
        self.flush(slot)
        return node

    def step(self, k: int) -> None:
        members = self.alive()
        if not members or self.workload is None:
            return
        slot = self.slots[self.rng.choice(members).name]
        self.current_step = k
        try:
            self.call(slot, f"workload step {k}", self.workload, slot.app, k)
        finally:
            self.current_step = None
        self.flush(slot)

    def quiet_apps(self) -> None:
        """The end of the run's work: `quiet()` (if the application has
        one), as `Group.quiet()` does before a demo settles."""
        for node in self.alive():
            slot = self.slots[node.name]
            quiet = getattr(slot.app, "quiet", None)
            if callable(quiet):
                self.call(slot, "quiet", quiet)
                self.flush(slot)

    def check_quiet(self) -> Optional[str]:
        if self.in_transit:             # look again later: the check must not lapse
            self.at(self.now + QUIET_CHECK_EVERY, self.check_quiet)
            return None
        return super().check_quiet()

    # -- what the cores ask of the applications -------------------------------------

    def submit(self, node: Node, payload: Any, step: Optional[int] = None) -> None:
        # As Hosts.submit, with the payload as the checker sees delivered ones.
        self.submitted += 1
        self.records.append(trace.event(node.name, "submit", self.now,
                                        payload=trace.plain(payload),
                                        **({} if step is None else {"step": step})))
        self.slots[node.name].steps.append(step)    # matched by Accepted, in order
        self.handle(node, AppMcast(payload))

    def effects(self, node: Node, effects: Any) -> None:
        super().effects(node, effects)
        slot = self.slots.get(node.name)
        if slot is not None:
            self.flush(slot)

    def snapshot_later(self, node: Node, event: SnapshotReady) -> None:
        # The state as of what was delivered so far, taken now; the answer
        # follows what the application multicast before it.
        slot = self.slots[node.name]
        blob = self.call(slot, "snapshot",
                         lambda: pickle.dumps(slot.app.snapshot(), pickle.HIGHEST_PROTOCOL))
        if blob is not _FAILED:     # no answer: the shell sends none either
            slot.outbox.append(SnapshotReady(event.token, (event.data, blob)))

    def app(self, node: Node, eff: Any) -> None:
        kind = type(eff)
        slot = self.slots[node.name]
        if kind is Restore:
            history, blob = eff.data
            super().app(node, replace(eff, data=history))
            state = self.call(slot, "restore", pickle.loads, blob)
            if state is not _FAILED:
                self.call(slot, "restore", slot.app.restore, state)
                self.report_soon(slot)
            slot.restored = eff.after   # probed after the view that comes with it
            return
        super().app(node, eff)
        if kind is Deliver:
            m = eff.msg
            if m.key not in self.items:
                self.items[m.key] = {}
                member, step = self.steps_of.get(m.id, ("", None))
                if step is not None:
                    self.item_steps[m.key] = (member, step)
            delivered = self.items[m.key][slot.life_name] = message_of(eff)
            message = replace(delivered, payload=copy_payload(m.payload))
            self.call(slot, "deliver", slot.app.deliver, message)
            self.probed(slot, "deliver", m.key)
        elif kind is InstallView:
            v = eff.view
            view = GroupView(v.view_id, tuple(x.name for x in v.members), eff.restored)
            if not eff.restored:
                self.items.setdefault(v.key, {})[slot.life_name] = view
            self.call(slot, "view", slot.app.view, view)
            self.report_soon(slot)
            if eff.restored:
                self.probed(slot, "restore", slot.restored)
            else:
                self.probed(slot, "view", v.key)
        elif kind is Stop:
            self.call(slot, "stopped", slot.app.stopped, eff.reason)
        elif kind is Rejoining:
            slot.life += 1      # the checker's new life ("m3#2"); the same application
        elif kind is Accepted:
            # The core numbers multicasts in the order it was given them;
            # one numbered again after a rejoin names its old id.
            if eff.replaces is not None:
                self.steps_of[eff.msg_id] = self.steps_of.get(eff.replaces, (node.name, None))
            elif slot.steps:
                self.steps_of[eff.msg_id] = (node.name, slot.steps.popleft())

    def probed(self, slot: Slot, what: str, item: Optional[str]) -> None:
        if self.probe is not None:
            self.probe(slot.life_name, what, item, self.now, slot.app)

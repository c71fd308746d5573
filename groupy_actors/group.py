"""The Python API: run a group from a script.

    from groupy_actors import Group, Application

    with Group.start(system="tcp") as group:
        a = group.join("a", on_deliver=lambda m: print("a got", m.payload))
        b = group.join("b")
        group.wait(lambda: a.in_view and b.in_view)
        a.mcast("hello")
        group.run(1.0)                 # let messages flow; callbacks run here

Everything a member does comes back to this process as a record (see
`groupy_actors.trace`); `poll`/`run`/`wait` receive them, keep each
member's state up to date and call your callbacks.
"""
from __future__ import annotations

import logging
import os
import signal
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from thespian.actors import ActorExitRequest

from . import system as systems, trace
from .application import Application, GroupView, Message, Recorder, message_of
from .core import (AppLeave, AppMcast, Config, Deliver, InstallView, Member, Rejoining, Stop,
                   Timing)
from .actors.messages import (AppRecord, Contact, Crash, Cut, LinkFaults, Observed, Quiet, Report,
                              ReportNow, RoleChanged, Spawn, SpawnFailed, Spawned, Started,
                              Stats, Crashed, Gone)
from .actors.fifo import Reorder, Seq
from .actors.transfer import StateProgress
from .actors.supervisor import Supervisor
from .observe import Observing, Options as ObserveOptions

log = logging.getLogger(__name__)

GONE_GRACE = 1.0    # seconds a member's last records may trail its exit notice


class GroupError(Exception):
    """A request to the group could not be carried out (the message says why)."""


@dataclass
class MemberInfo:
    """What this process knows about one member, from its records."""

    name: str
    gms: Any = None
    app: Any = None
    pid: Optional[int] = None
    node: str = ""
    role: str = "starting"
    view_id: Optional[int] = None
    members: tuple[str, ...] = ()
    delivered: int = 0
    status: dict[str, Any] = field(default_factory=dict)
    stats: dict[str, int] = field(default_factory=dict)   # the core's counters
    state_progress: Optional[tuple[int, int]] = None   # (bytes in, of) a chunked state transfer
    fate: Optional[str] = None       # why it is gone: "crashed", "left the group", ...
    on_deliver: Optional[Callable[[Message], None]] = None
    on_view: Optional[Callable[[GroupView], None]] = None

    @property
    def alive(self) -> bool:
        return self.fate is None

    @property
    def in_view(self) -> bool:
        return self.alive and self.name in self.members


class Handle:
    """A member of the group, as seen from the script that started it."""

    def __init__(self, group: "Group", info: MemberInfo) -> None:
        self._group, self.info = group, info

    name = property(lambda self: self.info.name)
    alive = property(lambda self: self.info.alive)
    in_view = property(lambda self: self.info.in_view)
    status = property(lambda self: self.info.status)

    def mcast(self, payload: Any) -> None:
        """Multicast `payload` to the group through this member."""
        self._group._to_member(self, AppMcast(payload))

    def leave(self) -> None:
        """Leave the group gracefully (after this member's own multicasts)."""
        self._group._to_member(self, AppLeave())

    def kill(self) -> None:
        """Crash this member: SIGKILL its process (or, without processes, make
        its actor exit at once)."""
        self._group.kill(self)

    def __repr__(self) -> str:
        return f"<member {self.name} {self.info.role} view {self.info.view_id}>"


class Group:
    def __init__(self, sys: systems.System, protocol: str = "gms4",
                 timing: Optional[Timing] = None, faults: Optional[LinkFaults] = None,
                 seed: Optional[int] = None, owns_system: bool = True,
                 quorum: bool = False, trace: bool = True,
                 observe: Optional[ObserveOptions] = None, hub: bool = False,
                 embedded: bool = False) -> None:
        self.system = sys
        self.embedded = embedded
        self.config = Config(protocol, timing or Timing(), quorum)
        self.faults = faults or LinkFaults()
        self.seed = seed
        self.owns_system = owns_system
        self.trace = trace
        self.members: dict[str, MemberInfo] = {}
        self.records: list[dict[str, Any]] = []
        self.listeners: list[Callable[[dict[str, Any]], None]] = []
        self.reports: list[Callable[[str, dict[str, Any]], None]] = []
        self.spawn_errors: dict[str, str] = {}
        self.reorder = Reorder()        # keeps each member's records in order
        # Members whose actor exited with no last word yet: the word (a
        # graceful stop) travels another path than the supervisor's notice
        # and may come a little later. name -> (arrival, wall time).
        self.gone: dict[str, tuple[float, float]] = {}
        self.count = 0
        # Metrics, traces, the web page's state (observe/): None unless asked for.
        self.observing: Optional[Observing] = None
        if observe is not None or hub:
            self.observing = Observing(observe or ObserveOptions(), protocol, traced=trace)
        self.hub = self.observing.hub if self.observing else None
        try:
            self.supervisor = sys.asys.createActor(Supervisor)
        except BaseException:
            self._close_observing()
            raise

    # -- starting and stopping -------------------------------------------------------

    @classmethod
    def start(cls, system: str = "tcp", protocol: str = "gms4", port: Optional[int] = None,
              timing: Optional[Timing] = None, faults: Optional[LinkFaults] = None,
              seed: Optional[int] = None, log_file: Optional[str] = None,
              quorum: bool = False, trace: bool = True, metrics_port: Optional[int] = None,
              metrics_bind: str = "127.0.0.1", trace_file: Optional[str] = None,
              trace_ratio: float = 1.0, otlp_endpoint: Optional[str] = None,
              hub: bool = False, embedded: bool = False) -> "Group":
        """Start an actor system of kind `system` ("simple", "tcp", ...) and a
        group on it; stop it with `stop()` or use the group as a context.
        `quorum`: majority views (see `Config`); needs gms4. `trace=False`:
        members do not report each delivery (no records for the checker, no
        `on_deliver`; delivered counts come from their counters, once a
        second) - for speed.

        `embedded=True` runs each member's application inside its group
        actor: a multicast crosses two actor hops instead of four (faster,
        one process per member instead of two), at the price of the classic
        worker/gms split: a slow application callback then delays the
        member's protocol work too (heartbeats, acks). `join` may choose
        per member.

        Observability (off by default, see groupy_actors/observe): with
        `metrics_port` (0: any free one) metrics are served on
        http://METRICS_BIND:PORT/metrics (`group.observing.metrics.url`);
        `trace_file` writes a trace per multicast and takeover (OTLP/JSON
        lines; `trace_ratio` of the multicasts); `otlp_endpoint` pushes both
        over OTLP/HTTP. `hub=True` keeps the observer's state
        (`group.hub`) without serving anything. Metrics and traces need
        the `observe` extra; they are read from the records this script
        receives, so they are as fresh as its last `poll`."""
        Config(protocol, quorum=quorum)     # bad settings fail before anything starts
        observe = None
        if metrics_port is not None or trace_file or otlp_endpoint:
            observe = ObserveOptions(metrics_port, metrics_bind, trace_file, trace_ratio,
                                     otlp_endpoint)
            if metrics_port is not None or otlp_endpoint:
                from .observe.metrics import MetricsError, missing
                if missing():
                    raise MetricsError(missing())
        sys = systems.start(system, port=port, log_file=log_file)
        try:
            return cls(sys, protocol, timing, faults, seed, quorum=quorum, trace=trace,
                       observe=observe, hub=hub, embedded=embedded)
        except BaseException:
            sys.shutdown()
            raise

    def stop(self) -> None:
        """Stop every member and (if we started it) the actor system; any
        member process still there afterwards is killed."""
        pids = [m.pid for m in self.members.values() if m.pid]
        try:
            if self.owns_system:
                self.system.shutdown(pids)
                return
            self._tell(self.supervisor, ActorExitRequest())
            if self.system.processes:
                _reap(pids)
        finally:
            self._close_observing()

    def _close_observing(self) -> None:
        observing, self.observing = self.observing, None
        if observing is not None:
            observing.close()

    def __enter__(self) -> "Group":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- members ---------------------------------------------------------------------

    def join(self, name: Optional[str] = None, app: type = Recorder, args: tuple = (),
             via: Optional[str] = None, on_deliver: Optional[Callable[[Message], None]] = None,
             on_view: Optional[Callable[[GroupView], None]] = None,
             timeout: float = 30.0, wait: bool = True,
             embedded: Optional[bool] = None) -> Handle:
        """Add a member running `app(*args)`; it joins through member `via`
        (by default the current leader) or founds the group if it is the first.

        With `wait`, return once it is in a view; raise GroupError if it
        stops instead (refused, or nobody answered) or `timeout` passes.
        `embedded`: its application in its group actor (default: the
        group's choice, see `start`).
        """
        if name is None:
            self.count += 1
            name = f"m{self.count}"
            while name in self.members:
                self.count += 1
                name = f"m{self.count}"
        if not isinstance(name, str) or not name or any(c.isspace() for c in name):
            raise GroupError(f"a member name must be a non-empty word, not {name!r}")
        if name in self.members and self.members[name].alive:
            raise GroupError(f"there is already a member called {name!r}")
        if not (isinstance(app, type) and issubclass(app, Application)):
            raise GroupError(f"app must be an Application subclass, not {app!r}")
        contact = self._contact(via)
        info = self.members[name] = MemberInfo(name, on_deliver=on_deliver, on_view=on_view)
        self._tell(self.supervisor, Spawn(name, self.config, contact, app, tuple(args), None,
                                          self.faults, self.seed, self.system.processes,
                                          self.trace,
                                          self.observing.options.probe if self.observing
                                          else None,
                                          self.embedded if embedded is None else embedded))
        if not self.wait(lambda: info.gms is not None or name in self.spawn_errors, timeout):
            raise GroupError(f"member {name} was not created within {timeout:g}s")
        if name in self.spawn_errors:
            del self.members[name]
            raise GroupError(f"could not create member {name}: {self.spawn_errors.pop(name)}")
        if wait:
            if not self.wait(lambda: info.in_view or not info.alive, timeout):
                raise GroupError(f"member {name} was not admitted within {timeout:g}s")
            if not info.alive:
                raise GroupError(f"member {name} did not join: {info.fate}")
        return Handle(self, info)

    def _contact(self, via: Optional[str]) -> Optional[Member]:
        if via is not None:
            info = self.members.get(via)
            if info is None or not info.alive:
                raise GroupError(f"no live member called {via!r} to join through")
        else:
            info = self.leader() or next((m for m in self.members.values() if m.in_view), None)
            if info is None:
                return None
        return Member(info.name, Contact(info.gms, self.supervisor))

    def handle(self, name: str) -> Handle:
        if name not in self.members:
            raise GroupError(f"no member called {name!r}")
        return Handle(self, self.members[name])

    def leader(self) -> Optional[MemberInfo]:
        """The leader of the newest view any live member reported."""
        live = [m for m in self.members.values() if m.in_view]
        newest = max(live, key=lambda m: m.view_id or 0, default=None)
        if newest is None:
            return None
        head = self.members.get(newest.members[0])
        return head if head is not None and head.alive else None

    def alive(self) -> list[MemberInfo]:
        return [m for m in self.members.values() if m.alive]

    def kill(self, member: Handle | str) -> None:
        info = self.handle(member if isinstance(member, str) else member.name).info
        if not info.alive:
            return
        if self.system.processes and info.pid:
            try:
                os.kill(info.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        else:
            self._tell(info.gms, Crash())
        self._record(trace.event(info.name, "crash", time.time()))

    def partition(self, *sides: list[str]) -> None:
        """Cut the network between `sides` (lists of member names; members
        named nowhere stay with the first side): injected in every member,
        which then drops protocol messages across the cut."""
        named = {n for side in sides for n in side}
        groups = [set(side) for side in sides]
        groups[0] |= {n for n in self.members if n not in named}
        for side in groups:
            others = frozenset(n for g in groups if g is not side for n in g)
            for name in side:
                info = self.members.get(name)
                if info is not None and info.alive and info.gms is not None:
                    self._tell(info.gms, Cut(others))

    def heal(self) -> None:
        """End a partition made with `partition`."""
        for m in self.alive():
            if m.gms is not None:
                self._tell(m.gms, Cut())

    def quiet(self) -> None:
        """Ask every application to stop proposing work (if it does any)."""
        for m in self.alive():
            if m.app is not None:
                self._tell(m.app, Quiet())

    def ask_reports(self) -> None:
        """Ask every application for its status and every member for its counters."""
        for m in self.alive():
            for address in (m.app, m.gms):
                if address is not None:
                    self._tell(address, ReportNow())

    # -- receiving ---------------------------------------------------------------------

    def poll(self, timeout: float = 0.0) -> int:
        """Handle what arrived within `timeout` seconds; returns how many."""
        deadline = time.monotonic() + timeout
        count = 0
        if self.observing is not None:
            self.observing.tick()
        while True:
            self._settle_gone()
            left = max(0.0, deadline - time.monotonic())
            msg = self.system.asys.listen(min(left, GONE_GRACE / 2) if self.gone else left)
            if msg is None:
                if time.monotonic() >= deadline:
                    return count
                continue
            self._receive(msg)
            count += 1
            if time.monotonic() >= deadline:
                return count

    def _settle_gone(self) -> None:
        now = time.monotonic()
        for name, (since, t) in list(self.gone.items()):
            info = self.members.get(name)
            if info is None or not info.alive:
                del self.gone[name]
            elif now - since >= GONE_GRACE:
                del self.gone[name]
                self._record(trace.event(name, "crash", t, how="exited"))

    def run(self, seconds: float) -> None:
        """Let the group work for `seconds`, handling what comes back."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.poll(min(0.05, max(0.0, end - time.monotonic())))

    def wait_reports(self, predicate: Callable[[], bool], timeout: float = 10.0,
                     every: float = 0.25) -> bool:
        """Like `wait`, asking for fresh reports every `every` seconds: a
        report is a snapshot, and members still delivering send stale ones."""
        end = time.monotonic() + timeout
        while True:
            self.ask_reports()
            self.poll(min(every, max(0.0, end - time.monotonic())))
            if predicate():
                return True
            if time.monotonic() >= end:
                return False

    def wait(self, predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
        """Poll until `predicate()` holds; False if `timeout` passes first."""
        end = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() >= end:
                return False
            self.poll(min(0.05, max(0.0, end - time.monotonic())))
        return True

    def _receive(self, msg: Any) -> None:
        kind = type(msg)
        if kind is Observed:
            for batch in self.reorder.accept(msg.member, Seq(msg.n, msg), time.monotonic()):
                for t, what in batch.events:
                    self._observed(batch.member, t, what)
        elif kind is Report:
            info = self.members.get(msg.member)
            if info is not None:
                info.status = msg.status
            if self.hub is not None:
                self.hub.report(msg.member, msg.status)
            for listener in self.reports:
                listener(msg.member, msg.status)
        elif kind is Gone:
            info = self.members.get(msg.name)
            if info is not None and info.alive:   # a crash, unless its last word follows
                self.gone.setdefault(msg.name, (time.monotonic(), time.time()))
        elif kind is AppRecord:
            self._record(trace.event(msg.member, msg.kind, msg.t, **msg.fields))
        elif kind is Spawned:
            info = self.members.get(msg.name)
            if info is not None:
                info.gms, info.app = msg.gms, msg.app
            if self.hub is not None:
                self.hub.contact(msg.name, msg.gms)
        elif kind is SpawnFailed:
            self.spawn_errors[msg.name] = msg.reason
        else:
            log.debug("ignored %s", kind.__name__)

    def _observed(self, member: str, t: float, what: Any) -> None:
        info = self.members.get(member)
        if info is None:
            return
        if self.hub is not None:
            self.hub.observed(member, t, what)
        if isinstance(what, Started):
            info.pid, info.node = what.pid, what.node
            self._record(trace.event(member, "start", t, pid=what.pid,
                                     contact=what.contact, node=what.node))
            return
        if isinstance(what, RoleChanged):
            info.role = what.role
            return
        if isinstance(what, Crashed):
            self._record(trace.event(member, "crash", t, how=what.how))
            return
        if isinstance(what, StateProgress):
            info.state_progress = (what.received, what.size)
            self._record(trace.event(member, "state-progress", t, received=what.received,
                                     size=what.size))
            return
        if isinstance(what, Stats):
            info.stats = what.counters
            if not self.trace:
                info.delivered = what.counters.get("delivered", info.delivered)
            self._record(trace.event(member, "stats", t, **what.counters))
            return
        if isinstance(what, Deliver):
            info.delivered += 1
            if info.on_deliver:
                info.on_deliver(message_of(what))
        elif isinstance(what, InstallView):
            v = what.view
            info.view_id, info.members = v.view_id, tuple(x.name for x in v.members)
            if info.on_view:
                info.on_view(GroupView(v.view_id, info.members, what.restored))
        elif isinstance(what, Stop):
            info.fate, info.role = what.reason, "stopped"
        elif isinstance(what, Rejoining):
            info.members, info.role = (), "joining"
        record = trace.of_effect(member, what, t)
        if record is not None:
            self._record(record)

    def _record(self, record: dict[str, Any]) -> None:
        if record["kind"] == "crash":
            info = self.members.get(record["member"])
            if info is not None:
                info.fate, info.role = "crashed", "crashed"
            if self.hub is not None:
                self.hub.crashed(record["member"], record["t"], record.get("how") or "killed")
        self.records.append(record)
        for listener in self.listeners:
            listener(record)

    # -- sending -----------------------------------------------------------------------

    def _tell(self, address: Any, msg: Any) -> None:
        if address is None:
            raise GroupError("that member has no actor yet")
        self.system.asys.tell(address, msg)

    def _to_member(self, handle: Handle, event: Any) -> None:
        if not handle.alive:
            raise GroupError(f"member {handle.name} is gone ({handle.info.fate})")
        self._tell(handle.info.gms, event)


def _reap(pids: list[int], grace: float = 2.0) -> None:
    """Wait briefly for processes to go; SIGKILL what remains."""
    end = time.monotonic() + grace
    while pids and time.monotonic() < end:
        pids = [p for p in pids if _exists(p)]
        time.sleep(0.02)
    for p in pids:
        log.warning("member process %d outlived the shutdown; killing it", p)
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:                                # a zombie is gone for our purposes
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[-1][:1] != "Z"
    except OSError:
        return True

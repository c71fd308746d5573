"""What the observer knows of each member, kept for metrics, traces and the
web page: fed with the members' timed records as they arrive.

One `Hub` per observing process (a script's `Group`, or a node's process).
It is fed from one thread (the one that reads the actor system) and read
from others (the metrics scrape, the web server): `snapshot()` copies the
state under a lock, and listeners get small dicts for the page.

Derived here, from records with their times (see core/counters.py):
takeovers (a member becoming the candidate, `electing`, and leading after
it), their duration, a member being put out (`Rejoining`), view id/size,
role, and whether the member is up.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Optional

from ..actors.messages import Crashed, RoleChanged, Started, Stats
from ..core import counters as c
from ..core.effects import Deliver, Halt, InstallView, Rejoining, Stop

TIMELINE_MAX = 500


@dataclass
class MemberState:
    name: str
    group: str = "default"
    node: str = ""
    level: str = ""
    pid: Optional[int] = None
    gms: Any = None
    role: str = "starting"
    view_id: Optional[int] = None
    view_size: int = 0
    view_members: tuple[str, ...] = ()
    leader: Optional[str] = None
    delivered: int = 0              # deliveries seen (traced runs) or counted
    stats: dict[str, Any] = field(default_factory=dict)
    status: dict[str, Any] = field(default_factory=dict)
    up: bool = True
    fate: Optional[str] = None
    takeovers_started: int = 0
    takeovers_finished: int = 0
    takeover_seconds: float = 0.0   # the last finished one
    electing_since: Optional[float] = None
    expelled: int = 0
    stopped_by: Optional[str] = None    # SIGSTOP from the page

    def figure(self, key: str) -> Any:
        """A member figure by its key in core/counters.py."""
        if key in ("view_id", "view_size", "takeovers_started", "takeovers_finished",
                   "expelled"):
            return getattr(self, key) or 0
        if key == "up":
            return 1 if self.up else 0
        return self.stats.get(key, 0)


def group_of(name: str, default: str) -> str:
    """Cluster members are named GROUP.NODE.N (cluster/directory.py)."""
    parts = name.split(".")
    return parts[0] if len(parts) == 3 else default


class Hub:
    def __init__(self, group: str = "default", node: str = "", level: str = "",
                 traced: bool = True) -> None:
        self.group, self.node, self.level = group, node, level
        self.traced = traced            # deliveries come one by one (else from Stats)
        self.members: dict[str, MemberState] = {}
        self.node_figures: dict[str, Any] = {}
        self.timeline: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.listeners: list[Callable[[dict[str, Any]], None]] = []
        self.on_takeover: list[Callable[[MemberState, float], None]] = []
        self.on_raw: list[Callable[[str, float, Any], None]] = []
        self.verdict: Optional[dict[str, Any]] = None
        self.started = time.time()
        self._pending_events: list[dict[str, Any]] = []   # told with the next news

    # -- feeding (one thread) --------------------------------------------------------

    def member(self, name: str) -> MemberState:
        m = self.members.get(name)
        if m is None:
            m = self.members[name] = MemberState(name, group_of(name, self.group), self.node,
                                                 self.level)
        return m

    def observed(self, name: str, t: float, what: Any) -> None:
        """One timed observation of member `name` (the contents of Observed)."""
        for f in self.on_raw:
            f(name, t, what)
        kind = type(what)
        if kind is Deliver and not self.traced:
            return
        with self.lock:
            m = self.member(name)
            news = self._apply(m, t, what, kind)
        if news is not None:
            self._tell(news)

    def _apply(self, m: MemberState, t: float, what: Any, kind: type) -> Optional[dict]:
        if kind is Deliver:
            m.delivered += 1
            return None
        if kind is Stats:
            m.stats = dict(what.counters)
            if not self.traced:
                m.delivered = what.counters.get(c.DELIVERED, m.delivered)
            return {"type": "member", "member": self._row(m)}
        if kind is RoleChanged:
            before, m.role = m.role, what.role
            if what.role == "electing" and before != "electing":
                m.takeovers_started += 1
                m.electing_since = t
                self._event(t, "takeover", f"{m.name} starts a takeover", member=m.name)
            elif before == "electing" and m.electing_since is not None:
                took = max(0.0, t - m.electing_since)
                m.electing_since = None
                if what.role == "leader":
                    m.takeovers_finished += 1
                    m.takeover_seconds = took
                    self._event(t, "takeover-done",
                                f"{m.name} took over in {took * 1000:.0f} ms", member=m.name,
                                seconds=took)
                    for f in self.on_takeover:
                        f(m, took)
                else:
                    self._event(t, "takeover-abandoned",
                                f"{m.name} gave up its takeover ({what.role})", member=m.name)
            return {"type": "member", "member": self._row(m)}
        if kind is InstallView:
            v = what.view
            m.view_id, m.view_size = v.view_id, len(v.members)
            m.view_members = tuple(x.name for x in v.members)
            m.leader = v.leader.name
            if v.leader.name == m.name and not what.restored:
                self._event(t, "view", f"{m.name} leads view {v.view_id}: "
                            f"{', '.join(m.view_members)}", member=m.name, view=v.view_id,
                            members=list(m.view_members))
            return {"type": "member", "member": self._row(m)}
        if kind is Started:
            m.pid, m.node = what.pid, self.node or what.node
            self._event(t, "start", f"{m.name} starts (pid {what.pid})", member=m.name)
            return {"type": "member", "member": self._row(m)}
        if kind is Rejoining:
            m.expelled += 1
            m.role, m.view_id, m.view_size, m.view_members = "joining", None, 0, ()
            self._event(t, "rejoin", f"{m.name} was put out ({what.reason}); rejoining",
                        member=m.name)
            return {"type": "member", "member": self._row(m)}
        if kind is Halt:
            m.role = "minority"
            self._event(t, "halt", f"{m.name} halts: {what.reason}", member=m.name)
            return {"type": "member", "member": self._row(m)}
        if kind is Stop:
            m.role, m.fate, m.up = "stopped", what.reason, False
            self._event(t, "stopped", f"{m.name} stopped: {what.reason}", member=m.name)
            return {"type": "member", "member": self._row(m)}
        if kind is Crashed:
            return self._down(m, t, "crashed", f"{m.name} crashed ({what.how})")
        return None

    def _down(self, m: MemberState, t: float, role: str, text: str) -> Optional[dict]:
        if not m.up:
            return None
        m.up, m.role, m.fate = False, role, m.fate or role
        self._event(t, "crash", text, member=m.name)
        return {"type": "member", "member": self._row(m)}

    def crashed(self, name: str, t: float, how: str = "killed") -> None:
        with self.lock:
            news = self._down(self.member(name), t, "crashed", f"{name} crashed ({how})")
        if news is not None:
            self._tell(news)

    def gone(self, name: str) -> None:
        """The member's actors exited (its supervisor's word)."""
        with self.lock:
            m = self.members.get(name)
            news = self._down(m, time.time(), "crashed" if m.role != "stopped" else "stopped",
                              f"{name} exited") if m is not None else None
        if news is not None:
            self._tell(news)

    def report(self, name: str, status: dict[str, Any]) -> None:
        with self.lock:
            m = self.member(name)
            m.status = dict(status)
            row = self._row(m)
        self._tell({"type": "member", "member": row})

    def set_stopped(self, name: str, by: Optional[str]) -> None:
        """The member's process was SIGSTOPped (`by`), or resumed (None)."""
        with self.lock:
            m = self.member(name)
            m.stopped_by = by
            row = self._row(m)
        self._tell({"type": "member", "member": row})

    def contact(self, name: str, gms: Any) -> None:
        with self.lock:
            self.member(name).gms = gms

    def note(self, text: str, kind: str = "note", **fields: Any) -> None:
        """An event of the run (a kill, a partition, ...) for the timeline."""
        with self.lock:
            self._event(time.time(), kind, text, **fields)
        self._tell(None)

    def set_node(self, figures: dict[str, Any]) -> None:
        with self.lock:
            self.node_figures = dict(figures)

    def set_verdict(self, verdict: dict[str, Any]) -> None:
        with self.lock:
            self.verdict = dict(verdict)
        self._tell({"type": "verdict", "verdict": verdict})

    def _event(self, t: float, kind: str, text: str, **fields: Any) -> None:
        e = {"t": t, "at": round(t - self.started, 3), "kind": kind, "text": text, **fields}
        self.timeline.append(e)
        del self.timeline[:-TIMELINE_MAX]
        self._pending_events.append(e)

    def _tell(self, news: Optional[dict[str, Any]]) -> None:
        events, self._pending_events = self._pending_events, []
        for listener in self.listeners:
            for e in events:
                listener({"type": "event", "event": e})
            if news is not None:
                listener(news)

    # -- reading (any thread) --------------------------------------------------------------

    @staticmethod
    def _row(m: MemberState) -> dict[str, Any]:
        colour = m.status.get("colour")
        return {"name": m.name, "group": m.group, "node": m.node, "pid": m.pid,
                "role": m.role, "view": m.view_id, "view_size": m.view_size,
                "members": list(m.view_members), "leader": m.leader,
                "delivered": m.delivered, "up": m.up, "fate": m.fate,
                "colour": list(colour) if colour and m.status.get("ready", True) else None,
                "digest": m.status.get("digest"), "takeovers": m.takeovers_finished,
                "stopped": m.stopped_by is not None}

    def snapshot(self) -> list[MemberState]:
        with self.lock:
            return [replace(m, stats=dict(m.stats), status=dict(m.status))
                    for m in self.members.values()]

    def state(self) -> dict[str, Any]:
        """The whole page state, JSON-ready."""
        with self.lock:
            return {"type": "state", "group": self.group, "node": self.node,
                    "level": self.level, "started": self.started,
                    "members": [self._row(m) for m in self.members.values()],
                    "timeline": list(self.timeline), "verdict": self.verdict}


"""The directory: on the convention leader, places members and keeps status.

It learns the nodes from Thespian's convention notices (each node
advertises a `node` capability naming it), creates one supervisor per node
by capability placement, asks it to spawn members, and is the observer of
every member it placed: their records tell it each one's role, view,
deliveries and colour. It answers status requests from that, after asking
every member for a fresh report.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Optional

from thespian.actors import ActorSystemConventionUpdate, ActorTypeDispatcher, WakeupMessage

from ..actors.messages import (Contact, Gone, Observed, Quiet, Report, ReportNow, RoleChanged,
                               Spawn, SpawnFailed, Spawned)
from ..actors.supervisor import Supervisor
from ..colour import ColourWorker, colours_agree
from ..core import Config, Deliver, Halt, InstallView, Member, Rejoining, Stop
from .messages import (DirectoryInit, MemberRow, Place, Placed, StatusReply, StatusRequest,
                       StopAll, StopNode, Stopping)


def log() -> logging.Logger:
    return logging.getLogger(__name__)


REPORT_WAIT = timedelta(milliseconds=600)   # fresh reports before a status answer
SILENT = 3.0        # seconds without a record: left out of the agreement
STOP_WAIT = timedelta(milliseconds=500)     # our own system stops after the others


@dataclass
class _Member:
    group: str
    name: str
    node: str
    gms: Any = None
    app: Any = None
    role: str = "starting"
    view_id: Optional[int] = None
    view_size: int = 0
    view_at: float = 0.0            # wall time the member installed its view
    delivered: int = 0
    status: dict[str, Any] = field(default_factory=dict)
    fate: Optional[str] = None
    heard: float = field(default_factory=time.monotonic)


@dataclass
class _Group:
    config: Config
    count: int = 0
    # Members to create once the group has one we can join through: those
    # placed before its founder's address came back would found groups too.
    waiting: list[tuple[Any, _Member, float]] = field(default_factory=list)


class Directory(ActorTypeDispatcher):
    def __init__(self) -> None:
        super().__init__()
        self.node: Optional[str] = None
        self.nodes: dict[str, Any] = {}         # node name -> its supervisor (None: not yet)
        self.groups: dict[str, _Group] = {}
        self.members: dict[str, _Member] = {}
        self.asking: list[tuple[Any, Optional[str]]] = []

    # -- nodes -------------------------------------------------------------------

    def receiveMsg_DirectoryInit(self, msg: DirectoryInit, sender: Any) -> None:
        if self.node is None:
            self.node = msg.node
            self.nodes[msg.node] = None
            self.notifyOnSystemRegistrationChanges(True)

    def receiveMsg_ActorSystemConventionUpdate(self, msg: ActorSystemConventionUpdate,
                                               sender: Any) -> None:
        name = (msg.remoteCapabilities or {}).get("node")
        if not name:
            return
        if msg.remoteAdded:
            self.nodes.setdefault(name, None)
            log().info("node %s joined the convention", name)
        else:
            self.nodes.pop(name, None)
            log().warning("node %s left the convention", name)
            for m in self.members.values():
                if m.node == name and m.fate is None:
                    m.fate = "its node left the convention"

    def supervisor(self, node: str) -> Any:
        if self.nodes.get(node) is None:
            self.nodes[node] = self.createActor(Supervisor, targetActorRequirements={"node": node})
        return self.nodes[node]

    # -- placing members -----------------------------------------------------------

    def receiveMsg_Place(self, msg: Place, sender: Any) -> None:
        if msg.node not in self.nodes:
            known = ", ".join(sorted(self.nodes)) or "none"
            self.send(sender, Placed(error=f"no node called {msg.node!r} in the convention "
                                           f"(nodes: {known})"))
            return
        try:
            sup = self.supervisor(msg.node)
        except Exception as e:          # e.g. NoCompatibleSystemForActor
            self.send(sender, Placed(error=f"cannot place on node {msg.node}: {e}"))
            return
        group = self.groups.setdefault(msg.group, _Group(msg.config))
        names = []
        for _ in range(msg.workers):
            group.count += 1
            member = _Member(msg.group, f"{msg.group}.{msg.node}.{group.count}", msg.node)
            self.members[member.name] = member
            group.waiting.append((sup, member, msg.sleep))
            names.append(member.name)
        self.spawn_waiting(msg.group)
        self.send(sender, Placed(tuple(names)))

    def spawn_waiting(self, name: str) -> None:
        group = self.groups[name]
        while group.waiting:
            contact = self.contact(name)
            founding = any(m.group == name and m.fate is None and m.gms is None
                           and all(w[1] is not m for w in group.waiting)
                           for m in self.members.values())
            if contact is None and founding:
                return                  # the founder is on its way: join through it
            sup, member, sleep = group.waiting.pop(0)
            self.send(sup, Spawn(member.name, group.config, contact, ColourWorker, (sleep,),
                                 self.myAddress, own_process=True))

    def contact(self, group: str) -> Optional[Member]:
        """A member to join through: the leader of the newest view, else any
        live member placed before (the first one founds the group)."""
        live = [m for m in self.members.values()
                if m.group == group and m.fate is None and m.gms is not None]
        if not live:
            return None
        best = max(live, key=lambda m: (m.role == "leader", m.view_id or 0))
        return Member(best.name, Contact(best.gms, self.nodes.get(best.node)))

    def receiveMsg_Spawned(self, msg: Spawned, sender: Any) -> None:
        m = self.members.get(msg.name)
        if m is not None:
            m.gms, m.app = msg.gms, msg.app
            self.spawn_waiting(m.group)

    def receiveMsg_SpawnFailed(self, msg: SpawnFailed, sender: Any) -> None:
        m = self.members.get(msg.name)
        if m is not None:
            m.fate = f"not created: {msg.reason}"

    # -- what members tell us --------------------------------------------------------

    def receiveMsg_Observed(self, msg: Observed, sender: Any) -> None:
        m = self.members.get(msg.member)
        if m is None:
            return
        m.heard = time.monotonic()
        for t, what in msg.events:
            kind = type(what)
            if kind is RoleChanged:
                m.role = what.role
            elif kind is Deliver:
                m.delivered += 1
            elif kind is InstallView:
                m.view_id, m.view_size = what.view.view_id, len(what.view.members)
                m.view_at = t
            elif kind is Stop:
                m.fate, m.role = what.reason, "stopped"
            elif kind is Rejoining:
                m.role, m.view_id, m.view_size = "joining", None, 0
            elif kind is Halt:
                m.role = "minority"

    def receiveMsg_Report(self, msg: Report, sender: Any) -> None:
        m = self.members.get(msg.member)
        if m is not None:
            m.status, m.heard = msg.status, time.monotonic()

    def receiveMsg_Gone(self, msg: Gone, sender: Any) -> None:
        m = self.members.get(msg.name)
        if m is not None and m.fate is None:
            m.fate = "exited"

    # -- status ------------------------------------------------------------------------

    def receiveMsg_StatusRequest(self, msg: StatusRequest, sender: Any) -> None:
        for m in self.members.values():
            if m.fate is None and (msg.group is None or m.group == msg.group):
                if msg.settle and m.app is not None:
                    self.send(m.app, Quiet())
                for address in (m.app, m.gms):
                    if address is not None:
                        self.send(address, ReportNow())
        if not self.asking:
            self.wakeupAfter(REPORT_WAIT, payload="status")
        self.asking.append((sender, msg.group))

    def receiveMsg_WakeupMessage(self, msg: WakeupMessage, sender: Any) -> None:
        if msg.payload == "status":
            asking, self.asking = self.asking, []
            for who, group in asking:
                self.send(who, self.status(group))
        elif msg.payload == "stop":
            self.actorSystemShutdown()

    def status(self, group: Optional[str]) -> StatusReply:
        now = time.monotonic()
        rows = tuple(MemberRow(
            m.group, m.name, m.node, m.role, m.view_id, m.view_size, m.view_at,
            tuple(m.status["colour"]) if m.status.get("colour") else None,
            m.status.get("digest"), m.delivered, m.fate, round(now - m.heard, 1))
            for m in self.members.values() if group is None or m.group == group)
        agree = {}
        for g in {r.group for r in rows}:
            live = [self.members[r.name].status for r in rows
                    if r.group == g and r.fate is None and r.role in ("leader", "slave")
                    and r.silent <= SILENT]
            agree[g] = bool(live) and colours_agree(live)
        return StatusReply(tuple(sorted(self.nodes)), rows, agree)

    # -- stopping ------------------------------------------------------------------------

    def receiveMsg_StopAll(self, msg: StopAll, sender: Any) -> None:
        others = [n for n in self.nodes if n != self.node]
        for n in others:
            try:
                self.send(self.supervisor(n), StopNode())
            except Exception as e:
                log().warning("could not reach node %s to stop it: %s", n, e)
        self.send(sender, Stopping(tuple(sorted(self.nodes))))
        self.wakeupAfter(STOP_WAIT, payload="stop")

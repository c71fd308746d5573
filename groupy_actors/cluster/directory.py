"""The directory: one per node, all of them members of the group "directory".

Each node's directory is an `Application` running in a member of that group
(gms4, quorum mode). What changes the table - a node coming up, members
placed, their addresses, their fates - is multicast, so every directory
applies the same changes in the same order and holds the same table; a
newcomer gets it by state transfer. Any directory can therefore answer any
request: placement is multicast and carried out by the directory of the
node named (through its own node's supervisor); status is answered by
probing the members themselves; a leave goes straight to the member; a stop
straight to every node's agent. No node matters more than another.

The directory of the node that hosts a member is its observer: it hears its
stop or exit and multicasts its fate.
"""
from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field
from typing import Any, Optional

from ..actors.messages import Contact, Gone, MemberState, Observed, AskState, Quiet, Report, Spawn, \
    SpawnFailed, Spawned
from ..application import Application, GroupView, Message
from ..core import AppLeave, Config, Member, Stop
from .apps import AppSpecError, resolve
from .messages import (DIRECTORY_GROUP, DirectoryReady, FateCmd, LeaveReply, LeaveRequest,
                       MemberRow, NameAnswer, NameCheck, NodeUp, Place, PlaceCmd, Placed,
                       SpawnedCmd, StatusReply, StatusRequest, StopAll, StopNode, Stopping)

REPORT_WAIT = 0.6       # seconds the members have to answer a status probe
LEFT = "left the group"     # the core's reason for a graceful leave
STOP_WAIT = 0.5         # our own node stops this long after the others are told


@dataclass
class NodeEntry:
    agent: Any
    supervisor: Any


@dataclass
class MemberEntry:
    group: str
    node: str
    app: str
    args: tuple[Any, ...]
    embedded: bool = False
    gms: Any = None
    app_addr: Any = None
    fate: Optional[str] = None


@dataclass
class GroupEntry:
    config: Config
    count: int = 0


@dataclass
class Table:
    """The replicated state: the same at every directory."""

    nodes: dict[str, NodeEntry] = field(default_factory=dict)
    groups: dict[str, GroupEntry] = field(default_factory=dict)
    members: dict[str, MemberEntry] = field(default_factory=dict)    # in placement order


def states_agree(statuses: list[dict[str, Any]]) -> bool:
    """Do these members' reports show one state? Compared by their
    "digest" (and "ready", if they say whether they hold the state yet)."""
    seen = {(s.get("digest"), s.get("ready", True)) for s in statuses}
    return len(seen) == 1 and next(iter(seen))[1] is True


class Directory(Application):
    def __init__(self, node: str, agent: Any, supervisor: Any) -> None:
        self.node, self.agent, self.supervisor = node, agent, supervisor
        self.table = Table()
        self.up: tuple[str, ...] = ()           # nodes in the directory group's view
        self.announced = False
        self.requests = itertools.count(1)
        self.waiting: dict[tuple[str, int], Any] = {}     # ref -> who asked
        self.requested: set[str] = set()        # members asked of our supervisor
        self.asking: list[tuple[Any, StatusRequest]] = []
        self.states: dict[str, MemberState] = {}
        self.reports: dict[str, dict[str, Any]] = {}

    # -- the replicated table ---------------------------------------------------------

    def snapshot(self) -> Table:
        return copy.deepcopy(self.table)    # it is sent later; we go on changing ours

    def restore(self, state: Table) -> None:
        self.table = state

    def view(self, view: GroupView) -> None:
        self.up = view.members
        if self.node in view.members and not self.announced:
            self.announced = True
            self.group.mcast(NodeUp(self.node, self.agent, self.supervisor))
        self.spawn_ready()

    def deliver(self, message: Message) -> None:
        cmd = message.payload
        kind = type(cmd)
        if kind is NodeUp:
            self.node_up(cmd)
        elif kind is PlaceCmd:
            self.place(cmd)
        elif kind is SpawnedCmd:
            m = self.table.members.get(cmd.name)
            if m is not None:
                m.gms, m.app_addr = cmd.gms, cmd.app
        elif kind is FateCmd:
            m = self.table.members.get(cmd.name)
            if m is not None and m.fate is None:
                m.fate = cmd.reason
                if cmd.reason == LEFT:      # gone as asked: nothing to show
                    del self.table.members[cmd.name]
        self.spawn_ready()

    def node_up(self, cmd: NodeUp) -> None:
        old = self.table.nodes.get(cmd.node)
        if old is not None and old.agent != cmd.agent:
            for m in self.table.members.values():       # a node restarted under its name
                if m.node == cmd.node and m.fate is None:
                    m.fate = "lost: its node restarted"
        self.table.nodes[cmd.node] = NodeEntry(cmd.agent, cmd.supervisor)
        if cmd.node == self.node:
            self.group.send(self.agent, DirectoryReady(tuple(sorted(self.table.nodes))))

    def place(self, cmd: PlaceCmd) -> None:
        p, t = cmd.place, self.table
        error = None
        if p.node not in t.nodes:
            error = f"no node called {p.node!r} (nodes: {', '.join(sorted(t.nodes)) or 'none'})"
        elif p.name is not None and p.name in t.members and t.members[p.name].fate is None:
            error = f"there is already a member called {p.name!r}"
        names: list[str] = []
        if error is None:
            group = t.groups.setdefault(p.group, GroupEntry(p.config))
            for _ in range(p.count):
                group.count += 1
                name = p.name or f"{p.group}.{p.node}.{group.count}"
                t.members.pop(name, None)           # a gone member's name is free again
                t.members[name] = MemberEntry(p.group, p.node, p.app, p.args, p.embedded)
                self.requested.discard(name)        # (if it was ours, it is a new one)
                names.append(name)
        who = self.waiting.pop(cmd.ref, None)
        if who is not None:
            self.group.send(who, Placed(tuple(names), error))

    # -- placing our node's members ---------------------------------------------------

    def spawn_ready(self) -> None:
        """Create our node's members that can be created now: a group's
        first live member founds it; the others join through a member
        that has an address (they wait for one)."""
        for name, m in self.table.members.items():
            if m.node != self.node or m.fate is not None or name in self.requested:
                continue
            contact = self.contact(m.group, name)
            if contact is False:
                continue
            self.requested.add(name)
            try:
                app = resolve(m.app)
            except AppSpecError as e:
                self.group.mcast(FateCmd(name, f"not created: {e}"))
                continue
            config = self.table.groups[m.group].config
            self.group.send(self.supervisor, Spawn(name, config, contact, app, tuple(m.args),
                                                   self.group.address, own_process=True,
                                                   trace=False, embedded=m.embedded))

    def contact(self, group: str, name: str) -> Optional[Member] | bool:
        """A member of `group` to join through; None: found the group;
        False: wait (an earlier member is still on its way)."""
        for other, m in self.table.members.items():
            if other == name:
                return None                 # nobody earlier is alive: we found it
            if m.group != group or m.fate is not None or m.node not in self.up:
                continue
            if m.gms is None:
                return False
            node = self.table.nodes.get(m.node)
            return Member(other, Contact(m.gms, node.supervisor if node else None))
        return None

    # -- requests from clients and actors -----------------------------------------------

    def receive(self, msg: Any, sender: Any) -> None:
        kind = type(msg)
        if kind is Place:
            self.request_place(msg, sender)
        elif kind is StatusRequest:
            self.request_status(msg, sender)
        elif kind is MemberState:
            self.states[msg.name] = msg
        elif kind is Report:
            self.reports[msg.member] = msg.status
        elif kind is LeaveRequest:
            self.request_leave(msg, sender)
        elif kind is StopAll:
            self.stop_all(sender)
        elif kind is NameCheck:
            taken = msg.node in self.table.nodes and msg.node in self.up
            self.group.send(sender, NameAnswer(msg.node, taken))
        elif kind is Spawned:
            self.group.mcast(SpawnedCmd(msg.name, msg.gms, msg.app))
        elif kind is SpawnFailed:
            self.group.mcast(FateCmd(msg.name, f"not created: {msg.reason}"))
        elif kind is Observed:
            for _, what in msg.events:
                if isinstance(what, Stop):
                    self.group.mcast(FateCmd(msg.member, what.reason))
        elif kind is Gone:
            m = self.table.members.get(msg.name)
            if m is not None and m.fate is None:
                self.group.mcast(FateCmd(msg.name, "exited"))

    def request_place(self, msg: Place, sender: Any) -> None:
        if msg.group == DIRECTORY_GROUP:
            self.group.send(sender, Placed(error=f"{DIRECTORY_GROUP!r} is the nodes' own group"))
            return
        if msg.node not in self.table.nodes:
            known = ", ".join(sorted(self.table.nodes)) or "none"
            self.group.send(sender, Placed(error=f"no node called {msg.node!r} (nodes: {known})"))
            return
        ref = (self.node, next(self.requests))
        self.waiting[ref] = sender
        self.group.mcast(PlaceCmd(ref, msg))

    def request_leave(self, msg: LeaveRequest, sender: Any) -> None:
        m = self.table.members.get(msg.name)
        if m is None or m.fate is not None or m.gms is None:
            self.group.send(sender, LeaveReply(f"no live member called {msg.name!r}"))
            return
        self.group.send(m.gms, AppLeave())
        self.group.send(sender, LeaveReply())

    # -- status: ask the members themselves -----------------------------------------------

    def request_status(self, msg: StatusRequest, sender: Any) -> None:
        if not self.asking:
            self.states, self.reports = {}, {}
            self.group.after(REPORT_WAIT, self.answer_status)
        self.asking.append((sender, msg))
        for name, m in self.table.members.items():
            if m.fate is None and (msg.group is None or m.group == msg.group):
                if msg.settle and m.app_addr is not None:
                    self.group.send(m.app_addr, Quiet())
                for address in (m.gms, m.app_addr):
                    if address is not None:
                        self.group.send(address, AskState(self.group.address))

    def answer_status(self) -> None:
        asking, self.asking = self.asking, []
        for who, msg in asking:
            self.group.send(who, self.status_reply(msg.group))

    def status_reply(self, group: Optional[str]) -> StatusReply:
        rows = []
        for name, m in self.table.members.items():
            if group is not None and m.group != group:
                continue
            st = self.states.get(name)
            fate = m.fate
            if fate is None and st is None and m.node not in self.up:
                fate = f"no answer: node {m.node} is down"
            rows.append(MemberRow(
                m.group, name, m.node, m.app,
                st.role if st else "gone" if fate else "starting" if m.gms is None else "silent",
                st.view_id if st else None, st.members if st else (), st.seq if st else 0,
                st.view_at if st else 0.0,
                self.reports.get(name, {}), fate, st is not None))
        agree = {}
        for g in {r.group for r in rows}:
            live = [r for r in rows if r.group == g and r.live]
            agree[g] = bool(live) and len({(r.view_id, r.members) for r in live}) == 1 and \
                states_agree([r.status for r in live])
        return StatusReply(self.node, tuple(sorted(self.table.nodes)), tuple(sorted(self.up)),
                           tuple(rows), agree)

    # -- stopping everything ------------------------------------------------------------

    def stop_all(self, sender: Any) -> None:
        nodes = tuple(sorted(self.table.nodes))
        for name, node in self.table.nodes.items():
            if name != self.node:
                self.group.send(node.agent, StopNode())
        self.group.send(sender, Stopping(nodes))
        self.group.after(STOP_WAIT, lambda: self.group.send(self.agent, StopNode()))

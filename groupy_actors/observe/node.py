"""A node's process with `--metrics-port` / `--web`: it reads its members'
records through the node's tap (observe/tap.py), keeps them in a hub, asks
the node's processes for their transport counters once a second, and
serves the metrics and the page until the node stops.

Only this node's members report here (their directory, the observer they
were placed with, still gets everything, through the tap). The page's buttons act on what
this node can reach: any member it has seen in a view (kill: a Crash
message, which makes a member with a process of its own SIGKILL itself;
partition/heal: Cut messages), its own members' processes (SIGSTOP), and
this node's directory (add a colour worker here).
"""
from __future__ import annotations

import logging
import os
import signal
import time
from typing import Any, Optional

from ..actors.fifo import Reorder, Seq
from ..actors.messages import Crash, Cut, Gone, Observed, Report
from ..core.effects import InstallView
from .hub import Hub

log = logging.getLogger(__name__)

STATS_EVERY = 1.0       # seconds between transport counter rounds
NODE_ACTIONS = ("kill-leader", "kill", "sigstop", "sigcont", "partition", "heal")


class NodeObserver:
    def __init__(self, node: Any, name: str, args: Any) -> None:
        from .tap import TAP_NAME, Subscribe, Tap
        self.node, self.name, self.args = node, name, args
        self.hub = Hub("default", name, "gms4")
        self.reorder = Reorder()
        self.contacts: dict[str, Any] = {}      # member -> its group actor, from views
        self.newest: Optional[Any] = None       # the newest view seen
        self.stats: dict[int, dict[str, int]] = {}     # pid -> transport counters
        self.next_stats = 0.0
        self.metrics: Any = None
        self.web: Any = None
        try:
            if args.metrics_port is not None:
                from .metrics import Metrics
                self.metrics = Metrics(self.hub, args.metrics_port, args.http_bind, args.otlp)
            if args.web is not None:
                from .web import WebServer
                offered = NODE_ACTIONS + ("add-worker",)
                self.web = WebServer(self.hub, args.web, args.http_bind, offered,
                                     title=f"groupy-actors node {name}")
        except BaseException:
            self.close()
            raise
        self.hub.on_raw.append(self._raw)
        self.tap = node.asys.createActor(Tap, globalName=TAP_NAME)
        node.asys.tell(self.tap, Subscribe())

    def _raw(self, name: str, t: float, what: Any) -> None:
        if type(what) is InstallView:
            v = what.view
            for m in v.members:
                self.contacts[m.name] = m.contact.actor
            if self.newest is None or v.view_id > self.newest.view_id:
                self.newest = v

    # -- the loop ----------------------------------------------------------------------

    def turn(self, timeout: float) -> None:
        """Handle what arrives within `timeout`; now and then ask for counters."""
        from ..transport import TransportStats
        msg = self.node.asys.listen(timeout)
        while msg is not None:
            kind = type(msg)
            if kind is Observed:
                for batch in self.reorder.accept(msg.member, Seq(msg.n, msg), time.monotonic()):
                    for t, what in batch.events:
                        self.hub.observed(batch.member, t, what)
            elif kind is Report:
                self.hub.report(msg.member, msg.status)
            elif kind is Gone:
                self.hub.gone(msg.name)
            elif kind is TransportStats:
                self.stats[msg.pid] = dict(msg.counters)
            msg = self.node.asys.listen(0.0)
        if self.web is not None:
            self.web.run_actions(self.action)
        now = time.monotonic()
        if now >= self.next_stats:
            self.next_stats = now + STATS_EVERY
            self.count_processes()

    def count_processes(self) -> None:
        """The node's processes (its admin's process group) and their transport
        counters (answers to the last round; asked again now)."""
        from thespian.actors import ActorAddress
        from thespian.system.transport.IPBase import TCPv4ActorAddress

        from ..transport import TransportStatsRequest
        pids = _group_pids(self.node.port)
        self.stats = {p: s for p, s in self.stats.items() if p in pids}
        figures: dict[str, Any] = {"processes": len(pids)}
        if self.stats:
            for key in ("pending", "refused", "reconnects"):
                figures[key] = sum(s.get(key, 0) for s in self.stats.values())
        self.hub.set_node(figures)
        host = "127.0.0.1" if self.args.bind in (None, "0.0.0.0", "") else self.args.bind
        for port in sorted(_listening_ports(pids)):
            try:
                self.node.asys.tell(ActorAddress(TCPv4ActorAddress(host, port, external=True)),
                                    TransportStatsRequest())
            except Exception:           # a process that just went
                log.debug("no transport stats from port %d", port, exc_info=True)

    # -- the page's buttons --------------------------------------------------------------------

    def action(self, action: str, member: Optional[str]) -> str:
        asys = self.node.asys
        if action == "kill-leader":
            if self.newest is None:
                return "no view seen yet"
            member = self.newest.leader.name
            action = "kill"
        if action in ("partition", "heal"):
            live = [m.name for m in self.newest.members] if self.newest else []
            if action == "heal":
                for n in self.contacts:
                    asys.tell(self.contacts[n], Cut())
                return "healed the partition"
            if len(live) < 2:
                return "too few members to partition"
            cut = (len(live) + 1) // 2
            a, b = live[:cut], live[cut:]
            for side, other in ((a, b), (b, a)):
                for n in side:
                    asys.tell(self.contacts[n], Cut(frozenset(other)))
            return f"partition: {', '.join(a)} | {', '.join(b)}"
        if action == "add-worker":
            return self.add_worker()
        state = self.hub.members.get(member or "")
        pid = state.pid if state is not None else None
        if action == "kill":
            if pid is not None and state is not None and state.up:
                _signal(pid, signal.SIGCONT)
                _signal(pid, signal.SIGKILL)
                return f"killed {member} (SIGKILL pid {pid})"
            if member in self.contacts:
                asys.tell(self.contacts[member], Crash())
                return f"asked {member} to crash (it is on another node)"
            return f"no member called {member!r} seen here"
        if action in ("sigstop", "sigcont"):
            if pid is None:
                return f"{member} is not on this node"
            stop = action == "sigstop"
            _signal(pid, signal.SIGSTOP if stop else signal.SIGCONT)
            self.hub.set_stopped(member, "page" if stop else None)
            return f"{'SIGSTOP' if stop else 'SIGCONT'} {member} (pid {pid})"
        return f"unknown action {action}"

    def add_worker(self) -> str:
        from ..cluster.agent import AGENT, NodeAgent
        from ..cluster.client import group_config
        from ..cluster.messages import Here, Place, Where
        groups = sorted({m.group for m in self.hub.members.values()} - {"directory"}) \
            or ["colours"]
        asys = self.node.asys
        here = asys.ask(asys.createActor(NodeAgent, globalName=AGENT), Where(), 5.0)
        if not isinstance(here, Here) or here.directory is None:
            return "this node's directory did not answer"
        asys.tell(here.directory, Place(groups[0], self.name, 1,
                                        "groupy_actors.colour:ColourWorker", (0.5,),
                                        group_config()))
        return f"asked the directory for a worker of {groups[0]} on {self.name}"

    def close(self) -> None:
        for part in (self.web, self.metrics):
            if part is not None:
                try:
                    part.close()
                except Exception:
                    log.warning("closing %s failed", part, exc_info=True)
        self.web = self.metrics = None
        for m in self.hub.members.values():       # nothing left stopped behind us
            if m.stopped_by is not None and m.pid:
                _signal(m.pid, signal.SIGCONT)


def run(node: Any, name: str, args: Any, still_running: Any) -> None:
    """The node's foreground loop while `still_running()`."""
    obs = NodeObserver(node, name, args)
    try:
        if obs.metrics is not None:
            print(f"metrics: {obs.metrics.url}", flush=True)
        if obs.web is not None:
            print(f"live page: {obs.web.url}", flush=True)
        next_check = 0.0
        while True:
            obs.turn(0.2)
            now = time.monotonic()
            if now >= next_check:
                next_check = now + 0.5
                if not still_running():
                    return
    finally:
        obs.close()


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _group_pids(port: Optional[int]) -> set[int]:
    """The live processes in the process group of the admin on `port`."""
    from .. import reaper
    groups = reaper.process_groups(port, False)
    out = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            pid = int(entry)
            g = reaper._pgid(pid)
            if g in groups and reaper._ours(pid):
                out.add(pid)
    return out


def _listening_ports(pids: set[int]) -> set[int]:
    """TCP ports the processes `pids` listen on."""
    inodes: dict[str, int] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f, None)
                for line in f:
                    cols = line.split()
                    if cols[3] == "0A":
                        inodes[f"socket:[{cols[9]}]"] = int(cols[1].rsplit(":", 1)[1], 16)
        except OSError:
            continue
    ports = set()
    for pid in pids:
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                port = inodes.get(os.readlink(f"/proc/{pid}/fd/{fd}"))
                if port is not None:
                    ports.add(port)
        except OSError:
            continue
    return ports

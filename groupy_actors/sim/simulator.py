"""A seeded, single-threaded run of many cores over a faulty network.

Everything random comes from one `random.Random(seed)` and every queue is
ordered by (time, insertion count), so a seed replays a run exactly. The
application at each member records the stream items it has seen; its
snapshot is that whole history, so a state transfer can be checked exactly.
"""
from __future__ import annotations

import heapq
import random
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Optional

from .. import trace
from ..checker import PROMISED, Report, check
from ..core import (AppLeave, AppMcast, Config, Deliver, Down, Gms, InstallView,
                    Member, Note, Restore, Send, SnapshotReady, Start, StartTimer,
                    Stop, TakeSnapshot, Tick, Timing, Unwatch, Watch)
from .faults import Faults

SIM_TIMING = Timing(
    tick=5, heartbeat=10, ack_every=16, nack_retry=10, mcast_retry=40,
    join_retry=40, join_timeout=3000, state_retry=40, leave_retry=40,
    takeover_timeout=80, suspect_after=400, window=500, sender_window=32,
    max_lag=5000, ack_timeout=3000, resend_batch=64)


@dataclass
class Node:
    name: str
    gms: Gms
    alive: bool = True
    crashed: bool = False
    history: list[str] = field(default_factory=list)   # application's view of the stream

    @property
    def member(self) -> Member:
        return Member(self.name)


@dataclass
class Outcome:
    level: str
    seed: int
    faults: Faults
    report: Report
    records: list[dict[str, Any]]
    quiet: bool
    end: float
    counts: dict[str, int]
    histories_agree: Optional[bool]
    log: list[str]

    @property
    def ok(self) -> bool:
        return self.report.ok and self.histories_agree is not False

    def summary(self) -> str:
        verdict = "ok" if self.ok else "FAILED"
        extra = "" if self.histories_agree is not False else "; application histories differ"
        return (f"{self.level} seed {self.seed} ({self.faults.describe()}): {verdict}{extra}; "
                f"{self.report.lines()[0]}; quiet at {self.end:.0f}: {self.quiet}")


class Simulation:
    def __init__(self, level: str = "gms4", seed: int = 0, members: int = 4,
                 messages: int = 40, faults: Faults = Faults(), duration: float = 400.0,
                 settle: float = 4000.0, timing: Timing = SIM_TIMING,
                 keep_log: bool = False, quorum: bool = False) -> None:
        self.config = Config(level, timing, quorum)
        self.seed = seed
        self.rng = random.Random(seed)
        self.faults = faults
        self.duration = duration
        self.settle = settle
        self.keep_log = keep_log
        self.log: list[str] = []
        self.nodes: dict[str, Node] = {}
        self.queue: list[tuple[float, int, Callable[..., None], tuple[Any, ...]]] = []
        self.count = 0
        self.now = 0.0
        self.records: list[dict[str, Any]] = []
        self.watchers: dict[str, dict[str, None]] = {}
        self.link_time: dict[tuple[str, str], float] = {}
        self.counts = {"sent": 0, "lost": 0, "duplicated": 0, "crashes": 0, "cut": 0}
        self.cut_off: set[str] = set()     # one side of a partition (empty: none)
        limit = faults.max_crashes if faults.max_crashes is not None else members - 1
        self.crash_budget = min(limit, members - 1)
        self.plan(members, messages)

    # -- scheduling ------------------------------------------------------------

    def at(self, t: float, fn: Callable[..., None], *args: Any) -> None:
        self.count += 1
        heapq.heappush(self.queue, (t, self.count, fn, args))

    def plan(self, members: int, messages: int) -> None:
        rng, d = self.rng, self.duration
        self.at(0.0, self.start, "m1", None)
        for i in range(2, members + 1):
            self.at(rng.uniform(1, 20), self.start, f"m{i}", "m1")
        for k in range(messages):
            self.at(rng.uniform(30, d), self.app_mcast, f"p{k}")
        for _ in range(self.faults.crashes):
            self.at(rng.uniform(40, d), self.random_crash)
        for i in range(self.faults.joins):
            self.at(rng.uniform(40, d), self.random_join, f"j{i + 1}")
        for _ in range(self.faults.leaves):
            self.at(rng.uniform(40, d), self.random_leave)
        for _ in range(self.faults.partitions):
            self.at(rng.uniform(40, d), self.partition)
        for k in range(1, int(self.settle / 50) + 1):
            self.at(d + 50 * k, self.check_quiet)

    def run(self) -> Outcome:
        end = self.duration + self.settle
        quiet = False
        while self.queue:
            t, _, fn, args = heapq.heappop(self.queue)
            if t > end:
                break
            self.now = t
            if fn(*args) == "quiet":
                quiet = True
                break
        report = check(self.records, quiesced=True, required=PROMISED[self.config.level])
        for node in self.nodes.values():
            for key in ("resent", "nacks", "retried"):
                self.counts[key] = self.counts.get(key, 0) + node.gms.stats[key]
            self.counts["kept_max"] = max(self.counts.get("kept_max", 0), node.gms.stats["kept_max"])
        return Outcome(self.config.level, self.seed, self.faults, report, self.records,
                       quiet, self.now, dict(self.counts), self.histories_agree(), self.log)

    # -- members -----------------------------------------------------------------

    def alive(self, joined: bool = False) -> list[Node]:
        return [n for n in self.nodes.values() if n.alive and n.gms.stopped is None
                and (not joined or n.gms.view is not None)]

    def start(self, name: str, contact: Optional[str]) -> None:
        node = Node(name, Gms(self.config))
        self.nodes[name] = node
        self.records.append(trace.event(name, "start", self.now, contact=contact))
        self.handle(node, Start(node.member, Member(contact) if contact else None))

    def handle(self, node: Node, event: Any) -> None:
        if not node.alive:
            return
        if self.keep_log:
            self.log.append(f"{self.now:9.2f} {node.name} <- {event!r:.300}")
        self.effects(node, node.gms.handle(event, self.now))

    def effects(self, node: Node, effects: Iterable[Any]) -> None:
        for eff in effects:
            if not node.alive:
                return
            kind = type(eff)
            if kind is Send:
                self.send(node.name, eff.to.name, eff.msg)
                p = self.faults.crash_on_send
                if p and self.rng.random() < p and self.may_crash():
                    self.crash(node, "right after a send")
            elif kind is StartTimer:
                self.at(self.now + eff.after, self.handle, node, Tick())
            elif kind is Watch:
                self.watchers.setdefault(eff.member.name, {})[node.name] = None
                target = self.nodes.get(eff.member.name)
                if target is None or not target.alive:
                    self.notify_down(eff.member.name, node.name)
            elif kind is Unwatch:
                self.watchers.get(eff.member.name, {}).pop(node.name, None)
            elif kind is TakeSnapshot:
                self.at(self.now + self.rng.uniform(*self.faults.app_delay), self.handle, node,
                        SnapshotReady(eff.token, tuple(node.history)))
            elif kind is Note:
                if self.keep_log:
                    self.log.append(f"{self.now:9.2f} {node.name} note: {eff.text}")
            else:
                self.app(node, eff)
                if kind is Stop:
                    self.gone(node)

    def app(self, node: Node, eff: Any) -> None:
        record = trace.of_effect(node.name, eff, self.now)
        if record is not None:
            self.records.append(record)
        if isinstance(eff, Deliver):
            node.history.append(eff.msg.key)
        elif isinstance(eff, InstallView) and not eff.restored:
            node.history.append(eff.view.key)
        elif isinstance(eff, Restore):
            node.history = list(eff.data)

    # -- the network ---------------------------------------------------------------

    def send(self, src: str, dst: str, msg: Any) -> None:
        f, rng = self.faults, self.rng
        self.counts["sent"] += 1
        if self.keep_log:
            self.log.append(f"{self.now:9.2f} {src} -> {dst} {msg!r:.300}")
        if f.loss and rng.random() < f.loss:
            self.counts["lost"] += 1
            return
        copies = 1
        if f.duplicate and rng.random() < f.duplicate:
            copies = 2
            self.counts["duplicated"] += 1
        for _ in range(copies):
            t = self.now + rng.uniform(*f.latency)
            if not f.reorder:
                t = max(t, self.link_time.get((src, dst), 0.0) + 1e-6)
                self.link_time[(src, dst)] = t
            self.at(t, self.arrive, dst, msg, src)

    def arrive(self, dst: str, msg: Any, src: str) -> None:
        node = self.nodes.get(dst)
        if node is None:
            return
        if (src in self.cut_off) != (dst in self.cut_off):
            self.counts["cut"] += 1
            return
        self.handle(node, msg)

    def partition(self) -> None:
        """Cut a random minority off (the leader in it half the time)."""
        if self.cut_off:
            return
        alive = self.alive()
        if len(alive) < 2:
            return
        size = self.rng.randint(1, max(1, (len(alive) - 1) // 2))
        leaders = [n for n in alive if n.gms.role_name == "leader"]
        first = leaders[0] if leaders and self.rng.random() < 0.5 else self.rng.choice(alive)
        rest = [n for n in alive if n is not first]
        side = [first] + self.rng.sample(rest, size - 1)
        self.cut_off = {n.name for n in side}
        self.records.append(trace.event(first.name, "partition", self.now,
                                        side=sorted(self.cut_off)))
        if self.keep_log:
            self.log.append(f"{self.now:9.2f} PARTITION {sorted(self.cut_off)}")
        self.at(self.now + self.rng.uniform(*self.faults.partition_length), self.heal)

    def heal(self) -> None:
        if self.keep_log:
            self.log.append(f"{self.now:9.2f} HEAL")
        self.cut_off = set()

    # -- failures ------------------------------------------------------------------

    def may_crash(self) -> bool:
        return self.now <= self.duration and self.crash_budget > 0 and len(self.alive()) > 1

    def crash(self, node: Node, how: str) -> None:
        self.crash_budget -= 1
        self.counts["crashes"] += 1
        node.crashed = True
        self.records.append(trace.event(node.name, "crash", self.now, how=how))
        if self.keep_log:
            self.log.append(f"{self.now:9.2f} {node.name} CRASH {how} ({node.gms.role_name})")
        self.gone(node)

    def gone(self, node: Node) -> None:
        node.alive = False
        for watcher in list(self.watchers.get(node.name, {})):
            self.notify_down(node.name, watcher)

    def notify_down(self, target: str, watcher: str) -> None:
        t = self.now + self.rng.uniform(*self.faults.down_delay)
        if self.faults.down_in_order and not self.faults.reorder:
            t = max(t, self.link_time.get((target, watcher), 0.0) + 1e-6)
        self.at(t, self.down, target, watcher)

    def down(self, target: str, watcher: str) -> None:
        node = self.nodes.get(watcher)
        if node is not None and watcher in self.watchers.get(target, {}):
            self.handle(node, Down(Member(target)))

    def random_crash(self) -> None:
        if not self.may_crash():
            return
        alive = self.alive()
        leaders = [n for n in alive if n.gms.role_name == "leader"]
        victim = self.rng.choice(leaders if leaders and self.rng.random() < 0.5 else alive)
        self.crash(victim, f"at random as {victim.gms.role_name}")

    def random_join(self, name: str) -> None:
        contacts = self.alive(joined=True)
        if contacts:
            self.start(name, self.rng.choice(contacts).name)

    def random_leave(self) -> None:
        members = self.alive(joined=True)
        if len(members) > 2:
            self.handle(self.rng.choice(members), AppLeave())

    def app_mcast(self, payload: str) -> None:
        members = self.alive()
        if members:
            self.handle(self.rng.choice(members), AppMcast(payload))

    # -- the end -----------------------------------------------------------------------

    def check_quiet(self) -> Optional[str]:
        live = self.alive()
        if not live:
            return "quiet"
        if self.cut_off:
            return None
        views = {n.gms.view.view_id if n.gms.view else None for n in live}
        tops = {n.gms.stream.delivered for n in live}
        busy = any(n.gms.role_name not in ("leader", "slave") or n.gms.outbox or n.gms.backlog
                   or not n.gms.has_state or n.gms.leaving for n in live)
        if len(views) == 1 and len(tops) == 1 and not busy:
            return "quiet"
        return None

    def histories_agree(self) -> Optional[bool]:
        """With state transfer, every member that stayed has the whole history."""
        if not self.config.features.reliable:
            return None
        return len({tuple(n.history) for n in self.alive()}) <= 1


def run_seeds(seeds: Iterable[int], **kwargs: Any) -> list[Outcome]:
    """Run one simulation per seed; the failures come first."""
    outcomes = [Simulation(seed=s, **kwargs).run() for s in seeds]
    return sorted(outcomes, key=lambda o: o.ok)

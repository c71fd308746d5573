"""A seeded, single-threaded run of many cores over a faulty network.

Everything random comes from one `random.Random(seed)` and every queue is
ordered by (time, insertion count), so a seed replays a run exactly. The
application at each member records the stream items it has seen; its
snapshot is that whole history, so a state transfer can be checked exactly.
"""
from __future__ import annotations

import heapq
import random
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Optional

from .. import trace
from ..checker import PROMISED, Report, check
from ..core import AppLeave, Config, Down, Member, SnapshotReady, Tick, Timing
from .faults import Faults
from ..core.roles.quorum import majority
from .hosts import Hosts, Node

SIM_TIMING = Timing(
    tick=5, heartbeat=10, ack_every=16, nack_retry=10, mcast_retry=40,
    join_retry=40, join_timeout=3000, state_retry=40, leave_retry=40,
    takeover_timeout=80, suspect_after=400, window=500, sender_window=32,
    max_lag=5000, ack_timeout=3000, resend_batch=64, lost_after=50)

QUIET_CHECK_EVERY = 50.0    # time units between looks for a settled group


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
    expect_quiet: bool = True
    last_heal: float = 0.0      # when the last partition healed (0: none)
    suspect_after: float = 0.0

    @property
    def heal_time(self) -> Optional[float]:
        """Suspicion times from the last heal to quiet (None: no partition,
        or never quiet)."""
        if not self.last_heal or not self.quiet:
            return None
        return (self.end - self.last_heal) / self.suspect_after

    @property
    def ok(self) -> bool:
        """Every promised guarantee held, and the run ended quiet (everyone
        back in one view, nothing owed): a run that never settles proves
        nothing about agreement or validity."""
        return self.report.ok and self.histories_agree is not False \
            and (self.quiet or not self.expect_quiet)

    def summary(self) -> str:
        verdict = "ok" if self.ok else "FAILED"
        extra = "" if self.histories_agree is not False else "; application histories differ"
        if not self.quiet and self.expect_quiet:
            extra += "; never quiet"
        return (f"{self.level} seed {self.seed} ({self.faults.describe()}): {verdict}{extra}; "
                f"{self.report.lines()[0]}; quiet at {self.end:.0f}: {self.quiet}")


class Simulation(Hosts):
    def __init__(self, level: str = "gms4", seed: int = 0, members: int = 4,
                 messages: int = 40, faults: Faults = Faults(), duration: float = 400.0,
                 settle: float = 4000.0, timing: Timing = SIM_TIMING,
                 keep_log: bool = False, quorum: bool = False) -> None:
        super().__init__(Config(level, timing, quorum), keep_log)
        self.seed = seed
        self.rng = random.Random(seed)
        self.faults = faults
        self.duration = duration
        self.settle = settle
        self.queue: list[tuple[float, int, Callable[..., None], tuple[Any, ...]]] = []
        self.count = 0
        self.link_time: dict[tuple[str, str], float] = {}
        # Messages sent and not yet arrived, per link: a crash loses what
        # the sender's transport still had queued (a suffix of each link).
        self.in_flight: dict[tuple[str, str], list[int]] = {}
        self.lost_in_crash: set[int] = set()
        self.counts = {"sent": 0, "lost": 0, "duplicated": 0, "crashes": 0, "cut": 0,
                       "lost_in_crash": 0}
        self.cut_off: set[str] = set()     # one side of a partition (empty: none)
        self.last_heal = 0.0
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
            self.at(rng.uniform(30, d), self.step, k)
        for _ in range(self.faults.crashes):
            self.at(rng.uniform(40, d), self.random_crash)
        for i in range(self.faults.joins):
            self.at(rng.uniform(40, d), self.random_join, f"j{i + 1}")
        for _ in range(self.faults.leaves):
            self.at(rng.uniform(40, d), self.random_leave)
        for _ in range(self.faults.partitions):
            self.at(rng.uniform(40, d), self.partition)
        self.at(d + 50, self.check_quiet)

    def end(self) -> float:
        """When the run gives up waiting for quiet: the settle time, and at
        least 10 suspicion times after the last heal of a partition."""
        return max(self.duration + self.settle,
                   self.last_heal + 10 * self.config.timing.suspect_after)

    def run(self) -> Outcome:
        quiet = False
        while self.queue:
            t, _, fn, args = heapq.heappop(self.queue)
            if t > self.end():
                break
            self.now = t
            if fn(*args) == "quiet":
                quiet = True
                break
        report = check(self.records, quiesced=quiet, required=PROMISED[self.config.level],
                       uniform=self.config.quorum, group_lost=self.lost_at is not None)
        self.counts.update(self.stats())
        return Outcome(self.config.level, self.seed, self.faults, report, self.records,
                       quiet, self.now, dict(self.counts), self.histories_agree(), self.log,
                       last_heal=self.last_heal, suspect_after=self.config.timing.suspect_after)

    # -- what Hosts asks of us -------------------------------------------------------

    def set_timer(self, node: Node, after: float) -> None:
        self.at(self.now + after, self.handle, node, Tick())

    def snapshot_later(self, node: Node, event: SnapshotReady) -> None:
        self.at(self.now + self.rng.uniform(*self.faults.app_delay), self.handle, node, event)

    def after_send(self, node: Node) -> None:
        p = self.faults.crash_on_send
        if p and self.rng.random() < p and self.may_crash(node):
            self.crash(node, "right after a send")

    # -- the network ---------------------------------------------------------------

    def transmit(self, src: Node, dst: str, msg: Any) -> None:
        f, rng = self.faults, self.rng
        self.counts["sent"] += 1
        if f.loss and rng.random() < f.loss:
            self.counts["lost"] += 1
            return
        copies = 1
        if f.duplicate and rng.random() < f.duplicate:
            copies = 2
            self.counts["duplicated"] += 1
        link = (src.name, dst)
        for _ in range(copies):
            t = self.now + rng.uniform(*f.latency)
            if not f.reorder:
                t = max(t, self.link_time.get(link, 0.0) + 1e-6)
                self.link_time[link] = t
            self.count += 1
            token = self.count
            self.in_flight.setdefault(link, []).append(token)
            heapq.heappush(self.queue, (t, token, self.arrive, (dst, msg, src.name, token)))

    def arrive(self, dst: str, msg: Any, src: str, token: int = 0) -> None:
        flight = self.in_flight.get((src, dst))
        if flight and token in flight:
            flight.remove(token)
        if token in self.lost_in_crash:
            self.lost_in_crash.discard(token)
            return
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
        self.last_heal = self.now

    # -- failures ------------------------------------------------------------------

    def may_crash(self, node: Optional[Node] = None) -> bool:
        return self.now <= self.duration and self.crash_budget > 0 and len(self.alive()) > 1 \
            and (node is None or self.spares(node))

    def spares(self, node: Node) -> bool:
        """Quorum mode: without `node` (crashed or gone), would the others
        still hold a majority of the voters of every view a live member
        holds? A crash or leave that takes more loses the group by design
        (no majority protocol outlives it: Raft stalls alike), and a run
        that ends halted for that proves nothing about recovery. Members
        on their way out count as gone already."""
        if not self.config.quorum:
            return True
        alive = {n.name for n in self.alive() if not n.gms.leaving} - {node.name}
        for n in self.alive():
            if n.gms.view is None:
                continue
            voters = n.gms.latest_view().voters
            if len([m for m in voters if m.name in alive]) < majority(len(voters)):
                return False
        return True

    def crash(self, node: Node, how: str) -> None:
        self.crash_budget -= 1
        self.counts["crashes"] += 1
        if self.faults.crash_loses_queued:
            # What its transport had queued dies with it: on each link, the
            # messages after some point (the ones already on the wire arrive).
            for (src, _), flight in sorted(self.in_flight.items()):
                if src == node.name and flight:
                    cut = self.rng.randint(0, len(flight))
                    self.lost_in_crash.update(flight[cut:])
                    self.counts["lost_in_crash"] += len(flight) - cut
        super().crash(node, how)

    def down_later(self, target: str, watcher: str) -> None:
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
        if self.spares(victim):
            self.crash(victim, f"at random as {victim.gms.role_name}")

    def random_join(self, name: str) -> None:
        contacts = self.alive(joined=True)
        if contacts:
            self.start(name, self.rng.choice(contacts).name)

    def random_leave(self) -> None:
        members = self.alive(joined=True)
        if len(members) > 2:
            leaver = self.rng.choice(members)
            if self.spares(leaver):
                self.handle(leaver, AppLeave())

    def step(self, k: int) -> None:
        """Step `k` of the workload: a multicast by a random member (a hook:
        `groupy_actors.testing` runs a user's workload function here)."""
        self.app_mcast(f"p{k}")

    def app_mcast(self, payload: str) -> None:
        members = self.alive()
        if members:
            self.submit(self.rng.choice(members), payload)

    # -- the end -----------------------------------------------------------------------

    def check_quiet(self) -> Optional[str]:
        if not self.cut_off and self.quiet():
            return "quiet"
        self.at(self.now + QUIET_CHECK_EVERY, self.check_quiet)
        return None


def run_seeds(seeds: Iterable[int], **kwargs: Any) -> list[Outcome]:
    """Run one simulation per seed; the failures come first."""
    outcomes = [Simulation(seed=s, **kwargs).run() for s in seeds]
    return sorted(outcomes, key=lambda o: o.ok)

"""A simulator in which the test chooses every step.

`World` keeps every message under way as a `Packet` in one list, each
member's next timer, and the crash notices not yet given. Nothing happens
by itself: a test (or a search: `walk.py`, `explore.py`, hypothesis's
stateful testing in `tests/sim/`) picks the next step - deliver packet k,
lose it, duplicate it, fire a member's timer, crash a member, cut the
network, multicast, join, leave - and the world checks every guarantee of
the level after that step, not only at the end.

Time moves only when a timer fires (to that timer's time), so a schedule
can deliver a burst of messages in no time or starve a member's timers
while others run, as a SIGSTOP or a loaded machine does.

`settle()` is the fair suffix: no more faults, the cut healed, every packet
delivered after a fixed latency, every timer on time; then everyone must
be back in one view within a bound (liveness).
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Iterable, Optional

from .. import trace
from ..checker import PROMISED, Report, check
from ..core import AppLeave, Config, Down, Member, SnapshotReady, Tick, Timing
from ..core.wire import wire
from .hosts import Hosts, InvariantBroken, Node

# Short periods so that suspicion and retries take few steps: a member is
# suspected after 4 silent ticks, a takeover waits 3 for answers.
ADVERSARY_TIMING = Timing(
    tick=1, heartbeat=1, ack_every=4, ack_broadcasts=2, inflight=2, nack_retry=1,
    mcast_retry=2, retry_batch=4, join_retry=2, join_timeout=40, state_retry=2,
    leave_retry=2, takeover_timeout=3, suspect_after=4, window=200, sender_window=16,
    mcast_inflight=8, mcast_batches=2, max_lag=1000, ack_timeout=300, resend_batch=16,
    lost_after=2)

LATENCY = 0.25      # per packet in the fair suffix


class Safety(AssertionError):
    """A guarantee broke during a schedule (the message says which)."""


@wire
@dataclass(frozen=True)
class Packet:
    id: int
    src: str
    dst: str
    msg: Any
    sent: float
    kind: str = "net"       # net: droppable; down: a crash notice; local: the app's answer

    def __str__(self) -> str:
        return f"#{self.id} {self.src}->{self.dst} {type(self.msg).__name__}"


class World(Hosts):
    def __init__(self, level: str = "gms4", members: int = 3, quorum: bool = False,
                 timing: Timing = ADVERSARY_TIMING, keep_log: bool = False,
                 settled: bool = True, fifo: Optional[bool] = None) -> None:
        super().__init__(Config(level, timing, quorum), keep_log)
        # gms1-gms3 assume FIFO links (the shell numbers them on Thespian):
        # there only the oldest packet of each link may arrive next, and a
        # crash notice only after the dead member's packets on that link.
        self.fifo = not self.config.features.reliable if fifo is None else fifo
        self.flight: list[Packet] = []
        self.timers: dict[str, float] = {}
        self.cut: frozenset[str] = frozenset()
        self.ids = 0            # counters, not itertools.count: a World pickles
        self.payloads = 0
        self.joiners = 0
        self.steps: list[str] = []
        self.record_steps = True
        self.start("m1", None)
        for i in range(2, members + 1):
            self.start(f"m{i}", "m1")
            if settled:
                self.settle(quiet_only=True)
        if settled:
            self.settle(quiet_only=True)
            self.steps.clear()

    # -- what Hosts asks of us -----------------------------------------------------

    def next_id(self) -> int:
        self.ids += 1
        return self.ids

    def transmit(self, src: Node, dst: str, msg: Any) -> None:
        self.flight.append(Packet(self.next_id(), src.name, dst, msg, self.now))

    def set_timer(self, node: Node, after: float) -> None:
        self.timers[node.name] = self.now + after

    def down_later(self, target: str, watcher: str) -> None:
        self.flight.append(Packet(self.next_id(), target, watcher, Down(Member(target)),
                                  self.now, "down"))

    def snapshot_later(self, node: Node, event: SnapshotReady) -> None:
        self.flight.append(Packet(self.next_id(), node.name, node.name, event, self.now, "local"))

    # -- the steps a schedule is made of ---------------------------------------------

    def deliverable(self) -> list[int]:
        """Indices of the packets that may arrive next."""
        if not self.fifo:
            return list(range(len(self.flight)))
        seen: set[tuple[str, str]] = set()
        out = []
        for k, p in enumerate(self.flight):
            link = (p.src, p.dst)
            if p.kind == "local":
                out.append(k)
            elif link not in seen:
                out.append(k)
            seen.add(link)
        return out

    def deliver(self, k: int) -> None:
        p = self.flight.pop(k)
        self.note(f"deliver {p}")
        node = self.nodes.get(p.dst)
        if node is None or not node.alive:
            return
        if p.kind == "down":
            if p.dst in self.watchers.get(p.src, {}):
                self.handle(node, p.msg)
            return
        if p.kind == "net" and (p.src in self.cut) != (p.dst in self.cut):
            return      # the network is cut between them: lost
        self.handle(node, p.msg)

    def drop(self, k: int) -> None:
        p = self.flight[k]
        if p.kind != "net":
            raise ValueError(f"{p} is not a network message: it cannot be lost")
        self.flight.pop(k)
        self.note(f"drop {p}")

    def duplicate(self, k: int) -> None:
        p = self.flight[k]
        if p.kind != "net":
            raise ValueError(f"{p} is not a network message: it cannot be duplicated")
        self.flight.append(Packet(self.next_id(), p.src, p.dst, p.msg, p.sent))
        self.note(f"duplicate {p}")

    def fire(self, name: str) -> None:
        """Fire `name`'s timer, moving time forward to it if it lies ahead."""
        due = self.timers.pop(name)
        self.now = max(self.now, due)
        self.note(f"tick {name}")
        self.handle(self.nodes[name], Tick())

    def crash(self, node: Node | str, how: str = "by the schedule",  # type: ignore[override]
              lose_queued: Optional[int] = None) -> None:
        """Crash `node`. With `lose_queued` (a seed), also lose what its
        transport had not sent yet: a random suffix of each of its links,
        as a SIGKILL does on Thespian."""
        node = self.nodes[node] if isinstance(node, str) else node
        self.note(f"crash {node.name}" + (f" losing its queue ({lose_queued})"
                                           if lose_queued is not None else ""))
        self.timers.pop(node.name, None)
        if lose_queued is not None:
            rng = random.Random(lose_queued)
            links: dict[str, list[int]] = {}
            for p in self.flight:
                if p.src == node.name and p.kind == "net":
                    links.setdefault(p.dst, []).append(p.id)
            lost: set[int] = set()
            for dst in sorted(links):
                ids = links[dst]
                lost.update(ids[rng.randint(0, len(ids)):])
            self.flight = [p for p in self.flight if p.id not in lost]
        super().crash(node, how)

    def mcast(self, name: str, payload: Optional[str] = None) -> str:
        if payload is None:
            payload = f"p{self.payloads}"
            self.payloads += 1
        self.note(f"mcast {name} {payload}")
        self.submit(self.nodes[name], payload)
        return payload

    def join(self, contact: str, name: Optional[str] = None) -> str:
        if name is None:
            self.joiners += 1
            name = f"j{self.joiners}"
        self.note(f"join {name} via {contact}")
        self.start(name, contact)
        return name

    def leave(self, name: str) -> None:
        self.note(f"leave {name}")
        self.handle(self.nodes[name], AppLeave())

    def partition(self, side: Iterable[str]) -> None:
        self.cut = frozenset(side)
        self.note(f"partition {sorted(self.cut)}")
        self.records.append(trace.event(min(self.cut), "partition", self.now, side=sorted(self.cut)))

    def heal(self) -> None:
        self.cut = frozenset()
        self.note("heal")

    def note(self, step: str) -> None:
        if self.record_steps:
            self.steps.append(step)
        if self.keep_log:
            self.log.append(f"{self.now:9.2f} == {step}")

    # -- finding packets ---------------------------------------------------------------

    def find(self, src: Optional[str] = None, dst: Optional[str] = None,
             kind: Optional[type] = None, where: Any = None) -> int:
        """Index of the first packet under way that matches."""
        for k, p in enumerate(self.flight):
            if (src is None or p.src == src) and (dst is None or p.dst == dst) \
                    and (kind is None or type(p.msg) is kind) and (where is None or where(p.msg)):
                return k
        raise LookupError(f"no packet {src}->{dst} {kind.__name__ if kind else ''} under way; "
                          f"under way: {', '.join(map(str, self.flight)) or 'nothing'}")

    def pending(self, src: Optional[str] = None, dst: Optional[str] = None,
                kind: Optional[type] = None) -> list[Packet]:
        return [p for p in self.flight if (src is None or p.src == src)
                and (dst is None or p.dst == dst) and (kind is None or type(p.msg) is kind)]

    def deliver_all(self, src: Optional[str] = None, dst: Optional[str] = None,
                    kind: Optional[type] = None, rounds: int = 1) -> None:
        """Deliver what is under way from `src` to `dst` now (and, for
        rounds > 1, what that sends between them, and so on)."""
        for _ in range(rounds):
            batch = [p.id for p in self.pending(src, dst, kind)]
            if not batch:
                return
            for pid in batch:
                k = next((i for i, p in enumerate(self.flight) if p.id == pid), None)
                if k is not None:
                    self.deliver(k)

    def drop_all(self, src: Optional[str] = None, dst: Optional[str] = None,
                 kind: Optional[type] = None) -> int:
        lost = [k for k, p in enumerate(self.flight) if p.kind == "net"
                and (src is None or p.src == src) and (dst is None or p.dst == dst)
                and (kind is None or type(p.msg) is kind)]
        for k in reversed(lost):
            self.drop(k)
        return len(lost)

    # -- judging ---------------------------------------------------------------------

    def verdict(self, quiesced: bool = False) -> Report:
        return check(self.records, quiesced=quiesced, required=PROMISED[self.config.level],
                     uniform=self.config.quorum, group_lost=self.lost_at is not None)

    def assert_safe(self) -> None:
        """The safety guarantees of the level hold on what happened so far.

        In quorum mode delivery is uniform: what any member delivered is
        judged at once, whatever becomes of it. Otherwise the guarantees are
        for members that stay, which only the end tells (one that delivered
        a view the others never saw may yet be put out): after each step,
        only integrity."""
        report = self.verdict(quiesced=False)
        if not self.config.quorum:
            report.required = tuple(p for p in report.required if p == "integrity")
        if not report.ok:
            raise Safety("\n".join(report.lines() + self.replay()))

    def replay(self, last: int = 60) -> list[str]:
        tail = self.steps[-last:]
        return [f"schedule ({len(self.steps)} steps{', last ' + str(last) if len(self.steps) > last else ''}):"] + \
            [f"  {s}" for s in tail]

    # -- the fair suffix -------------------------------------------------------------

    def run_until(self, done: Any, end: float) -> bool:
        """Fair steps until `done()` or time `end`."""
        while not done():
            if not self.fair_step(end):
                return done()
        return True

    def fair_step(self, end: float) -> bool:
        """Deliver the next packet due or fire the next timer (whichever
        comes first), unless that lies beyond `end`. False if nothing did."""
        arrival = min((max(p.sent + LATENCY, self.now), k) for k, p in enumerate(self.flight)) \
            if self.flight else None
        timer = min(((due, name) for name, due in self.timers.items()
                     if self.nodes[name].alive), default=None)
        if arrival is None and timer is None:
            return False
        if timer is None or (arrival is not None and arrival[0] <= timer[0]):
            if arrival[0] > end:
                return False
            self.now = arrival[0]
            self.deliver(arrival[1])
        else:
            if timer[0] > end:
                return False
            self.fire(timer[1])
        return True

    def settle(self, limit: Optional[float] = None, quiet_only: bool = False) -> bool:
        """No more faults: heal, then deliver every packet (after LATENCY)
        and fire every timer on time, until everyone is back in one view
        and nothing is owed, or `limit` time passes (default 10 x
        suspect_after). True if it came to rest."""
        if self.cut:
            self.heal()
        t = self.config.timing
        end = self.now + (limit if limit is not None else self.settle_limit())
        check_every = t.tick
        next_check = self.now
        while True:
            if self.now >= next_check:
                if self.at_rest():
                    return True
                next_check = self.now + check_every
            if not self.fair_step(end):
                return self.at_rest()
            if not quiet_only:
                self.assert_safe_fast()

    def settle_limit(self) -> float:
        """How long the fair suffix may take: 10 suspicion times (or, where
        silence is never suspected, 10 takeover timeouts past a join's)."""
        t = self.config.timing
        if t.suspect_after < 10**5:
            return 10 * t.suspect_after
        return 10 * (t.takeover_timeout + t.join_retry + t.state_retry)

    def assert_safe_fast(self) -> None:
        """Cheap enough for every step of a long suffix: the per-member
        invariants run in `handle`; the record check runs every so often."""
        if len(self.records) - getattr(self, "_checked", 0) >= 50:
            self._checked = len(self.records)
            self.assert_safe()

    def stranded(self, node: Node) -> bool:
        """A joiner none of whose contacts is alive: it can only give up
        (after join_timeout), so the group is not held to wait for it."""
        role = node.gms.role
        return role.name == "joining" and not any(
            c.name in self.nodes and self.nodes[c.name].alive and self.nodes[c.name].gms.stopped is None
            for c in getattr(role, "contacts", ()))

    def quiet(self) -> bool:
        live = [n for n in self.alive() if not self.stranded(n)]
        return self.quiet_among(live)

    def at_rest(self) -> bool:
        """Quiet, and the view holds exactly the members alive."""
        if not self.quiet():
            return False
        live = [n for n in self.alive() if not self.stranded(n)]
        if not live:
            return True
        view = live[0].gms.view
        return {m.name for m in view.members} == {n.name for n in live}

    def recoverable(self) -> bool:
        """Can the group come back together at all? In quorum mode only if
        a majority of the voters of the newest view a live member knows is
        still alive
        (a crash is for ever; a view of two that loses one is stuck, as a
        Raft cluster of two is)."""
        live = [n for n in self.nodes.values() if n.alive and n.gms.view is not None]
        if not self.config.quorum:
            # Someone alive still holds the group's state (a member, not a
            # joiner that gave its old state up): if every holder crashed,
            # the group is gone and joiners can only give up.
            return any(n.gms.has_state and n.gms.role_name != "joining" for n in live)
        if not live:
            return False
        newest = max((n.gms.latest_view() for n in live),
                     key=lambda v: (self.log_epoch_of(v, live), v.seq))
        alive = {n.name for n in self.nodes.values() if n.alive}
        return sum(1 for m in newest.voters if m.name in alive) > len(newest.voters) // 2

    @staticmethod
    def log_epoch_of(view: Any, live: list[Node]) -> int:
        return max(n.gms.log_epoch for n in live if n.gms.latest_view() is view)

    def finish(self, limit: Optional[float] = None) -> Report:
        """Settle, then judge the whole run; raises Safety if a guarantee
        broke or the group did not come back together (where it can)."""
        self.assert_safe()
        recoverable = self.recoverable()      # judged when the faults stop
        rested = self.settle(limit)
        # ... and at the end: in quorum mode a leave finishing meanwhile may
        # leave too few voters alive (crashes that the leave made fatal).
        recoverable = recoverable and (rested or self.recoverable())
        if rested and any(self.stranded(n) for n in self.alive()):
            # Joiners that lost every contact give up in their own time.
            self.run_until(lambda: not any(self.stranded(n) for n in self.alive()),
                           self.now + 2 * self.config.timing.join_timeout)
        report = self.verdict(quiesced=rested and recoverable)
        if not report.ok:
            raise Safety("\n".join(report.lines() + self.replay()))
        if not rested and recoverable:
            raise Safety("\n".join(
                [f"liveness: not back in one view {limit or self.settle_limit():g} "
                 "time units after the faults stopped"] + self.status() + self.replay()))
        return report

    def status(self) -> list[str]:
        out = []
        why: dict[str, str] = {}
        for r in self.records:
            if r["kind"] in ("rejoin", "halt", "stopped"):
                why[r["member"]] = f"; last {r['kind']} at {r['t']:g}: {r.get('reason')}"
        for n in self.nodes.values():
            g = n.gms
            state = "crashed" if n.crashed else ("alive" if n.alive else "stopped")
            out.append(f"  {n.name}: {state}, {g.role_name}, view "
                       f"{g.view.view_id if g.view else None} "
                       f"{[m.name for m in g.view.members] if g.view else ''}, epoch {g.epoch}, "
                       f"delivered {g.stream.delivered}, outbox {len(g.outbox)}, "
                       f"backlog {len(g.backlog)}, state {g.has_state}{why.get(n.name, '')}")
        return out


__all__ = ["ADVERSARY_TIMING", "InvariantBroken", "Packet", "Safety", "World"]

"""The `limit` workloads: the group's message pattern on plain Thespian
actors, with no protocol, as the ceiling every group figure is compared to.

N actors; actor 0 is the sequencer. A multicast is one hop to the
sequencer (actor 0 sends its own to itself, as a group leader's
application hands its own to its member) and a fan-out from there to the
N-1 others; the sequencer delivers its copy on the spot. No
acknowledgements, numbering, batching, retries or failure detection: only
the sends that any sequencer-based total order needs.

closed / window: the script tells the sequencer to start and it passes the
start on to the others, so all begin together as with the group's "go";
then each actor keeps `window` of its own messages outstanding and
timestamps its first send and its last delivery, exactly as
`bench.apps.BenchMember` does.

probe: the script injects probe i at the last actor (stamping t0 just
before), every actor sends the script an acknowledgement with its delivery
time, and the script injects i+1 once all N have acknowledged: the same
pacing and the same hop from the script as the group's probe.

On UDP, which drops messages under bursts, the bare pattern cannot wait
for every message: there a sender goes on when its own message is not back
within LOSS_AFTER, the figure counts what was delivered, and lost probes
are skipped (see `_closed_lossy`). The counts of lost messages are kept.

Actor classes live here, importable by module path, because on the
process-based bases each actor process imports them.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Callable, Optional

from thespian.actors import Actor, ActorExitRequest, WakeupMessage

from groupy_actors import system as systems

from .teardown import stop_system
from .workloads import BenchTimeout, summary_ms

# Bases whose transport drops messages under bursts (../shared/THESPIAN-NOTES.md):
# there the bare pattern skips what was lost instead of waiting for it forever.
LOSSY = {"udp"}
LOSS_AFTER = 0.25   # seconds after which an own message or a probe counts as lost


@dataclass(frozen=True)
class Setup:
    index: int
    members: tuple[Any, ...]            # actor addresses; members[0] sequences


@dataclass(frozen=True)
class Go:
    tag: str
    per_sender: int
    window: int
    loss_after: float = 0.0         # > 0: an own message not back by then counts as lost


@dataclass(frozen=True)
class Query:
    """The script asks for a member's counts (lossy transports only)."""


@dataclass(frozen=True)
class Count:
    index: int
    sent: int
    outstanding: int
    delivered: int
    lost: int
    first_send: Optional[float]
    last_deliver: float


@dataclass(frozen=True)
class Data:
    tag: str
    origin: int
    i: int
    probe: bool = False


@dataclass(frozen=True)
class Inject:
    tag: str
    i: int


@dataclass(frozen=True)
class Done:
    index: int
    first_send: Optional[float]
    last_deliver: float
    delivered: int


@dataclass(frozen=True)
class Ack:
    tag: str
    i: int
    index: int
    at: float


class LimitMember(Actor):
    """One member of the bare pattern; member 0 also sequences."""

    def __init__(self) -> None:
        super().__init__()
        self.index = -1
        self.members: tuple[Any, ...] = ()
        self.script: Any = None
        self.go: Optional[Go] = None
        self.sent = self.delivered = 0
        self.first_send: Optional[float] = None
        self.last_deliver = 0.0
        self.outstanding: set[int] = set()
        self.lost = 0

    def receiveMessage(self, msg: Any, sender: Any) -> None:
        kind = type(msg)
        if kind is Data:
            if self.index == 0:
                for member in self.members[1:]:
                    self.send(member, msg)
            self._deliver(msg)
        elif kind is Go:
            if self.index == 0:
                for member in self.members[1:]:
                    self.send(member, msg)
            self._start(msg)
        elif kind is Inject:
            self.send(self.members[0], Data(msg.tag, self.index, msg.i, probe=True))
        elif kind is WakeupMessage:
            if msg.payload in self.outstanding:
                self.outstanding.discard(msg.payload)
                self.lost += 1
                self._send_next()
        elif kind is Query:
            self.send(sender, Count(self.index, self.sent, len(self.outstanding), self.delivered,
                                    self.lost, self.first_send, self.last_deliver))
        elif kind is Setup:
            self.index, self.members, self.script = msg.index, msg.members, sender
        elif kind is ActorExitRequest:
            pass

    def _start(self, go: Go) -> None:
        self.go = go
        self.sent = self.delivered = self.lost = 0
        self.first_send = None
        self.outstanding.clear()
        for _ in range(go.window):
            self._send_next()

    def _send_next(self) -> None:
        go = self.go
        if go is None or self.sent >= go.per_sender:
            return
        if self.first_send is None:
            self.first_send = time.time()
        self.sent += 1
        self.send(self.members[0], Data(go.tag, self.index, self.sent))
        if go.loss_after:
            self.outstanding.add(self.sent)
            self.wakeupAfter(timedelta(seconds=go.loss_after), payload=self.sent)

    def _deliver(self, msg: Data) -> None:
        now = time.time()
        if msg.probe:
            self.send(self.script, Ack(msg.tag, msg.i, self.index, now))
            return
        go = self.go
        if go is None or msg.tag != go.tag:
            return
        self.delivered += 1
        self.last_deliver = now
        if msg.origin == self.index:
            if go.loss_after:
                if msg.i not in self.outstanding:
                    return              # already given up on: its successor went out
                self.outstanding.discard(msg.i)
            self._send_next()
        if self.delivered == go.per_sender * len(self.members) and not go.loss_after:
            self.send(self.script, Done(self.index, self.first_send, now, self.delivered))


class _Bare:
    """N limit members on a fresh actor system of `kind`, stopped on exit."""

    def __init__(self, kind: str, n: int, log_file: str) -> None:
        self.system = systems.start(kind.partition("+")[0], log_file=log_file)
        try:
            asys = self.system.asys
            self.members = tuple(asys.createActor(LimitMember) for _ in range(n))
            for i, member in enumerate(self.members):
                asys.tell(member, Setup(i, self.members))
        except BaseException:
            stop_system(self.system)
            raise

    def __enter__(self) -> "_Bare":
        return self

    def __exit__(self, *exc: Any) -> None:
        stop_system(self.system)

    def tell(self, index: int, msg: Any) -> None:
        self.system.asys.tell(self.members[index], msg)

    def until(self, predicate: Callable[[Any], bool], deadline: float, what: str,
              every: Optional[Callable[[], bool]] = None, period: float = 0.2) -> None:
        """Hand each message that arrives to `predicate` until it says done;
        call `every` each `period` seconds, also done when it says so."""
        due = time.monotonic() + period
        while True:
            now = time.monotonic()
            if now >= deadline:
                raise BenchTimeout(what)
            if every is not None and now >= due:
                due = now + period
                if every():
                    return
            msg = self.system.asys.listen(min(deadline, due) - now if every else
                                          min(deadline - now, 0.5))
            if msg is not None and predicate(msg):
                return


def closed(kind: str, n: int, total: int, window: int, timeout: float,
           log_file: str) -> dict[str, Any]:
    """The bare closed (window 1) or window pattern: about `total` messages."""
    if kind in LOSSY:
        return _closed_lossy(kind, n, total, window, timeout, log_file)
    per = max(1, total // n)
    done: dict[int, Done] = {}

    def arrived(msg: Any) -> bool:
        if type(msg) is Done:
            done[msg.index] = msg
        return len(done) == n

    with _Bare(kind, n, log_file) as bare:
        bare.tell(0, Go("limit", per, window))
        bare.until(arrived, time.monotonic() + timeout,
                   f"limit: {n - len(done)} of {n} actors did not deliver everything in {timeout:g}s")
    first = min(d.first_send for d in done.values() if d.first_send is not None)
    last = max(d.last_deliver for d in done.values())
    return {"messages": per * n, "seconds": last - first,
            "throughput": per * n / max(last - first, 1e-9)}


def _closed_lossy(kind: str, n: int, total: int, window: int, timeout: float,
                  log_file: str) -> dict[str, Any]:
    """Closed/window where the transport may drop messages (UDP): a sender
    that does not see its own message back within LOSS_AFTER goes on without
    it (no retry: that would be protocol), and since nobody can then wait
    for an exact count, the script polls every member's counts until all
    have sent everything and the counts stop moving. Throughput = messages
    delivered per member (mean) / (first send .. last delivery)."""
    per = max(1, total // n)
    counts: dict[int, Count] = {}
    last_seen: list[tuple[int, ...]] = []

    def arrived(msg: Any) -> bool:
        if type(msg) is Count:
            counts[msg.index] = msg
        return False

    def settled() -> bool:
        finished = len(counts) == n and all(c.sent == per and not c.outstanding
                                            for c in counts.values())
        seen = tuple(c.delivered for c in sorted(counts.values(), key=lambda c: c.index))
        if finished and last_seen and last_seen[-1] == seen:
            return True
        last_seen.append(seen)
        for i in range(n):
            bare.tell(i, Query())
        return False

    with _Bare(kind, n, log_file) as bare:
        bare.tell(0, Go("limit", per, window, loss_after=LOSS_AFTER))
        bare.until(arrived, time.monotonic() + timeout,
                   f"limit: the actors did not finish sending in {timeout:g}s",
                   every=settled, period=max(0.2, 2 * LOSS_AFTER))
    first = min(c.first_send for c in counts.values() if c.first_send is not None)
    last = max(c.last_deliver for c in counts.values())
    delivered = sum(c.delivered for c in counts.values()) / n
    return {"messages": per * n, "seconds": last - first,
            "lost": sum(c.lost for c in counts.values()),
            "throughput": delivered / max(last - first, 1e-9)}


def probe(kind: str, n: int, count: int, timeout: float, log_file: str,
          warmup: int = 5) -> dict[str, Any]:
    """The bare probe: one at a time from the last actor, paced by acks."""
    at_sender: list[float] = []
    at_all: list[float] = []
    lost = 0
    deadline = time.monotonic() + timeout
    with _Bare(kind, n, log_file) as bare:
        for i in range(warmup + count):
            acks: dict[int, float] = {}

            def arrived(msg: Any) -> bool:
                if type(msg) is Ack and msg.i == i:
                    acks[msg.index] = msg.at
                return len(acks) == n

            t0 = time.time()
            bare.tell(n - 1, Inject("probe", i))
            what = f"limit: probe {i} not acknowledged by all {n}"
            if kind in LOSSY:
                # A probe (or an ack) the transport dropped is skipped, not waited for.
                try:
                    bare.until(arrived, min(deadline, time.monotonic() + LOSS_AFTER), what)
                except BenchTimeout:
                    if time.monotonic() >= deadline:
                        raise
                    lost += 1
                    continue
            else:
                bare.until(arrived, deadline, what)
            if i >= warmup:
                at_sender.append(acks[n - 1] - t0)
                at_all.append(max(acks.values()) - t0)
    if not at_all:
        raise BenchTimeout("limit: every probe was lost")
    return {"probes": len(at_all), "lost": lost, **summary_ms("sender", at_sender),
            **summary_ms("all", at_all)}

"""The group workloads: closed, window, probe, failover and join.

Each function drives a running group from this script and returns the
figures of one run as a dict, or raises `BenchTimeout` / `BenchFailure`.
How each figure is taken:

closed / window
    A ("go", tag, Plan) control message is multicast through the group, so
    every member starts at the same point of the total order; each sender
    then keeps `window` of its own messages outstanding (1 for closed) and
    sends the next when one of its own is delivered to itself. Every member
    timestamps its own first send and its last data delivery, and sends one
    summary record when it has delivered all M messages. Throughput =
    M / (earliest first send .. latest last delivery).
    Resends: the members' counters are read before the "go" and after the
    last summary (outside the timed span); resends per delivered message =
    (entries the leader sent again on a gap report, "resent", plus
    multicasts a member sent again, "retried", summed over the members) /
    (M deliveries at each of the N members).

probe
    The script multicasts probe i through one non-leader member (the last
    to join) and stamps the send time t0 just before. Each member records
    its delivery time and sends it straight to the script (an application
    record: one direct actor message per member and probe, outside the
    protocol, so the group's own traffic is not touched). When every member
    has acknowledged probe i the script sends probe i+1, so exactly one
    probe is in flight. With a time budget, the run stops once the budget
    is spent and at least MIN_PROBES were counted (the number counted is
    kept): a slow peer then still gives a sample in reasonable time. The
    script takes the place of the sender's application: its one hop into
    the member replaces the application's one hop, and the `limit` probe
    is paced the same way. Latency at the
    sender = its delivery - t0; at all = the last member's delivery - t0.
    A few warm-up probes (connection set-up) are not counted.

failover
    On a fresh group with probe traffic running, the leader's process is
    SIGKILLed right after a probe was sent (so one is in flight), and a new
    probe is multicast through a survivor at once. The figure is the time
    from the kill to the delivery of that new probe at the last survivor:
    detection, flush and new view included, and nothing that was already
    sequenced before the kill can count as "new". The in-flight probe must
    be delivered at every survivor too (validity), or the trial fails.
    The time until the last survivor installed a view without the old
    leader (from the group's own records) is kept too, to tell the
    takeover apart from what the new message waited for after it.

join
    N members run a closed loop with no end (on simpleSystemBase paced by a
    short pause, see `SIMPLE_LOAD_PAUSE`); after a short spell a new
    member joins. The figure is the time from the join request to the
    newcomer's application having restored the state it was sent (the
    newcomer records that moment itself); the time until the script saw it
    in a view is kept as well.
"""
from __future__ import annotations

import contextlib
import itertools
import statistics
import time
from typing import Any, Callable, Iterator

from groupy_actors import Group, Handle

from .apps import DONE, PROBE, RESTORED, BenchMember, Plan
from .teardown import stop_group

POLL = 0.002        # seconds per poll while waiting: short, so pacing is prompt
JOIN_TIMEOUT = 30.0
# On simpleSystemBase the join's load must leave the actors idle now and then,
# or the script's next `tell` never returns (see `Plan.pause`): each sender
# waits this long per member after its own delivery, several times what one
# round of N multicasts takes there. Real processes run a plain closed loop.
SIMPLE_LOAD_PAUSE = 0.002
LOAD_SPARE = 10.0   # seconds the join's load may outlast the join before it ends itself
COUNTERS_WAIT = 5.0  # seconds to wait for every member's counters
MIN_PROBES = 20     # probes counted at least before a time budget can end a probe run
_tags = itertools.count(1)


class BenchTimeout(Exception):
    """A workload did not finish in its time (the message says what was missing)."""


class BenchFailure(Exception):
    """A workload finished but its result cannot be trusted (the message says why)."""


class Records:
    """The bench records a group sent back, read as they arrive.

    Only our own record kinds are kept; the group's list of records is
    emptied as it is read, because under load it grows by N records per
    multicast and would otherwise hold millions by the end of a suite.
    """

    def __init__(self, group: Group) -> None:
        self.group = group
        self.done: dict[Any, dict[str, dict[str, Any]]] = {}
        self.probes: dict[tuple[Any, int], dict[str, float]] = {}
        self.restored: dict[str, dict[str, Any]] = {}
        self.views: list[dict[str, Any]] = []

    def read(self) -> None:
        records = self.group.records
        for r in records:
            kind = r["kind"]
            if kind == "view":
                self.views.append(r)
            elif kind == PROBE:
                self.probes.setdefault((r["tag"], r["i"]), {})[r["member"]] = r["at"]
            elif kind == DONE:
                self.done.setdefault(r["tag"], {})[r["member"]] = r
            elif kind == RESTORED:
                self.restored[r["member"]] = r
        records.clear()

    def wait(self, predicate: Callable[[], bool], deadline: float, what: str) -> None:
        """Poll the group until `predicate` holds; BenchTimeout at `deadline`."""
        while True:
            self.read()
            if predicate():
                return
            if time.monotonic() >= deadline:
                raise BenchTimeout(what)
            self.group.poll(POLL)


@contextlib.contextmanager
def running_group(system: str, n: int, log_file: str, prefix: str = "m",
                  metrics: bool = False) -> Iterator[tuple[Group, list[Handle]]]:
    """A fresh group of `n` benchmark members, stopped on the way out whatever
    happens. The first member leads; the last is the probe sender. `metrics`:
    with OpenTelemetry metrics served (on a free port) and the members' probes on."""
    # Not traced: each delivery would be a record for this script to read.
    # "tcp+embedded": the application inside its group actor (two hops).
    base, _, mode = system.partition("+")
    group = Group.start(system=base, log_file=log_file, trace=False,
                        metrics_port=0 if metrics else None, embedded=mode == "embedded")
    try:
        handles = [group.join(f"{prefix}{i}", app=BenchMember, timeout=JOIN_TIMEOUT)
                   for i in range(n)]
        if not group.wait(lambda: all(len(h.info.members) == n for h in handles), JOIN_TIMEOUT):
            raise BenchTimeout(f"the {n} members did not all see a view of {n}")
        yield group, handles
    finally:
        try:
            settle(group)
        finally:
            stop_group(group)


def settle(group: Group, quiet_for: float = 0.2, at_most: float = 3.0) -> None:
    """Ask the members to stop proposing work and let the traffic die down:
    an admin shut down while its members are busy may never answer (see
    `teardown`), and a quiet group stops in milliseconds."""
    if not any(m.alive for m in group.members.values()):
        return
    group.quiet()
    end = time.monotonic() + at_most
    while time.monotonic() < end and group.poll(quiet_for):
        group.records.clear()


def closed(group: Group, handles: list[Handle], total: int, window: int,
           timeout: float) -> dict[str, Any]:
    """One closed (window 1) or window run of about `total` messages."""
    per = max(1, total // len(handles))
    plan = Plan(tuple(h.name for h in handles), per, window)
    tag = f"c{next(_tags)}"
    records = Records(group)
    before = counters(group, handles)
    handles[-1].mcast(("go", tag, plan))
    names = {h.name for h in handles}
    records.wait(lambda: set(records.done.get(tag, {})) >= names, time.monotonic() + timeout,
                 f"{tag}: not every member delivered all {plan.total} messages in {timeout:g}s")
    result = throughput(list(records.done[tag].values()), plan.total)
    after = counters(group, handles)
    if before is not None and after is not None:
        again = {key: sum(after[m].get(key, 0) - before[m].get(key, 0) for m in names)
                 for key in ("resent", "retried")}
        result.update(again, resends=(again["resent"] + again["retried"]) /
                      (plan.total * len(handles)))
    return result


def throughput(done: list[dict[str, Any]], total: int) -> dict[str, Any]:
    """The figures of a closed/window run from every member's summary
    (first_send, last_deliver, delivered); BenchFailure if one delivered
    other than `total`."""
    wrong = [d["delivered"] for d in done if d["delivered"] != total]
    if wrong:
        raise BenchFailure(f"members delivered {wrong}, expected {total}")
    first = min(d["first_send"] for d in done if d["first_send"] is not None)
    last = max(d["last_deliver"] for d in done)
    return {"messages": total, "seconds": last - first,
            "throughput": total / max(last - first, 1e-9)}


def counters(group: Group, handles: list[Handle],
             wait: float = COUNTERS_WAIT) -> dict[str, dict[str, int]] | None:
    """Every member's protocol counters (`Gms.stats`), asked for now; None if
    some member did not answer within `wait` seconds."""
    for h in handles:
        h.info.stats = {}
    group.ask_reports()
    end = time.monotonic() + wait
    while not all(h.info.stats for h in handles):
        if time.monotonic() >= end:
            return None
        group.poll(POLL)
    return {h.name: dict(h.info.stats) for h in handles}


def _probe_once(records: Records, sender: Handle, tag: str, i: int, members: set[str],
                deadline: float) -> tuple[float, dict[str, float]]:
    t0 = time.time()
    sender.mcast(("probe", tag, i))
    key = (tag, i)
    records.wait(lambda: set(records.probes.get(key, {})) >= members, deadline,
                 f"probe {i} not delivered at {sorted(members - set(records.probes.get(key, {})))}")
    return t0, records.probes.pop(key)


def probe(group: Group, handles: list[Handle], count: int, timeout: float,
          warmup: int = 5, budget: float | None = None) -> dict[str, Any]:
    """`count` probes, one at a time, through the last member (not the leader);
    fewer if `budget` seconds are spent first (see the module's docstring)."""
    sender = handles[-1]
    members = {h.name for h in handles}
    tag = f"p{next(_tags)}"
    records = Records(group)
    deadline = time.monotonic() + timeout
    return probe_series(lambda i: _probe_once(records, sender, tag, i, members, deadline),
                        sender.name, count, warmup, budget)


def probe_series(once: Callable[[int], tuple[float, dict[Any, float]]], sender: Any,
                 count: int, warmup: int, budget: float | None) -> dict[str, Any]:
    """Probes 0, 1, ... one at a time, each `once(i)` -> (t0, the delivery
    time at each member); the latency figures of those after the warm-up."""
    at_sender: list[float] = []
    at_all: list[float] = []
    stop = Budget(budget)
    for i in range(warmup + count):
        t0, acks = once(i)
        if i >= warmup:
            at_sender.append(acks[sender] - t0)
            at_all.append(max(acks.values()) - t0)
            if stop.spent(len(at_all)):
                break
    return {"probes": len(at_all), **summary_ms("sender", at_sender),
            **summary_ms("all", at_all)}


class Budget:
    """When a probe run may stop early: `seconds` after it began, once at
    least MIN_PROBES were counted (None: never)."""

    def __init__(self, seconds: float | None) -> None:
        self.end = None if seconds is None else time.monotonic() + seconds

    def spent(self, counted: int) -> bool:
        return self.end is not None and counted >= MIN_PROBES and time.monotonic() >= self.end


def summary_ms(prefix: str, seconds: list[float]) -> dict[str, float]:
    """Median and 99th percentile of latencies, in milliseconds."""
    ms = sorted(s * 1000 for s in seconds)
    return {f"{prefix}_p50_ms": statistics.median(ms), f"{prefix}_p99_ms": percentile(ms, 99)}


def percentile(sorted_values: list[float], p: float) -> float:
    """The nearest-rank percentile (no interpolation: with few samples the
    p99 is then the largest or near it, which is what it should say)."""
    rank = max(1, -(-len(sorted_values) * p // 100))
    return sorted_values[int(rank) - 1]


def failover(system: str, n: int, log_file: str, timeout: float,
             warmup: int = 10) -> dict[str, Any]:
    """One failover trial on a fresh group of `n` (n >= 2)."""
    if n < 2:
        raise BenchFailure("failover needs at least 2 members")
    with running_group(system, n, log_file) as (group, handles):
        leader, sender = handles[0], handles[-1]
        survivors = {h.name for h in handles[1:]}
        members = survivors | {leader.name}
        tag = f"f{next(_tags)}"
        records = Records(group)
        deadline = time.monotonic() + timeout
        t_kill, resumed = kill_leader(
            records, tag, lambda i: _probe_once(records, sender, tag, i, members, deadline),
            lambda i: sender.mcast(("probe", tag, i)), leader.kill, survivors, warmup,
            deadline)

        def new_views() -> dict[str, float]:
            first: dict[str, float] = {}
            for r in records.views:
                if r["t"] >= t_kill and leader.name not in r["members"]:
                    first[r["member"]] = min(first.get(r["member"], r["t"]), r["t"])
            return first

        # Views reach us in the members' batched observations, a little late.
        records.wait(lambda: set(new_views()) >= survivors, deadline,
                     "not every survivor installed a view without the old leader")
        return {"failover_ms": (resumed - t_kill) * 1000,
                "new_view_ms": (max(new_views()[m] for m in survivors) - t_kill) * 1000}


def kill_leader(source: Any, tag: str, once: Callable[[int], Any],
                submit: Callable[[int], None], kill: Callable[[], None], survivors: set[Any],
                warmup: int, deadline: float) -> tuple[float, float]:
    """The heart of a failover trial, for the group and for a peer alike:
    `warmup` probes (`once(i)`), probe `warmup` submitted (`submit(i)`) and
    so in flight, the leader killed (`kill()`), probe `warmup` + 1 submitted
    at once. Waits on `source` (its `wait` and `probes`, as `Records`) until
    both probes reached every survivor; returns (time of the kill, time the
    new probe had reached the last survivor)."""
    for i in range(warmup):
        once(i)
    submit(warmup)
    t_kill = time.time()
    kill()
    submit(warmup + 1)
    fresh, old = (tag, warmup + 1), (tag, warmup)
    source.wait(lambda: set(source.probes.get(fresh, {})) >= survivors, deadline,
                "no new message delivered at every survivor in time")
    resumed = max(source.probes[fresh][m] for m in survivors)
    source.wait(lambda: set(source.probes.get(old, {})) >= survivors, deadline,
                "the message in flight at the kill was not delivered at every survivor")
    return t_kill, resumed


def join(system: str, n: int, log_file: str, timeout: float,
         load_for: float = 0.5) -> dict[str, Any]:
    """One join of a newcomer to a group of `n` members under closed-loop load."""
    with running_group(system, n, log_file) as (group, handles):
        records = Records(group)
        load = Plan(tuple(h.name for h in handles), None,
                    pause=SIMPLE_LOAD_PAUSE * n if system.startswith("simple") else 0.0,
                    until=time.time() + load_for + LOAD_SPARE)
        handles[0].mcast(("go", f"l{next(_tags)}", load))
        group.run(load_for)
        t0 = time.time()
        newcomer = group.join("newcomer", app=BenchMember, timeout=timeout)
        in_view = time.time()
        records.wait(lambda: newcomer.name in records.restored, time.monotonic() + timeout,
                     "the newcomer did not restore a state")
        restored = records.restored[newcomer.name]
        if restored["delivered"] <= 1:
            # Only the "go" itself: the load never ran, so this was no join under load.
            raise BenchFailure("the group was idle when the newcomer joined")
        return {"join_ms": (restored["at"] - t0) * 1000, "in_view_ms": (in_view - t0) * 1000,
                "state_covers": restored["delivered"]}

"""The same workloads on a peer library, for a side-by-side comparison.

The one peer is PySyncObj (Raft; `pip install -e '.[bench]'`), what a
Python user would pick instead. Each replica is an OS process of its own
(`bench/pysyncobj_replica.py`) on loopback TCP, on ports that were free
when the cluster started; the benchmark talks to each over its stdin and
stdout. The definitions follow the group's workloads (bench/workloads.py)
as closely as the two designs allow:

multicast / delivery
    an `@replicated` append to a list / that append's apply at a replica.
closed / window
    a ("go", ...) item is replicated, so every replica starts at the same
    point of the log; each replica then keeps `window` of its own items
    outstanding (1 for closed) and submits the next when one of its own was
    applied locally. Throughput = M / (earliest first submission .. latest
    last apply), as for the group.
leader window
    PySyncObj's best case: the leader alone submits all M items with
    LEADER_WINDOW outstanding (no hop from a follower to the leader).
probe
    one follower submits item i and stamps t0 just before; every replica
    reports its apply of it over its stdout pipe (outside the protocol);
    i+1 goes when all N have applied i. Latency at the sender and at the
    last replica, median and p99; 5 warm-up probes are not counted.
failover
    a fresh cluster, probes as above, one in flight when the leader's
    process is SIGKILLed; a new probe is submitted through a survivor at
    once. Figure: kill -> that probe applied at every survivor. The time
    until a survivor became leader is kept too (the group keeps the time of
    its new view). A Raft cluster of 2 keeps no majority after losing one,
    so there is no failover to time at N = 2.
join
    N replicas (dynamic membership on) run an endless closed loop; a
    newcomer process is started and bound, then `addNodeToCluster` is asked
    of the leader (t0). Figure: t0 -> the newcomer has applied every item
    that preceded the membership change (the state it had to catch up to).
    The newcomer gets the lowest address: PySyncObj's higher address opens
    each connection, and a connection from a node not yet known is refused
    and retried only after `connectionRetryTime` (5 s), which would measure
    that timer instead. The group's figure includes creating the newcomer's
    actors (forks of a running actor system); the peer's is given both from
    the request (its process up and listening) and from starting its
    process (a fresh interpreter importing PySyncObj), which bracket it.

Log compaction is off (its thresholds set out of reach) and the journal is
PySyncObj's default, in memory. Submissions that fail are retried (see the
replica's docstring).
"""
from __future__ import annotations

import contextlib
import importlib
import itertools
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

from .teardown import deferred_interrupts
from .workloads import BenchFailure, BenchTimeout, kill_leader, probe_series, throughput

PEERS = ("pysyncobj",)
ROOT = Path(__file__).resolve().parent.parent

# The configurations tried; the report names the one behind each figure.
CONFIGS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "batch-off": {"appendEntriesUseBatch": False},
    "short": {"autoTickPeriod": 0.005, "appendEntriesPeriod": 0.01,
              "raftMinTimeout": 0.05, "raftMaxTimeout": 0.1},
    "short+batch-off": {"appendEntriesUseBatch": False, "autoTickPeriod": 0.005,
                        "appendEntriesPeriod": 0.01, "raftMinTimeout": 0.05, "raftMaxTimeout": 0.1},
    "aggressive": {"autoTickPeriod": 0.002, "appendEntriesPeriod": 0.004,
                   "raftMinTimeout": 0.015, "raftMaxTimeout": 0.03},
}
# "aggressive" timers are for failover only: under load on 2 shared cores a
# 15-30 ms election timeout elects again and again.
FAILOVER_ONLY = {"aggressive"}
DEFAULT_CONFIGS = ("defaults", "batch-off", "short", "aggressive")
# --quick leaves the defaults out: their 0.1 s batching period holds a closed
# loop near 25 items/s and a probe near 0.2 s, a minute of the two minutes.
QUICK_CONFIGS = ("batch-off", "short", "aggressive")
# Every configuration also gets these: no log compaction, binding retried
# quickly (a port picked free can be taken meanwhile).
COMMON = {"logCompactionMinEntries": 2 ** 62, "logCompactionMinTime": 1e12,
          "bindRetryTime": 0.1, "maxBindRetries": 30}

LEADER_WINDOW = 1024
START_TIMEOUT = 30.0
POLL = 0.002
_tags = itertools.count(1)
_live: set[subprocess.Popen] = set()       # every replica process not yet reaped


def not_comparable(workload: str, n: int) -> Optional[str]:
    """Why `workload` has no figure for the peer at group size `n`, or None."""
    if workload == "failover" and n < 3:
        return f"a Raft cluster of {n} has no majority once its leader is gone"
    return None


def missing(peer: str) -> Optional[str]:
    """Why `peer` cannot run here, or None."""
    try:
        importlib.import_module(peer)
    except ImportError:
        return (f"{peer} is not installed; install the benchmark's extra: "
                "pip install -e '.[bench]'")
    return None


def _free_ports(count: int) -> list[int]:
    socks = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


class Replica:
    def __init__(self, index: int, address: str, proc: subprocess.Popen) -> None:
        self.index, self.address, self.proc = index, address, proc
        self.buffer = b""
        self.alive = True


class Cluster:
    """N PySyncObj replicas (plus optionally a newcomer, not yet a member),
    each its own process, stopped whole on the way out."""

    def __init__(self, n: int, config: str, log_file: str, newcomer: bool = False) -> None:
        self.conf = {**COMMON, **CONFIGS[config]}
        if newcomer:
            self.conf["dynamicMembershipChange"] = True
        self.log_file = log_file
        self.selector = selectors.DefaultSelector()
        self.replicas: list[Replica] = []
        self.records: list[dict[str, Any]] = []
        self.done: dict[str, dict[int, dict[str, Any]]] = {}
        self.probes: dict[tuple[str, int], dict[int, float]] = {}
        self.status: dict[int, dict[str, Any]] = {}
        self.states: list[dict[str, Any]] = []
        self.added: list[dict[str, Any]] = []
        self.restored: list[dict[str, Any]] = []
        addresses = sorted(f"127.0.0.1:{p}" for p in _free_ports(n + int(newcomer)))
        # The newcomer takes the lowest address (see the module's docstring).
        self.newcomer_address = addresses.pop(0) if newcomer else None
        self.addresses = addresses
        # Started in address order: the higher address connects, so each
        # replica finds those below it listening (a refused connect is
        # retried only after connectionRetryTime, 5 s).
        for i, address in enumerate(addresses):
            self.spawn(i, address, [a for a in addresses if a != address])

    def spawn(self, index: int, address: str, partners: list[str], stamp: bool = False) -> Replica:
        spec = {"index": index, "address": address, "partners": partners,
                "conf": {**self.conf, "bindAddress": address}, "stamp": stamp}
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT)] + [p for p in
                                             env.get("PYTHONPATH", "").split(os.pathsep) if p])
        with open(self.log_file, "ab") as log:
            proc = subprocess.Popen([sys.executable, "-m", "bench.pysyncobj_replica",
                                     json.dumps(spec)],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                                    cwd=str(ROOT), env=env, start_new_session=True)
        _live.add(proc)
        replica = Replica(index, address, proc)
        self.replicas.append(replica)
        os.set_blocking(proc.stdout.fileno(), False)
        self.selector.register(proc.stdout, selectors.EVENT_READ, replica)
        self.wait(lambda: any(r.get("kind") == "up" and r.get("r") == index
                              for r in self.records),
                  time.monotonic() + START_TIMEOUT, f"replica {index} did not start")
        return replica

    # -- talking to replicas ----------------------------------------------------------

    def tell(self, index: int, **cmd: Any) -> None:
        replica = self.replicas[index]
        if not replica.alive:
            return
        try:
            replica.proc.stdin.write((json.dumps(cmd, separators=(",", ":")) + "\n").encode())
            replica.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            raise BenchFailure(f"replica {index} is gone") from None

    def poll(self, timeout: float) -> None:
        for key, _ in self.selector.select(timeout):
            replica = key.data
            try:
                data = os.read(key.fileobj.fileno(), 1 << 20)
            except BlockingIOError:
                continue
            if not data:
                self.selector.unregister(key.fileobj)
                replica.alive = False
                continue
            replica.buffer += data
            *lines, replica.buffer = replica.buffer.split(b"\n")
            for line in lines:
                self._record(json.loads(line))

    def _record(self, r: dict[str, Any]) -> None:
        kind = r["kind"]
        if kind == "probe":
            self.probes.setdefault((r["tag"], r["i"]), {}).setdefault(r["r"], r["at"])
        elif kind == "done":
            self.done.setdefault(r["tag"], {})[r["r"]] = r
        elif kind == "status":
            self.status[r["r"]] = r
        elif kind == "state":
            self.states.append(r)
        elif kind == "added":
            self.added.append(r)
        elif kind == "restored":
            self.restored.append(r)
        else:
            self.records.append(r)

    def wait(self, predicate: Callable[[], bool], deadline: float, what: str) -> None:
        while not predicate():
            if time.monotonic() >= deadline:
                raise BenchTimeout(what)
            self.poll(min(POLL, max(0.0, deadline - time.monotonic())))

    def leader(self, timeout: float = START_TIMEOUT) -> int:
        """The index of the leader every live replica agrees on, once all are
        ready (waits for an election if need be)."""
        deadline = time.monotonic() + timeout
        live = [r.index for r in self.replicas if r.alive and r.address in self.addresses]
        while True:
            self.status.clear()
            for i in live:
                self.tell(i, op="status")
            self.wait(lambda: set(self.status) >= set(live), deadline,
                      "the replicas did not answer a status request")
            leaders = {self.status[i]["leader"] for i in live}
            if len(leaders) == 1 and None not in leaders and \
                    all(self.status[i]["ready"] for i in live):
                address = leaders.pop()
                if address in self.addresses:
                    return self.addresses.index(address)
            if time.monotonic() >= deadline:
                raise BenchTimeout(f"no leader all replicas agree on (they name {leaders})")
            self.poll(0.02)

    def kill(self, index: int) -> None:
        proc = self.replicas[index].proc
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        _live.discard(proc)
        self.replicas[index].alive = False

    def stop(self) -> None:
        with deferred_interrupts():
            for r in self.replicas:
                if r.alive:
                    with contextlib.suppress(Exception):
                        self.tell(r.index, op="exit")
            _reap([r.proc for r in self.replicas])
            self.selector.close()


def _reap(procs: list[subprocess.Popen], grace: float = 1.0) -> None:
    """Wait `grace` seconds for `procs` to exit, then SIGKILL what is left."""
    end = time.monotonic() + grace
    for p in procs:
        try:
            p.wait(max(0.0, end - time.monotonic()))
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                p.kill()
            p.wait()
        for stream in (p.stdin, p.stdout):
            with contextlib.suppress(Exception):
                stream.close()
        _live.discard(p)


def kill_all() -> None:
    """Stop every replica process still running (after a failure or Ctrl-C)."""
    _reap(list(_live), grace=0.0)


@contextlib.contextmanager
def running(n: int, config: str, log_file: str, newcomer: bool = False) -> Iterator[Cluster]:
    cluster: Optional[Cluster] = None
    try:
        cluster = Cluster(n, config, log_file, newcomer)
        cluster.leader()
        yield cluster
    finally:
        if cluster is not None:
            cluster.stop()
        kill_all()


# -- the workloads -----------------------------------------------------------------------

def closed(cluster: Cluster, total: int, window: int, timeout: float,
           leader_only: bool = False) -> dict[str, Any]:
    """A closed (window 1), window or leader-window run of about `total` items."""
    n = len(cluster.addresses)
    senders = [cluster.leader()] if leader_only else list(range(n))
    per = max(1, total // len(senders))
    tag = f"c{next(_tags)}"
    until = None
    cluster.tell(n - 1, op="submit", item=["go", tag, senders, per, window, until])
    deadline = time.monotonic() + timeout
    cluster.wait(lambda: len(cluster.done.get(tag, {})) >= n, deadline,
                 f"{tag}: not every replica applied all {per * len(senders)} items in {timeout:g}s")
    done = list(cluster.done.pop(tag).values())
    return {**throughput(done, per * len(senders)), "window": window,
            "senders": len(senders), "retries": sum(d["retries"] for d in done)}


def _probe_once(cluster: Cluster, sender: int, tag: str, i: int, members: set[int],
                deadline: float) -> tuple[float, dict[int, float]]:
    t0 = time.time()
    cluster.tell(sender, op="submit", item=["probe", tag, i])
    key = (tag, i)
    cluster.wait(lambda: set(cluster.probes.get(key, {})) >= members, deadline,
                 f"probe {i} not applied at "
                 f"{sorted(members - set(cluster.probes.get(key, {})))}")
    return t0, cluster.probes.pop(key)


def _follower(cluster: Cluster, leader: int) -> int:
    return max(i for i, r in enumerate(cluster.replicas) if i != leader and r.alive
               and r.address in cluster.addresses)


def probe(cluster: Cluster, count: int, timeout: float, warmup: int = 5,
          budget: Optional[float] = None) -> dict[str, Any]:
    """`count` probes, one at a time, through a follower; fewer if `budget`
    seconds are spent first (as bench.workloads.probe)."""
    sender = _follower(cluster, cluster.leader())
    members = set(range(len(cluster.addresses)))
    tag = f"p{next(_tags)}"
    deadline = time.monotonic() + timeout
    return probe_series(lambda i: _probe_once(cluster, sender, tag, i, members, deadline),
                        sender, count, warmup, budget)


def failover(n: int, config: str, log_file: str, timeout: float,
             warmup: int = 10) -> dict[str, Any]:
    """One failover trial on a fresh cluster of `n`."""
    why = not_comparable("failover", n)
    if why:
        raise BenchFailure(why)
    with running(n, config, log_file) as cluster:
        leader = cluster.leader()
        sender = _follower(cluster, leader)
        survivors = set(range(n)) - {leader}
        members = set(range(n))
        tag = f"f{next(_tags)}"
        deadline = time.monotonic() + timeout
        t_kill, resumed = kill_leader(
            cluster, tag, lambda i: _probe_once(cluster, sender, tag, i, members, deadline),
            lambda i: cluster.tell(sender, op="submit", item=["probe", tag, i]),
            lambda: cluster.kill(leader), survivors, warmup, deadline)
        elected = [s["at"] for s in cluster.states
                   if s["state"] == "leader" and s["at"] >= t_kill and s["r"] in survivors]
        result = {"failover_ms": (resumed - t_kill) * 1000}
        if elected:
            result["new_leader_ms"] = (min(elected) - t_kill) * 1000
        return result


def join(n: int, config: str, log_file: str, timeout: float,
         load_for: float = 0.5) -> dict[str, Any]:
    """One newcomer added to a cluster of `n` under closed-loop load."""
    with running(n, config, log_file, newcomer=True) as cluster:
        leader = cluster.leader()
        tag = f"l{next(_tags)}"
        until = time.time() + load_for + timeout
        cluster.tell(leader, op="submit", item=["go", tag, list(range(n)), None, 1, until])
        end = time.monotonic() + load_for
        while time.monotonic() < end:
            cluster.poll(0.01)
        deadline = time.monotonic() + timeout
        started = time.time()
        newcomer = cluster.spawn(n, cluster.newcomer_address, list(cluster.addresses),
                                  stamp=True).index
        t0 = time.time()
        cluster.tell(leader, op="add", address=cluster.newcomer_address)
        cluster.wait(lambda: bool(cluster.added), deadline, "the membership change never applied")
        added = cluster.added[0]
        if added["error"] != 0:
            raise BenchFailure(f"addNodeToCluster failed: {added['error']}")
        cluster.tell(newcomer, op="restored_at", count=added["count"])
        cluster.wait(lambda: bool(cluster.restored), deadline,
                     "the newcomer did not catch up with the state before its admission")
        for i in range(n):
            cluster.tell(i, op="quiet")
        if added["count"] <= 1:
            raise BenchFailure("the cluster was idle when the newcomer joined")
        restored = cluster.restored[0]["at"]
        return {"join_ms": (restored - t0) * 1000, "started_join_ms": (restored - started) * 1000,
                "start_ms": (t0 - started) * 1000, "added_ms": (added["at"] - t0) * 1000,
                "state_covers": added["count"]}

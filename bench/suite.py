"""Which workloads run, how often and how big: the suite's plan and loop.

For each system base and group size N, each run does the steady workloads
(closed, window W, probe) on one fresh group and then their `limit`
counterparts on a fresh bare actor system, so a figure and its ceiling are
measured back to back under the same machine load. Failover needs a fresh
group per trial and join one per run; they come after the runs.

With peers (`Settings.peers`, see bench/peers.py) the same workloads also
run on each peer library in each of its configurations, in the same
sitting and interleaved with ours so machine noise hits both: per group
size, each run index does ours then the peer's (the peer first on odd
runs), and failover trials and join runs alternate the same way.

Every workload has a time limit. A run that exceeds it, or fails, is kept
as an error ("timeout: ..."), the group it ran on is stopped and the next
workload gets a fresh one: one stuck run never hangs the suite. (On
simpleSystemBase the actors run inside the script's own calls, so there the
limit is only checked when they fall idle; every workload there ends by
itself.)
"""
from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from groupy_actors import Group, Handle

from . import limit, peers, workloads
from .peers import DEFAULT_CONFIGS, QUICK_CONFIGS
from .workloads import BenchTimeout

log = logging.getLogger(__name__)

WORKLOADS = ("closed", "window", "probe", "failover", "join", "limit")
METRICS = ("off", "on")
METRICS_PREFIX = "metrics:"
SYSTEMS = ("simple", "tcp", "thespian-tcp", "udp",
           "simple+embedded", "tcp+embedded", "udp+embedded")    # (app in the group actor)
STEADY = ("closed", "window", "probe")     # the ones with a `limit` counterpart
LEADER_WINDOW = "leader-window"            # a peer's leader alone, peers.LEADER_WINDOW outstanding


@dataclass(frozen=True)
class Settings:
    """Sizes of one invocation; FULL and QUICK below are the two presets."""

    systems: tuple[str, ...] = ("simple", "tcp")
    ns: tuple[int, ...] = (2, 5, 10)
    workloads: tuple[str, ...] = WORKLOADS
    messages: int = 20000           # M, per closed or window run
    windows: tuple[int, ...] = (16, 128)
    probes: int = 2000
    failover_trials: int = 20
    runs: int = 3
    join_load: float = 0.5          # seconds of load before the newcomer asks to join
    metrics: tuple[str, ...] = ("off",)     # steady workloads with metrics off and/or on
    probe_seconds: Optional[float] = 60.0   # a probe run stops after this (>= 20 counted)
    peers: tuple[str, ...] = ()
    peer_configs: tuple[str, ...] = DEFAULT_CONFIGS
    log_file: str = "bench.log"

    def timeout(self, workload: str, peer: bool = False) -> float:
        """Seconds one run of `workload` may take before it counts as stuck:
        generous (a 20 msg/s floor, 10 for a peer, whose default batching
        period alone holds a closed loop near 25 msg/s), since a timeout is
        a finding, not noise."""
        if workload.startswith(("closed", "window", LEADER_WINDOW)):
            return 30.0 + self.messages / (10 if peer else 20)
        if workload == "probe":
            return 30.0 + self.probes / 4
        return 30.0


FULL = Settings()
QUICK = Settings(ns=(2, 5), messages=300, probes=50, failover_trials=2, runs=1,
                 join_load=0.3, probe_seconds=10.0, peer_configs=QUICK_CONFIGS)


@dataclass
class Outcome:
    """Every run of one workload on one system base and group size."""

    system: str                     # ours ("tcp", ...) or a peer ("pysyncobj")
    n: int
    workload: str                   # "closed", "window16", "probe", "limit:closed", ...
    runs: list[dict[str, Any]] = field(default_factory=list)   # a run's figures, or {"error"}
    config: str = ""                # a peer's configuration (bench/peers.py CONFIGS)
    note: str = ""                  # why there are no runs, when the workload does not apply

    @property
    def ok(self) -> list[dict[str, Any]]:
        return [r for r in self.runs if "error" not in r]

    @property
    def peer(self) -> bool:
        return bool(self.config)


def keys(settings: Settings) -> list[str]:
    """The outcome keys an invocation produces per system and N, in order."""
    chosen = set(settings.workloads)
    steady = [w for w in STEADY if w in chosen] or (list(STEADY) if "limit" in chosen else [])
    out = []
    for w in steady:
        names = [f"window{k}" for k in settings.windows] if w == "window" else [w]
        out += [x for x in names if w in chosen]
        if "limit" in chosen:
            out += [f"limit:{x}" for x in names]
    return out + [w for w in ("failover", "join") if w in chosen]


def peer_keys(settings: Settings, config: str) -> list[str]:
    """The outcome keys of a peer in `config`, per N, in order."""
    chosen = set(settings.workloads)
    out = []
    if config not in peers.FAILOVER_ONLY:
        if "closed" in chosen:
            out.append("closed")
        if "window" in chosen:
            out += [f"window{k}" for k in settings.windows] + [LEADER_WINDOW]
        if "probe" in chosen:
            out.append("probe")
    if "failover" in chosen:
        out.append("failover")
    if "join" in chosen and config not in peers.FAILOVER_ONLY:
        out.append("join")
    return out


def measure(settings: Settings, progress: Callable[[str], None] = lambda line: None,
            outcomes: Optional[list[Outcome]] = None) -> list[Outcome]:
    """Run the suite; append to and return `outcomes` (partial after Ctrl-C)."""
    outcomes = [] if outcomes is None else outcomes
    ours = {(system, n): _ours(settings, system, n)
            for system in settings.systems for n in settings.ns}
    theirs = {(peer, config, n): {k: Outcome(peer, n, k, config=config)
                                  for k in peer_keys(settings, config)}
              for peer in settings.peers for config in settings.peer_configs
              for n in settings.ns}
    for entries in ours.values():
        for _, table, _ in entries:
            outcomes += table.values()
    for table in theirs.values():
        outcomes += table.values()
    try:
        for n in settings.ns:
            _size(settings, n, [e for s in settings.systems for e in ours[s, n]],
                  [(p, c, theirs[p, c, n]) for p in settings.peers
                   for c in settings.peer_configs], progress)
    finally:
        peers.kill_all()
    return outcomes


def _ours(settings: Settings, system: str, n: int) -> list[tuple[str, dict[str, Outcome], bool]]:
    """Our tables for one system and size: (system, table, metrics on?).
    With metrics on, the steady workloads run again as "metrics:closed" and
    so on (runs alternate which goes first, as they do with the peer)."""
    table = {k: Outcome(system, n, k) for k in keys(settings)}
    if "off" not in settings.metrics:
        table = {k: o for k, o in table.items() if k in ("failover", "join")}
    out = [(system, table, False)]
    if "on" in settings.metrics:
        out.append((system, {k: Outcome(system, n, METRICS_PREFIX + k) for k in keys(settings)
                             if k not in ("failover", "join") and not k.startswith("limit:")},
                    True))
    return out
    return outcomes


def _size(settings: Settings, n: int, ours: list[tuple[str, dict[str, Outcome], bool]],
          theirs: list[tuple[str, str, dict[str, Outcome]]],
          progress: Callable[[str], None]) -> None:
    """Every run of group size `n`, ours and the peers' interleaved."""
    for peer, config, table in theirs:
        for key, outcome in table.items():
            why = peers.not_comparable(key, n)
            if why:
                outcome.note = why
                progress(f"{peer}/{config} N={n} {key}: not measured: {why}")

    def alternate(index: int, jobs: list[Callable[[], None]]) -> None:
        for job in (jobs if index % 2 == 0 else jobs[::-1]):
            job()

    def ours_steady(system: str, table: dict[str, Outcome], where: str,
                    metrics: bool) -> Callable[[], None]:
        where += " metrics on" if metrics else ""
        return lambda: _steady(settings, system, n, table, where, progress, metrics)

    def peer_steady(peer: str, config: str, table: dict[str, Outcome],
                    where: str) -> Callable[[], None]:
        return lambda: _peer_steady(settings, config, n, table, f"{peer}/{config} {where}",
                                    progress)

    for run in range(settings.runs):
        where = f"N={n} run {run + 1}/{settings.runs}"
        alternate(run, [ours_steady(s, t, f"{s} {where}", m) for s, t, m in ours] +
                  [peer_steady(p, c, t, where) for p, c, t in theirs])

    def fresh(workload: str, outcome: Outcome, system: str, config: str,
              where: str) -> Callable[[], None]:
        """A failover trial or join run (each on a fresh group or cluster)."""
        if outcome.note:
            return lambda: None
        log, timeout = settings.log_file, settings.timeout(workload)
        if workload == "failover":
            call = (lambda: peers.failover(n, config, log, timeout)) if config else \
                (lambda: workloads.failover(system, n, log, timeout))
        else:
            call = (lambda: peers.join(n, config, log, timeout, settings.join_load)) \
                if config else (lambda: workloads.join(system, n, log, timeout,
                                                        settings.join_load))
        return lambda: _one(outcome, where, progress, call)

    for workload, times, each in (("failover", settings.failover_trials, "trial"),
                                  ("join", settings.runs, "run")):
        for k in range(times):
            where = f"N={n} {each} {k + 1}/{times}"
            alternate(k, [fresh(workload, t[workload], s, "", f"{s} {where}")
                          for s, t, _ in ours if workload in t] +
                      [fresh(workload, t[workload], p, c, f"{p}/{c} {where}")
                       for p, c, t in theirs if workload in t])


class _Session:
    """The group the steady workloads of one run share, started when first
    needed and replaced after a workload that failed on it."""

    def __init__(self, system: str, n: int, log_file: str, metrics: bool = False) -> None:
        self.args = (system, n, log_file, "m", metrics)
        self.stack = contextlib.ExitStack()
        self.group: Optional[tuple[Group, list[Handle]]] = None

    def get(self) -> tuple[Group, list[Handle]]:
        if self.group is None:
            self.group = self.stack.enter_context(workloads.running_group(*self.args))
        return self.group

    def close(self) -> None:
        self.group = None
        self.stack.close()


def _steady(settings: Settings, system: str, n: int, table: dict[str, Outcome], where: str,
            progress: Callable[[str], None], metrics: bool = False) -> None:
    session = _Session(system, n, settings.log_file, metrics)

    def job(key: str) -> dict[str, Any]:
        what = key.split(":")[-1]
        timeout = settings.timeout(what)
        window = int(what[len("window"):]) if what.startswith("window") else 1
        if key.startswith("limit:"):
            if what == "probe":
                return limit.probe(system, n, settings.probes, timeout, settings.log_file)
            return limit.closed(system, n, settings.messages, window, timeout,
                                settings.log_file)
        if what == "probe":
            return workloads.probe(*session.get(), settings.probes, timeout,
                                   budget=settings.probe_seconds)
        return workloads.closed(*session.get(), settings.messages, window, timeout)

    try:
        for key, outcome in table.items():
            if key in ("failover", "join"):
                continue
            if not _one(outcome, where, progress, lambda: job(key)):
                session.close()         # whatever state it is in, the next gets a fresh group
    finally:
        session.close()


def _peer_steady(settings: Settings, config: str, n: int, table: dict[str, Outcome],
                 where: str, progress: Callable[[str], None]) -> None:
    """One run of a peer's steady workloads, on one cluster (a fresh one
    after a workload that failed on it)."""
    stack = contextlib.ExitStack()
    cluster: list[peers.Cluster] = []

    def get() -> peers.Cluster:
        if not cluster:
            cluster.append(stack.enter_context(peers.running(n, config, settings.log_file)))
        return cluster[0]

    def job(key: str) -> dict[str, Any]:
        timeout = settings.timeout(key, peer=True)
        if key == "probe":
            return peers.probe(get(), settings.probes, timeout, budget=settings.probe_seconds)
        if key == LEADER_WINDOW:
            return peers.closed(get(), settings.messages, peers.LEADER_WINDOW, timeout,
                                leader_only=True)
        window = int(key[len("window"):]) if key.startswith("window") else 1
        return peers.closed(get(), settings.messages, window, timeout)

    try:
        for key, outcome in table.items():
            if key in ("failover", "join") or outcome.note:
                continue
            if not _one(outcome, where, progress, lambda: job(key)):
                cluster.clear()
                stack.close()
    finally:
        stack.close()


def _one(outcome: Outcome, where: str, progress: Callable[[str], None],
         job: Callable[[], dict[str, Any]]) -> bool:
    """Run one workload run, keeping its figures or its error."""
    start = time.monotonic()
    try:
        result = job()
    except BenchTimeout as e:
        result = {"error": f"timeout: {e}"}
    except Exception as e:              # BenchFailure or a broken run: a result too
        log.debug("%s %s failed", where, outcome.workload, exc_info=True)
        result = {"error": f"{type(e).__name__}: {e}"}
    result["wall_s"] = round(time.monotonic() - start, 3)
    outcome.runs.append(result)
    progress(f"{where} {outcome.workload}: {_brief(result)}")
    return "error" not in result


def _brief(result: dict[str, Any]) -> str:
    if "error" in result:
        return result["error"]
    for key, unit in (("throughput", "msg/s"), ("all_p50_ms", "ms at all (median)"),
                      ("failover_ms", "ms"), ("join_ms", "ms")):
        if key in result:
            return f"{result[key]:.4g} {unit} ({result['wall_s']:.1f} s)"
    return "done"


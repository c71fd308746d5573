"""Which workloads run, how often and how big: the suite's plan and loop.

For each system base and group size N, each run does the steady workloads
(closed, window W, probe) on one fresh group and then their `limit`
counterparts on a fresh bare actor system, so a figure and its ceiling are
measured back to back under the same machine load. Failover needs a fresh
group per trial and join one per run; they come after the runs.

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

from . import limit, workloads
from .workloads import BenchTimeout

log = logging.getLogger(__name__)

WORKLOADS = ("closed", "window", "probe", "failover", "join", "limit")
METRICS = ("off", "on")
METRICS_PREFIX = "metrics:"
SYSTEMS = ("simple", "tcp", "udp")
STEADY = ("closed", "window", "probe")     # the ones with a `limit` counterpart


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
    log_file: str = "bench.log"

    def timeout(self, workload: str) -> float:
        """Seconds one run of `workload` may take before it counts as stuck:
        generous (a 20 msg/s floor), since a timeout is a finding, not noise."""
        if workload.startswith(("closed", "window")):
            return 30.0 + self.messages / 20
        if workload == "probe":
            return 30.0 + self.probes / 4
        return 30.0


FULL = Settings()
QUICK = Settings(ns=(2, 5), messages=300, probes=50, failover_trials=2, runs=1,
                 join_load=0.3)


@dataclass
class Outcome:
    """Every run of one workload on one system base and group size."""

    system: str
    n: int
    workload: str                   # "closed", "window16", "probe", "limit:closed", ...
    runs: list[dict[str, Any]] = field(default_factory=list)   # a run's figures, or {"error"}

    @property
    def ok(self) -> list[dict[str, Any]]:
        return [r for r in self.runs if "error" not in r]


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


def measure(settings: Settings, progress: Callable[[str], None] = lambda line: None,
            outcomes: Optional[list[Outcome]] = None) -> list[Outcome]:
    """Run the suite; append to and return `outcomes` (partial after Ctrl-C)."""
    outcomes = [] if outcomes is None else outcomes
    for system in settings.systems:
        for n in settings.ns:
            table = {k: Outcome(system, n, k) for k in keys(settings)}
            # With metrics on: the steady workloads again, as "metrics:closed"
            # and so on, alternating which mode goes first from run to run.
            tables = {"off": {k: o for k, o in table.items() if k not in ("failover", "join")},
                      "on": {k: Outcome(system, n, METRICS_PREFIX + k) for k in keys(settings)
                             if k not in ("failover", "join") and not k.startswith("limit:")}}
            if "off" not in settings.metrics:
                table = {k: o for k, o in table.items() if k in ("failover", "join")}
            outcomes += table.values()
            if "on" in settings.metrics:
                outcomes += tables["on"].values()
            for run in range(settings.runs):
                where = f"{system} N={n} run {run + 1}/{settings.runs}"
                modes = settings.metrics if run % 2 == 0 else settings.metrics[::-1]
                for mode in modes:
                    _steady(settings, system, n, tables[mode],
                            where + (f" metrics {mode}" if len(modes) > 1 else ""), progress,
                            metrics=mode == "on")
            if "failover" in table:
                for trial in range(settings.failover_trials):
                    where = f"{system} N={n} trial {trial + 1}/{settings.failover_trials}"
                    _one(table["failover"], where, progress, lambda: workloads.failover(
                        system, n, settings.log_file, settings.timeout("failover")))
            if "join" in table:
                for run in range(settings.runs):
                    where = f"{system} N={n} run {run + 1}/{settings.runs}"
                    _one(table["join"], where, progress, lambda: workloads.join(
                        system, n, settings.log_file, settings.timeout("join"),
                        settings.join_load))
    return outcomes


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
            return workloads.probe(*session.get(), settings.probes, timeout)
        return workloads.closed(*session.get(), settings.messages, window, timeout)

    try:
        for key, outcome in table.items():
            if key in ("failover", "join"):
                continue
            if not _one(outcome, where, progress, lambda: job(key)):
                session.close()         # whatever state it is in, the next gets a fresh group
    finally:
        session.close()


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


"""Shrink a failing run with hypothesis: a smaller config that fails the same way.

A run is decided by its `RunConfig`. Given one that fails `check`,
hypothesis searches configs that are nowhere bigger:

- members: from 2 (or 1, if the run had 1) up to the original;
- steps (workload steps): 0 up to the original;
- fault counts - crashes, joins, leaves, partitions: 0 up to the original;
- fault chances - loss, duplicate, crash_on_send: 0 up to the original;
- reorder: off, or on if it was on;
- seed: the original, or any other (a different schedule of that size).

The application, its args, the workload, the level, quorum, duration,
settle and the rest of `Faults` (latencies, max_crashes, ...) stay as they
were. hypothesis first tries up to `examples` configs, then shrinks each
failing one towards fewer members and steps, fewer and rarer faults and
the original seed. A candidate counts as failing only if `check` raises an
AssertionError whose first line says the same thing as the original's
(the failure kind, the part before " (seed"), so the search does not slip
to another bug. The smallest failing config found (counting members,
steps and faults) is returned, with its failure and its replay call; if
none smaller fails, the original is returned as it was.

Before hypothesis, a greedy pass tries one step smaller at a time on the
original seed (one dimension to zero, or down by one; half the steps),
keeping each step that still fails the same way, as delta debugging does.

The search is deterministic (hypothesis derandomized, no example
database): the same failing run always shrinks to the same config.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Callable, Optional

from .run import Result, RunConfig

Check = Callable[[Result], None]


@dataclass(frozen=True, slots=True)
class Shrunk:
    """The smallest failing config hypothesis found for a failing run."""

    config: RunConfig
    original: RunConfig
    failure: str            # the first lines of its failure
    runs: int               # runs tried
    smaller: bool           # False: nothing smaller failed the same way

    def lines(self) -> list[str]:
        if not self.smaller:
            return [f"shrink: no smaller config failed the same way in {self.runs} runs"]
        first = self.failure.splitlines()[0] if self.failure else ""
        return [f"shrunk ({self.runs} runs) to: {self.config.text()}",
                f"    which fails with: {first}"]


def _kind(message: str) -> str:
    return message.splitlines()[0].split(" (seed ")[0] if message else ""


def _failure(check: Check, result: Result) -> Optional[str]:
    try:
        check(result)
    except AssertionError as e:
        return str(e)
    return None


def size(config: RunConfig) -> tuple[float, ...]:
    f = config.faults
    return (config.members + config.steps + f.crashes + f.joins + f.leaves + f.partitions,
            f.loss + f.duplicate + f.crash_on_send + f.reorder)


def shrink_failure(config: RunConfig, check: Check, result: Optional[Result] = None,
                   examples: int = 100, seconds: float = 60.0) -> Optional[Shrunk]:
    """None if `config`'s run passes `check`; else the smallest config
    found that fails it the same way (see the module's docstring). Past
    `seconds` every further candidate counts as passing, which ends the
    search with the best found so far."""
    first = _failure(check, result if result is not None else config.run())
    if first is None:
        return None
    from hypothesis import HealthCheck, Phase, Verbosity, given, settings
    from hypothesis import strategies as st

    kind = _kind(first)
    f = config.faults
    best = [config, first]
    runs = 0
    end = time.monotonic() + seconds

    def chance(p: float) -> st.SearchStrategy[float]:
        return st.floats(0.0, p) if p > 0 else st.just(0.0)

    faults = st.builds(
        replace, st.just(f), crashes=st.integers(0, f.crashes), joins=st.integers(0, f.joins),
        leaves=st.integers(0, f.leaves), partitions=st.integers(0, f.partitions),
        loss=chance(f.loss), duplicate=chance(f.duplicate),
        crash_on_send=chance(f.crash_on_send),
        reorder=st.booleans() if f.reorder else st.just(False))
    configs = st.builds(
        replace, st.just(config),
        members=st.integers(min(2, config.members), config.members),
        steps=st.integers(0, config.steps), faults=faults,
        seed=st.one_of(st.just(config.seed), st.integers(0, 2**31 - 1)))

    class StillFails(Exception):
        pass

    @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
              phases=[Phase.generate, Phase.shrink], suppress_health_check=list(HealthCheck),
              report_multiple_bugs=False, verbosity=Verbosity.quiet)
    @given(configs)
    def search(candidate: RunConfig) -> None:
        nonlocal runs
        if time.monotonic() > end:
            return
        runs += 1
        why = _failure(check, candidate.run())
        if why is not None and _kind(why) == kind:
            if size(candidate) <= size(best[0]):
                best[:] = [candidate, why]
            raise StillFails()

    def still_fails(candidate: RunConfig) -> bool:
        nonlocal runs
        if time.monotonic() > end:
            return False
        runs += 1
        why = _failure(check, candidate.run())
        if why is not None and _kind(why) == kind:
            best[:] = [candidate, why]
            return True
        return False

    # First one step at a time on the original seed (a schedule of the same
    # seed stays close to the failing one), as delta debugging does; then
    # hypothesis over the whole space for what that missed.
    changed = True
    while changed:
        changed = False
        for step in _steps(best[0]):
            if size(step) < size(best[0]) and still_fails(step):
                changed = True
                break
    try:
        search()
    except StillFails:
        pass
    found, why = best
    return Shrunk(found, config, "\n".join(why.splitlines()[:4]), runs, found != config)


def _steps(c: RunConfig) -> list[RunConfig]:
    """Configs one step smaller than `c`, boldest first."""
    f = c.faults
    out = []
    for name in ("leaves", "partitions", "crashes", "joins"):
        if getattr(f, name):
            out.append(replace(c, faults=replace(f, **{name: 0})))
            out.append(replace(c, faults=replace(f, **{name: getattr(f, name) - 1})))
    for chance in ("duplicate", "loss", "crash_on_send"):
        if getattr(f, chance):
            out.append(replace(c, faults=replace(f, **{chance: 0.0})))
    if c.steps:
        out += [replace(c, steps=c.steps // 2), replace(c, steps=c.steps - 1)]
    if c.members > 2:
        out.append(replace(c, members=c.members - 1))
    return out


__all__ = ["Shrunk", "shrink_failure", "size"]

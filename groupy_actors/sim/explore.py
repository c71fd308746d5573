"""Bounded exhaustive exploration: every schedule of a small configuration.

From a settled group, `explore` tries every step a schedule can take -
deliver any packet under way, lose one, fire any member's timer, crash any
member, multicast at any member - depth first, within `Bounds` (so many
losses, crashes, timer firings and multicasts, so many steps in all). A
state reached twice (the same cores, packets and timers) is explored once.
Every leaf (a state where the bounds allow nothing more, or nothing is
left to happen) is then run through the fair suffix (`World.finish`):
safety, then liveness.

The cores' invariants are asserted in every step; the guarantees, judged on
the records, at every leaf: they are properties of what was delivered, so a
violation on the way to a leaf is still one there (and the records of a
whole run are judged once rather than once per prefix).

The first violation stops the search and comes back with the schedule that
led to it; `replay(bounds, schedule)` runs it again with the log kept.
"""
from __future__ import annotations

import hashlib
import pickle
import time
from dataclasses import dataclass, field, replace
from typing import Any, Optional

from ..core import Timing
from .adversary import ADVERSARY_TIMING, Safety, World
from .hosts import InvariantBroken


@dataclass(frozen=True)
class Bounds:
    level: str = "gms4"
    members: int = 3
    quorum: bool = False
    messages: int = 1
    crashes: int = 1
    losses: int = 1
    ticks: int = 0      # time passes in the fair suffix (timers: the walks' business)
    depth: int = 40


@dataclass
class Result:
    states: int = 0
    leaves: int = 0
    deepest: int = 0
    seconds: float = 0.0
    complete: bool = True
    violation: Optional[str] = None
    schedule: list[tuple[Any, ...]] = field(default_factory=list)

    def summary(self) -> str:
        verdict = f"VIOLATED: {self.violation}" if self.violation else "no violation"
        done = "all of it" if self.complete else "stopped at the state limit"
        return (f"{self.states} states, {self.leaves} leaves, deepest {self.deepest} steps, "
                f"{self.seconds:.1f}s ({done}): {verdict}")


def timing_for(bounds: Bounds) -> Timing:
    if bounds.quorum:
        return ADVERSARY_TIMING
    return replace(ADVERSARY_TIMING, suspect_after=10**6, ack_timeout=10**6)


class _Node:
    __slots__ = ("world", "budget", "path", "sleep")

    def __init__(self, world: World, budget: dict[str, int], path: list[tuple[Any, ...]],
                 sleep: frozenset[tuple[Any, ...]]) -> None:
        self.world, self.budget, self.path, self.sleep = world, budget, path, sleep


def describe(p: Any) -> tuple[str, str, str, str]:
    """A packet by what it is, not by its id: states reached by different
    orders of independent steps number their packets differently."""
    return (p.src, p.dst, p.kind, repr(p.msg))


def fingerprint(world: World, budget: dict[str, int]) -> bytes:
    """The state, less what does not change what can happen next."""
    cores = []
    for name in sorted(world.nodes):
        n = world.nodes[name]
        state = {k: v for k, v in vars(n.gms).items() if k not in ("out", "stats")}
        cores.append((name, n.alive, n.history, state))
    packets = sorted(describe(p) for p in world.flight)
    timers = sorted(world.timers.items())
    blob = pickle.dumps((cores, packets, timers, world.now, sorted(budget.items()), world.cut))
    return hashlib.blake2b(blob, digest_size=16).digest()


def steps(world: World, budget: dict[str, int]) -> list[tuple[Any, ...]]:
    """Every step the bounds allow from here (two copies of one packet are
    one step: either gives the same state)."""
    ready = world.deliverable()
    out: list[tuple[Any, ...]] = list(dict.fromkeys(
        ("deliver", describe(world.flight[k])) for k in ready))
    if budget["losses"] and not world.fifo:
        out += dict.fromkeys(("drop", describe(p)) for p in world.flight if p.kind == "net")
    elif budget["losses"]:
        # FIFO links lose nothing, but a crashed member's transport loses
        # what it had queued: the last packets of its links, one by one.
        last: dict[tuple[str, str], Any] = {}
        for p in world.flight:
            if p.kind == "net" and not world.nodes[p.src].alive:
                last[(p.src, p.dst)] = p
        out += [("drop", describe(p)) for p in last.values()]
    if budget["ticks"]:
        out += [("tick", n) for n in sorted(world.timers) if world.nodes[n].alive]
    live = [n.name for n in world.alive()]
    if budget["crashes"] and len(live) > 1:
        out += [("crash", n) for n in live]
    if budget["messages"]:
        out += [("mcast", n) for n in live]
    return out


def _index(world: World, desc: tuple[str, str, str, str], ready: bool) -> int:
    allowed = world.deliverable() if ready else range(len(world.flight))
    return next(k for k in allowed if describe(world.flight[k]) == desc)


def take(world: World, budget: dict[str, int], step: tuple[Any, ...]) -> None:
    kind, arg = step
    if kind == "deliver":
        world.deliver(_index(world, arg, True))
    elif kind == "drop":
        budget["losses"] -= 1
        world.drop(_index(world, arg, False))
    elif kind == "tick":
        budget["ticks"] -= 1
        world.fire(arg)
    elif kind == "crash":
        budget["crashes"] -= 1
        world.crash(arg)
    elif kind == "mcast":
        budget["messages"] -= 1
        world.mcast(arg)


def _target(world: World, step: tuple[Any, ...]) -> Optional[str]:
    """The one member a step acts on (None: it moves the clock, so all)."""
    kind, arg = step
    if kind in ("deliver", "drop"):
        return arg[1]
    if kind == "tick":
        return arg if world.timers.get(arg, float("inf")) <= world.now else None
    return arg


def independent(world: World, a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    """Do `a` and `b` commute from `world` (either order, the same state)?
    Steps on different members do, unless they draw on one budget or one
    moves the clock; a loss and another packet's delivery always do."""
    if a[0] == b[0] and a[0] in ("drop", "tick", "crash", "mcast"):
        return False                    # one budget
    if {a[0], b[0]} == {"deliver", "drop"}:
        return a[1] != b[1]
    ta, tb = _target(world, a), _target(world, b)
    if ta is None or tb is None or ta == tb:
        return False
    # A crash adds notices to the dead member's links, and ends its sends.
    if a[0] == "crash" and b[0] in ("deliver", "drop") and b[1][0] == ta:
        return False
    if b[0] == "crash" and a[0] in ("deliver", "drop") and a[1][0] == tb:
        return False
    return True


def start(bounds: Bounds) -> tuple[World, dict[str, int]]:
    world = World(bounds.level, bounds.members, bounds.quorum, timing_for(bounds))
    budget = {"losses": bounds.losses, "ticks": bounds.ticks, "crashes": bounds.crashes,
              "messages": bounds.messages}
    return world, budget


def explore(bounds: Bounds = Bounds(), max_states: int = 2_000_000) -> Result:
    """Depth first, with sleep sets (Godefroid): once a step has been tried
    from a state, its siblings' subtrees do not try it first again where it
    commutes with theirs - the same states, in another order. A state met
    again is explored again only for steps its first visit put to sleep."""
    result = Result()
    began = time.monotonic()
    world, budget = start(bounds)
    world.record_steps = False
    seen: dict[bytes, frozenset[tuple[Any, ...]]] = {}
    stack = [_Node(world, budget, [], frozenset())]
    while stack:
        node = stack.pop()
        key = fingerprint(node.world, node.budget)
        sleep = node.sleep
        if key in seen:
            if seen[key] <= sleep:
                continue
            sleep = seen[key] & sleep
        else:
            result.states += 1
        seen[key] = sleep
        result.deepest = max(result.deepest, len(node.path))
        if result.states > max_states:
            result.complete = False
            break
        options = steps(node.world, node.budget) if len(node.path) < bounds.depth else []
        if not options:
            result.leaves += 1
            if not _finishes(node, result):
                break
            continue
        frozen = pickle.dumps((node.world, node.budget))
        done: list[tuple[Any, ...]] = []
        for step in options:
            if step in sleep:
                done.append(step)
                continue
            world, budget = pickle.loads(frozen)
            child_sleep = frozenset(z for z in (*sleep, *done)
                                    if independent(node.world, z, step))
            try:
                take(world, budget, step)   # the cores' invariants, checked in every step
            except InvariantBroken as e:
                result.violation = str(e).split("\n")[0]
                result.schedule = node.path + [step]
                stack.clear()
                break
            stack.append(_Node(world, budget, node.path + [step], child_sleep))
            done.append(step)
    result.seconds = time.monotonic() - began
    return result


def _finishes(node: _Node, result: Result) -> bool:
    try:
        node.world.finish()
    except (Safety, InvariantBroken) as e:
        result.violation = str(e).split("\n")[0]
        result.schedule = node.path + [("settle", None)]
        return False
    return True


def replay(bounds: Bounds, schedule: list[tuple[Any, ...]]) -> World:
    """Run `schedule` again, with the log kept; the world as it ends."""
    world, budget = start(bounds)
    world.keep_log = True
    for step in schedule:
        if step[0] == "settle":
            try:
                world.finish()
            except (Safety, InvariantBroken):
                pass
            break
        take(world, budget, step)
    return world


def main(argv: Optional[list[str]] = None) -> int:
    """`python -m groupy_actors.sim.explore [--quorum] [--members N] ...`"""
    import argparse
    p = argparse.ArgumentParser(prog="python -m groupy_actors.sim.explore",
                                description="Explore every schedule of a small group within "
                                            "bounds; print the first that breaks a guarantee.")
    p.add_argument("--level", default="gms4", choices=("gms3", "gms4"))
    p.add_argument("--quorum", action="store_true")
    for name, default in (("members", 3), ("messages", 1), ("crashes", 1), ("losses", 1),
                          ("ticks", 0), ("depth", 40)):
        p.add_argument(f"--{name}", type=int, default=default)
    p.add_argument("--max-states", type=int, default=2_000_000)
    a = p.parse_args(argv)
    bounds = Bounds(a.level, a.members, a.quorum, a.messages, a.crashes, a.losses, a.ticks,
                    a.depth)
    result = explore(bounds, a.max_states)
    print(f"{bounds}\n{result.summary()}")
    if result.violation:
        world = replay(bounds, result.schedule)
        print("schedule:")
        for step in result.schedule:
            print(f"  {step[0]} {step[1][:3] if isinstance(step[1], tuple) else step[1]}")
        print("\n".join(world.status()))
    return 1 if result.violation or not result.complete else 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Seeded random walks through the adversarial simulator.

Each step of a walk picks one thing to happen - a packet delivered, lost or
duplicated, a timer, a crash, a cut, a multicast, a join, a leave - with
the weights of a `Mix`, checks every safety guarantee, and at the end runs
the fair suffix and checks liveness and the rest (`World.finish`). Unlike
the timed simulator, nothing is left to latency: a walk delivers any packet
under way next, so reorderings no latency model makes come up at once.
A failing seed replays exactly: `replay(seed, mix)`.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, replace
from typing import Optional

from ..checker import Report
from ..core import Timing
from .adversary import ADVERSARY_TIMING, Safety, World


@dataclass(frozen=True)
class Mix:
    """How a walk chooses its steps (weights), and its fault budget."""

    level: str = "gms4"
    members: int = 3
    quorum: bool = False
    steps: int = 150
    messages: int = 8           # multicasts at most
    deliver: float = 60
    drop: float = 6
    duplicate: float = 2
    tick: float = 20
    mcast: float = 6
    crash: float = 1
    cut: float = 0.5
    join: float = 0.5
    leave: float = 0.3
    crashes: int = 2            # budgets
    losses: int = 10
    cuts: int = 1
    joins: int = 1
    leaves: int = 1

    def describe(self) -> str:
        q = ", quorum" if self.quorum else ""
        return (f"{self.level}{q}, {self.members} members, {self.steps} steps, budget "
                f"{self.crashes} crashes / {self.losses} losses / {self.cuts} cuts / "
                f"{self.joins} joins / {self.leaves} leaves")


class Walk:
    def __init__(self, seed: int, mix: Mix = Mix(), keep_log: bool = False) -> None:
        self.seed, self.mix = seed, mix
        self.rng = random.Random(seed)
        self.world = World(mix.level, mix.members, mix.quorum, timing_for(mix), keep_log)
        self.budget = {"crash": mix.crashes, "drop": mix.losses, "cut": mix.cuts,
                       "join": mix.joins, "leave": mix.leaves, "mcast": mix.messages}

    def run(self) -> Report:
        try:
            for _ in range(self.mix.steps):
                self.step()
                self.world.assert_safe()
            return self.world.finish()
        except Safety as e:
            raise Safety(f"walk seed {self.seed} ({self.mix.describe()}):\n{e}") from None

    def choices(self) -> list[tuple[str, float]]:
        w, m = self.world, self.mix
        live = w.alive()
        net = any(p.kind == "net" for p in w.flight)
        options = [("deliver", m.deliver if w.flight else 0),
                   ("drop", m.drop if net and self.budget["drop"] else 0),
                   ("duplicate", m.duplicate if net else 0),
                   ("tick", m.tick if any(w.nodes[n].alive for n in w.timers) else 0),
                   ("mcast", m.mcast if live and self.budget["mcast"] else 0),
                   ("crash", m.crash if len(live) > 1 and self.budget["crash"] else 0),
                   ("cut", m.cut if len(live) > 1 and (self.budget["cut"] or w.cut) else 0),
                   ("join", m.join if w.alive(joined=True) and self.budget["join"] else 0),
                   ("leave", m.leave if len(w.alive(joined=True)) > 2 and self.budget["leave"] else 0)]
        return [(name, weight) for name, weight in options if weight > 0]

    def step(self) -> None:
        options = self.choices()
        if not options:
            return
        rng, w = self.rng, self.world
        action = rng.choices([o for o, _ in options], [wt for _, wt in options])[0]
        if action == "deliver":
            w.deliver(rng.choice(w.deliverable()))
        elif action == "drop":
            self.budget["drop"] -= 1
            w.drop(rng.choice([k for k, p in enumerate(w.flight) if p.kind == "net"]))
        elif action == "duplicate":
            w.duplicate(rng.choice([k for k, p in enumerate(w.flight) if p.kind == "net"]))
        elif action == "tick":
            w.fire(rng.choice(sorted(n for n in w.timers if w.nodes[n].alive)))
        elif action == "mcast":
            self.budget["mcast"] -= 1
            w.mcast(rng.choice(w.alive()).name)
        elif action == "crash":
            self.budget["crash"] -= 1
            live = w.alive()
            leaders = [n for n in live if n.gms.role_name == "leader"]
            victim = rng.choice(leaders if leaders and rng.random() < 0.5 else live)
            w.crash(victim, lose_queued=rng.randrange(10**6) if rng.random() < 0.5 else None)
        elif action == "cut":
            if w.cut:
                w.heal()
            else:
                self.budget["cut"] -= 1
                live = [n.name for n in w.alive()]
                size = rng.randint(1, max(1, (len(live) - 1) // 2))
                w.partition(rng.sample(live, size))
        elif action == "join":
            self.budget["join"] -= 1
            w.join(rng.choice(w.alive(joined=True)).name)
        elif action == "leave":
            self.budget["leave"] -= 1
            w.leave(rng.choice(w.alive(joined=True)).name)


def timing_for(mix: Mix) -> Timing:
    """Quorum mode is built for a network that may cut members off and a
    detector that may be wrong (silence); the other levels assume crashes
    are told (exit notices) and never imagined, so there silence never
    counts as a crash however long it lasts."""
    if mix.quorum:
        return ADVERSARY_TIMING
    return replace(ADVERSARY_TIMING, suspect_after=10**6, ack_timeout=10**6)


def replay(seed: int, mix: Mix = Mix(), keep_log: bool = True) -> Walk:
    """Run one walk again with its log kept (for reading a failure)."""
    walk = Walk(seed, mix, keep_log)
    try:
        walk.run()
    except Safety:
        pass
    return walk


def search(seeds: range, mix: Mix = Mix(), stop_at: Optional[int] = 1) -> list[str]:
    """Run walks; the failures' messages (at most `stop_at`, None: all)."""
    failures: list[str] = []
    for seed in seeds:
        try:
            Walk(seed, mix).run()
        except (Safety, AssertionError) as e:
            failures.append(f"seed {seed}: {e}")
            if stop_at is not None and len(failures) >= stop_at:
                break
    return failures


MIXES = {
    "plain": Mix(cuts=0),
    "quorum": Mix(quorum=True, members=3),
    "five": Mix(members=5, crashes=2, steps=200, cuts=0),
    "quorum-five": Mix(quorum=True, members=5, crashes=2, steps=200),
    "even": Mix(members=4, quorum=True, cuts=2, steps=200),
    "two": Mix(members=2, quorum=True, crashes=1, steps=120),
    # The classic levels assume FIFO links without loss: only crashes (gms3:
    # a crash may lose what the leader had queued). gms1 and gms2 keep their
    # weakness (a crash stops, or splits, them), so they get none.
    "gms3": Mix(level="gms3", members=4, losses=0, duplicate=0, cuts=0, joins=1, leaves=0,
                crashes=2, steps=150),
    "gms2": Mix(level="gms2", members=4, losses=0, duplicate=0, cuts=0, crashes=0, leaves=0),
    "gms1": Mix(level="gms1", members=3, losses=0, duplicate=0, cuts=0, crashes=0, leaves=0),
}


def mixed(name: str, **changes: object) -> Mix:
    return replace(MIXES[name], **changes)  # type: ignore[arg-type]


def main(argv: Optional[list[str]] = None) -> int:
    """`python -m groupy_actors.sim.walk MIX SEED`: replay one walk, with its
    log; `MIX FIRST COUNT`: search that many seeds."""
    import argparse
    p = argparse.ArgumentParser(prog="python -m groupy_actors.sim.walk",
                                description="Replay one adversarial random walk (its log and "
                                            "verdict), or search many seeds.")
    p.add_argument("mix", choices=sorted(MIXES))
    p.add_argument("seed", type=int)
    p.add_argument("count", type=int, nargs="?", help="search seeds seed..seed+count-1")
    a = p.parse_args(argv)
    if a.count:
        failures = search(range(a.seed, a.seed + a.count), MIXES[a.mix], stop_at=None)
        print(f"{a.count} walks of {MIXES[a.mix].describe()}: {len(failures)} failed")
        for f in failures[:5]:
            print(f.split("\n")[0] + "\n  " + "\n  ".join(f.split("\n")[1:3]))
        return 1 if failures else 0
    walk = Walk(a.seed, MIXES[a.mix], keep_log=True)
    try:
        walk.run()
        verdict = "ok"
    except Safety as e:
        verdict = str(e)
    for line in walk.world.log:
        if "Tick()" not in line:
            print(line[:400])
    print(verdict)
    return 0 if verdict == "ok" else 1


if __name__ == "__main__":
    raise SystemExit(main())

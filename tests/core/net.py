"""A tiny synchronous network for setting up cores in a known state.

Tests use it to reach a situation (a group of three, a leader mid-takeover)
and then drive one core by hand, asserting the exact effects it returns.
"""
from __future__ import annotations

from collections import defaultdict, deque
from typing import Any, Callable, Optional

from groupy_actors.core import (Config, Down, Gms, Member, Send, SnapshotReady,
                                Start, TakeSnapshot, Watch)

A, B, C, D, E = (Member(n) for n in "abcde")


def member(name: str) -> Member:
    return Member(name)


class Net:
    def __init__(self, level: str = "gms4", names: str = "abc", quorum: bool = False,
                 **timing: float) -> None:
        self.config = Config(level, quorum=quorum)
        if timing:
            self.config = self.config.with_timing(**timing)
        self.cores: dict[str, Gms] = {}
        self.inbox: deque[tuple[str, str, Any]] = deque()
        self.effects: dict[str, list[Any]] = defaultdict(list)
        self.watchers: dict[str, set[str]] = defaultdict(set)
        self.dead: set[str] = set()
        self.now = 0.0
        for i, name in enumerate(names):
            self.add(name, None if i == 0 else names[0])
            self.settle()

    def __getitem__(self, name: str) -> Gms:
        return self.cores[name]

    def add(self, name: str, contact: Optional[str]) -> list[Any]:
        self.cores[name] = Gms(self.config)
        return self.run(name, Start(member(name), member(contact) if contact else None))

    def run(self, name: str, event: Any) -> list[Any]:
        core = self.cores[name]
        effects = core.handle(event, self.now)
        if core.stopped is None:
            problem = core.invariants()     # as the simulators assert after every step
            assert problem is None, f"{name}: {problem}"
        self.effects[name].extend(effects)
        for e in effects:
            if isinstance(e, Send):
                self.inbox.append((name, e.to.name, e.msg))
            elif isinstance(e, Watch):
                self.watchers[e.member.name].add(name)
            elif isinstance(e, TakeSnapshot):
                self.inbox.append((name, name, SnapshotReady(e.token, f"state of {name}")))
        return effects

    def settle(self, drop: Callable[[str, str, Any], bool] = lambda s, d, m: False) -> None:
        while self.inbox:
            src, dst, msg = self.inbox.popleft()
            if dst in self.dead or drop(src, dst, msg):
                continue
            self.run(dst, msg)

    def crash(self, name: str) -> None:
        """Kill `name` and tell its watchers, after what it already sent."""
        self.dead.add(name)
        for w in sorted(self.watchers[name]):
            if w not in self.dead:
                self.inbox.append((name, w, Down(member(name))))

    def tick(self, dt: float) -> None:
        from groupy_actors.core import Tick
        self.now += dt
        for name in sorted(self.cores):
            if name not in self.dead and self.cores[name].stopped is None:
                self.run(name, Tick())
        self.settle()

"""FIFO channels on top of Thespian.

Thespian's TCP transport does not keep the order of messages between two
actors when both send to each other at once: the colliding transmits are
dropped and retried, and a later message may go out first on a new socket
(measured: a member's application saw delivery 186 before 185). Erlang
guarantees per-pair order and the classic protocols rely on it; so does an
application fed by its group actor. A channel numbers what it sends to each
destination; the receiver holds back what arrives early and releases it in
order. A gap that outlives `patience` (a message Thespian gave up on) is
skipped rather than blocking the channel for good.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..core.wire import wire


@wire(brief=True)
@dataclass(frozen=True, slots=True)
class Seq:
    """A message numbered on its channel."""

    n: int
    msg: Any


class Numbering:
    """The sending end: a counter per destination."""

    def __init__(self) -> None:
        self.counters: dict[str, int] = {}

    def wrap(self, to: Any, msg: Any) -> Seq:
        key = str(to)
        n = self.counters.get(key, 0) + 1
        self.counters[key] = n
        return Seq(n, msg)


class Reorder:
    """The receiving end: per source, release messages in number order."""

    def __init__(self, patience: float = 2.0) -> None:
        self.patience = patience
        self.expected: dict[str, int] = {}
        self.held: dict[str, dict[int, Any]] = {}
        self.stuck_since: dict[str, float] = {}
        self.skipped = 0

    def accept(self, source: Any, seq: Seq, now: float) -> list[Any]:
        key = str(source)
        expected = self.expected.get(key, 1)
        if seq.n < expected:
            return []                       # a duplicate
        held = self.held.setdefault(key, {})
        held[seq.n] = seq.msg
        out = self._release(key, now)
        if key in self.held and key not in self.stuck_since:
            self.stuck_since[key] = now
        return out

    def _release(self, key: str, now: float) -> list[Any]:
        held = self.held[key]
        n = self.expected.get(key, 1)
        out = []
        while n in held:
            out.append(held.pop(n))
            n += 1
        self.expected[key] = n
        if not held:
            del self.held[key]
            self.stuck_since.pop(key, None)
        elif out:
            self.stuck_since[key] = now
        return out

    def expire(self, now: float) -> list[Any]:
        """Skip gaps held longer than `patience`; returns what that frees."""
        out: list[Any] = []
        for key, since in list(self.stuck_since.items()):
            if now - since >= self.patience and key in self.held:
                self.skipped += min(self.held[key]) - self.expected.get(key, 1)
                self.expected[key] = min(self.held[key])
                out += self._release(key, now)
        return out

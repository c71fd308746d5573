"""Cores and their applications, without a network: what every simulator shares.

A `Hosts` runs many protocol cores in one process and carries out their
effects. How a send travels, when a timer fires and when a crash notice
arrives is left to the subclass: the timed simulator (`simulator.py`) draws
latencies from a seeded random generator; the adversarial one
(`adversary.py`) lets a test choose every step.

Two things here do not trust the core:

- the oracle: every payload the simulator asks a member to multicast is
  recorded (`submit` records) before the core sees it, so the checker
  compares deliveries with what was asked, not with what the core says it
  accepted;
- the invariants: after every step, each member's deliveries are checked
  to extend what it delivered before (one sequence number after another,
  never one twice) and the core's own `invariants()` are asserted.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Optional

from .. import trace
from ..core import (Config, Deliver, Gms, InstallView, Member, Note, Rejoining, Restore, Send,
                    SnapshotReady, Start, StartTimer, Stop, TakeSnapshot, Unwatch, Watch)
from ..core.events import AppMcast


class InvariantBroken(AssertionError):
    """A member's state or deliveries broke a rule that holds by construction."""


@dataclass
class Node:
    name: str
    gms: Gms
    alive: bool = True
    crashed: bool = False
    history: list[str] = field(default_factory=list)   # the application's view of the stream
    # Stream positions this life has processed (seq -> item), to catch a
    # seq delivered twice or a delivered prefix that changes.
    processed: dict[int, str] = field(default_factory=dict)
    last_seq: int = 0

    @property
    def member(self) -> Member:
        return Member(self.name)


class Hosts:
    """Members of one run: start them, feed them events, apply their effects."""

    def __init__(self, config: Config, keep_log: bool = False) -> None:
        self.config = config
        self.keep_log = keep_log
        self.log: list[str] = []
        self.nodes: dict[str, Node] = {}
        self.records: list[dict[str, Any]] = []
        self.watchers: dict[str, dict[str, None]] = {}
        self.now = 0.0
        self.submitted = 0
        # When a crash took the last member holding the group's state: the
        # group is gone, and nobody is expected to stay to the end.
        self.lost_at: Optional[float] = None

    # -- what a subclass provides ------------------------------------------------

    def transmit(self, src: Node, dst: str, msg: Any) -> None:
        raise NotImplementedError

    def set_timer(self, node: Node, after: float) -> None:
        raise NotImplementedError

    def down_later(self, target: str, watcher: str) -> None:
        raise NotImplementedError

    def snapshot_later(self, node: Node, event: SnapshotReady) -> None:
        raise NotImplementedError

    def after_send(self, node: Node) -> None:
        """Hook: a send just left `node` (the timed simulator may crash it)."""

    # -- members -------------------------------------------------------------------

    def alive(self, joined: bool = False) -> list[Node]:
        return [n for n in self.nodes.values() if n.alive and n.gms.stopped is None
                and (not joined or n.gms.view is not None)]

    def start(self, name: str, contact: Optional[str]) -> Node:
        node = Node(name, Gms(self.config))
        self.nodes[name] = node
        self.records.append(trace.event(name, "start", self.now, contact=contact))
        self.handle(node, Start(node.member, Member(contact) if contact else None))
        return node

    def submit(self, node: Node, payload: Any) -> None:
        """Ask `node`'s application to multicast `payload` (recorded first:
        the checker's oracle)."""
        self.submitted += 1
        self.records.append(trace.event(node.name, "submit", self.now, payload=payload))
        self.handle(node, AppMcast(payload))

    def handle(self, node: Node, event: Any) -> None:
        if not node.alive:
            return
        if self.keep_log:
            self.log.append(f"{self.now:9.2f} {node.name} <- {event!r:.300}")
        self.effects(node, node.gms.handle(event, self.now))
        if node.alive and node.gms.stopped is None:
            problem = node.gms.invariants()
            if problem:
                raise InvariantBroken(f"{node.name} at {self.now:.2f}: {problem}")

    def effects(self, node: Node, effects: Iterable[Any]) -> None:
        for eff in effects:
            if not node.alive:
                return
            kind = type(eff)
            if kind is Send:
                if self.keep_log:
                    self.log.append(f"{self.now:9.2f} {node.name} -> {eff.to.name} {eff.msg!r:.300}")
                self.transmit(node, eff.to.name, eff.msg)
                self.after_send(node)
            elif kind is StartTimer:
                self.set_timer(node, eff.after)
            elif kind is Watch:
                self.watchers.setdefault(eff.member.name, {})[node.name] = None
                target = self.nodes.get(eff.member.name)
                if target is None or not target.alive:
                    self.down_later(eff.member.name, node.name)
            elif kind is Unwatch:
                self.watchers.get(eff.member.name, {}).pop(node.name, None)
            elif kind is TakeSnapshot:
                self.snapshot_later(node, SnapshotReady(eff.token, tuple(node.history)))
            elif kind is Note:
                if self.keep_log:
                    self.log.append(f"{self.now:9.2f} {node.name} note: {eff.text}")
            else:
                self.app(node, eff)
                if kind is Stop:
                    self.gone(node)
                    # The last member left (or found the group's history
                    # gone with the crashed, or, at the classic levels, gave
                    # up on a loss they cannot repair): the group is done.
                    final = eff.reason == "left the group" or eff.history_lost or \
                        not self.config.features.reliable
                    if final and self.lost_at is None and not self.holders():
                        self.lost_at = self.now

    def app(self, node: Node, eff: Any) -> None:
        record = trace.of_effect(node.name, eff, self.now)
        if record is not None:
            self.records.append(record)
        kind = type(eff)
        if kind is Deliver:
            self.processed(node, eff.msg.seq, eff.msg.key)
            node.history.append(eff.msg.key)
        elif kind is InstallView and not eff.restored:
            self.processed(node, eff.view.seq, eff.view.key)
            node.history.append(eff.view.key)
        elif kind is Restore:
            node.history = list(eff.data)
            node.last_seq = max(node.last_seq, eff.seq)
        elif kind is Rejoining:
            node.processed.clear()
            node.last_seq = 0

    def processed(self, node: Node, seq: int, item: str) -> None:
        """The application got stream entry `seq`: never twice, and (where
        entries are held back until contiguous) always the next one."""
        if self.config.features.ordering == "none":
            return      # gms1/gms2 deliver whatever arrives: their known weakness
        before = node.processed.get(seq)
        if before is not None:
            raise InvariantBroken(f"{node.name} at {self.now:.2f}: seq {seq} processed twice "
                                  f"({before}, then {item})")
        if self.config.features.ordering == "gapless" and node.last_seq and seq != node.last_seq + 1:
            raise InvariantBroken(f"{node.name} at {self.now:.2f}: processed seq {seq} "
                                  f"after {node.last_seq}")
        node.processed[seq] = item
        node.last_seq = max(node.last_seq, seq)

    def gone(self, node: Node) -> None:
        node.alive = False
        for watcher in list(self.watchers.get(node.name, {})):
            self.down_later(node.name, watcher)

    def crash(self, node: Node, how: str) -> None:
        node.crashed = True
        self.records.append(trace.event(node.name, "crash", self.now, how=how))
        if self.keep_log:
            self.log.append(f"{self.now:9.2f} {node.name} CRASH {how} ({node.gms.role_name})")
        self.gone(node)
        if self.lost_at is None and not self.holders():
            self.lost_at = self.now

    def holders(self) -> list[Node]:
        """Live members that hold the group's state: not joiners, and named
        in the newest view any member (alive or not) knows - one that a
        newer regime left out only believes itself a member."""
        viewed = [n for n in self.nodes.values() if n.gms.view is not None]
        if not viewed:
            return []
        newest = max(viewed, key=lambda n: (n.gms.log_epoch, n.gms.latest_view().seq))
        names = {m.name for m in newest.gms.latest_view().members}
        return [n for n in self.alive() if n.name in names and n.gms.view is not None
                and n.gms.has_state and n.gms.role_name != "joining"]

    # -- the end ---------------------------------------------------------------------

    def quiet(self) -> bool:
        """Everyone alive is in one view, delivered the same, owes nothing."""
        return self.quiet_among(self.alive())

    @staticmethod
    def quiet_among(live: list[Node]) -> bool:
        if not live:
            return True
        views = {n.gms.view.view_id if n.gms.view else None for n in live}
        tops = {n.gms.stream.delivered for n in live}
        busy = any(n.gms.role_name not in ("leader", "slave") or n.gms.outbox or n.gms.backlog
                   or not n.gms.has_state or n.gms.leaving
                   or n.gms.stream.received > n.gms.stream.delivered for n in live)
        return len(views) == 1 and len(tops) == 1 and not busy

    def histories_agree(self) -> Optional[bool]:
        """With state transfer, every member that stayed has the whole history."""
        if not self.config.features.reliable:
            return None
        return len({tuple(n.history) for n in self.alive()}) <= 1

    def stats(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for node in self.nodes.values():
            for key in ("resent", "nacks", "retried"):
                counts[key] = counts.get(key, 0) + node.gms.stats[key]
            counts["kept_max"] = max(counts.get("kept_max", 0), node.gms.stats["kept_max"])
        return counts

"""What can go wrong in a simulated run."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Faults:
    """Faults injected into a run (times in simulator units, about 1 ms).

    loss, duplicate: chance per message to drop it / deliver it twice.
    reorder:         also reorder messages on one link (UDP-like); links are
                     always reordered against each other by random latency.
    crashes:         members crashed at random times (the leader half the time).
    crash_on_send:   chance that a send is the sender's last (the classic
                     `arghh`: a crash in the middle of a fan-out or a flush).
    max_crashes:     never crash more than this many in all (None: members-1).
    joins, leaves:   members joining and leaving gracefully during the run.
    crash_loses_queued: a crash also loses, on each of the crashed member's
                     links, the messages its transport had not sent yet (a
                     suffix of what is under way), as a SIGKILL does on
                     Thespian; without it, everything sent before arrives.
    partitions:      times the network splits in two (a random minority, with
                     the leader half the time) for `partition_length`; no
                     message crosses the cut until it heals.
    down_in_order:   a crash notice arrives after the dead member's last
                     messages on each link (Erlang's monitor order); without
                     it, as through Thespian's supervisor, it may overtake them.
    """

    loss: float = 0.0
    duplicate: float = 0.0
    reorder: bool = False
    crashes: int = 0
    crash_on_send: float = 0.0
    max_crashes: int | None = None
    joins: int = 0
    leaves: int = 0
    down_in_order: bool = True
    crash_loses_queued: bool = True
    partitions: int = 0
    partition_length: tuple[float, float] = (500.0, 1500.0)
    latency: tuple[float, float] = (1.0, 5.0)
    down_delay: tuple[float, float] = (1.0, 8.0)
    app_delay: tuple[float, float] = (0.2, 3.0)

    def describe(self) -> str:
        parts = [f"loss {self.loss:.0%}"] if self.loss else []
        if self.duplicate:
            parts.append(f"dup {self.duplicate:.0%}")
        if self.reorder:
            parts.append("reorder")
        if self.crashes:
            parts.append(f"{self.crashes} crashes")
        if self.crash_on_send:
            parts.append(f"crash-on-send {self.crash_on_send:.0%}")
        if self.joins:
            parts.append(f"{self.joins} joins")
        if self.leaves:
            parts.append(f"{self.leaves} leaves")
        if self.partitions:
            parts.append(f"{self.partitions} partitions")
        return ", ".join(parts) or "no faults"

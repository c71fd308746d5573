"""The application every benchmark member runs.

It lives in an importable module (not in `__main__`) because on the
process-based system bases each member's application actor imports it by
module path.

The benchmark script steers members with control messages that go through
the group itself, so every member sees them at the same point of the total
order:

    ("go", tag, Plan)   start workload `tag`; members named in the plan send
    (tag, i)            a data message of workload `tag` (i counts per sender)
    ("probe", tag, i)   a probe, multicast by the script through one member

Timing is taken inside the members with `time.time()` (all members run on
one host, so the clocks of their processes agree) and sent back to the
script as records. A member sends one summary record per closed/window run
rather than one record per delivery, so reporting adds no traffic while a
throughput run is in progress.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Optional

from groupy_actors import Application, Message

from .pacing import Pacer

# Record kinds the script waits for.
DONE = "bench_done"          # a member delivered every data message of a run
PROBE = "bench_probe"        # a member delivered a probe (fields: tag, i)
RESTORED = "bench_restored"  # a newcomer applied the state it was sent


@dataclass(frozen=True)
class Plan:
    """One closed-loop run: who sends, how much, how many may be outstanding.

    `per_sender` None means "until told to be quiet" (background load for
    the join workload); `total` is then None as well and no summary is sent.
    `pause` > 0 sends each next message that long after the delivery that
    allows it, through a timer: on simpleSystemBase the script's `tell`
    runs the actors until nothing is pending, so a load that chains sends
    straight from deliveries would never hand control back to the script.
    `until` (a wall-clock time) ends an endless load even if the script
    never gets to ask for quiet: on simpleSystemBase nothing else could.
    """

    senders: tuple[str, ...]
    per_sender: Optional[int]
    window: int = 1
    pause: float = 0.0
    until: Optional[float] = None

    @property
    def total(self) -> Optional[int]:
        return None if self.per_sender is None else self.per_sender * len(self.senders)


class BenchMember(Application):
    """Sends, counts and timestamps for the benchmark workloads."""

    def __init__(self) -> None:
        self.tag: Any = None
        self.plan: Optional[Plan] = None
        self.pacer = Pacer()        # our own sends in the current run
        self.delivered = 0          # data messages of the current run
        self.last_deliver: Optional[float] = None
        # State a newcomer receives: a count and an order-sensitive digest
        # of everything delivered, so the transfer has something to apply.
        self.total_delivered = 0
        self.digest = 0

    def deliver(self, message: Message) -> None:
        now = time.time()
        payload = message.payload
        self.total_delivered += 1
        self.digest = (self.digest * 31 + message.seq) & 0xFFFFFFFF
        if type(payload) is not tuple or not payload:
            return
        head = payload[0]
        if head == "probe":
            # One record per probe: the script paces the probe on these
            # acknowledgements, which travel outside the protocol.
            self.group.record(PROBE, tag=payload[1], i=payload[2], at=now)
        elif head == "go":
            self._start(payload[1], payload[2])
        elif head == self.tag and self.plan is not None:
            self._data(message.sender, now)

    def _start(self, tag: Any, plan: Plan) -> None:
        self.tag, self.plan = tag, plan
        self.pacer = Pacer(plan.per_sender, plan.until)
        self.delivered = 0
        self.last_deliver = None
        if self.group.name in plan.senders:
            for _ in range(plan.window):
                self._send_next()

    def _data(self, sender: str, now: float) -> None:
        plan = self.plan
        self.delivered += 1
        self.last_deliver = now
        if sender == self.group.name:
            if plan.pause > 0:
                self.group.after(plan.pause, self._send_next)
            else:
                self._send_next()
        if plan.total is not None and self.delivered == plan.total:
            self.group.record(DONE, tag=self.tag, first_send=self.pacer.first_send,
                              last_deliver=self.last_deliver, delivered=self.delivered,
                              sent=self.pacer.sent)

    def _send_next(self) -> None:
        i = self.pacer.next()
        if i is not None:
            self.group.mcast((self.tag, i))

    def quiet(self) -> None:
        """Stop proposing work (called through `Group.quiet`)."""
        self.pacer.quieted = True

    def snapshot(self) -> Any:
        return (self.total_delivered, self.digest)

    def restore(self, state: Any) -> None:
        self.total_delivered, self.digest = state
        self.group.record(RESTORED, at=time.time(), delivered=self.total_delivered)

    def status(self) -> dict[str, Any]:
        return {"delivered": self.delivered, "sent": self.pacer.sent,
                "total": self.total_delivered}

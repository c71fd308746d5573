"""The group actor's link to its application actor, with flow control.

Thespian's TCP transport sends one message at a time to each peer and
waits for the peer's receipt before the next. A group actor that handed its
application one message per event it handled (each Mcast, each Ack) could
produce them faster than that: the backlog grew without bound, the
transport spent its time rescanning it, and a leader under load fell
seconds behind with everything it sent (measured in the hung-member test:
its application heard of a halt 10 s late, its proposals went unanswered
and it halted). So at most `WINDOW` batches are out at once; the
application acknowledges each; what the core produces meanwhile waits and
leaves as one batch. Under light load every batch goes out at once.
"""
from __future__ import annotations

from typing import Any, Optional

from .fifo import Numbering, Seq
from .messages import AppBatch

WINDOW = 2          # batches the application has not acknowledged
PATIENCE = 1.0      # s: then send anyway (Thespian gave up on a batch or its ack)


class AppLink:
    def __init__(self, numbering: Numbering) -> None:
        self.numbering = numbering
        self.held: list[Any] = []
        self.sent = 0                   # the number of the last batch sent
        self.acked = 0                  # ... and of the last one acknowledged
        self.sent_at = 0.0

    def add(self, effect: Any) -> None:
        self.held.append(effect)

    def ack(self, n: int) -> None:
        self.acked = max(self.acked, n)

    def take(self, app: Any, now: float, force: bool = False) -> Optional[Seq]:
        """The next batch for `app`, if there is one and the window allows."""
        if not self.held:
            return None
        if not force and self.sent - self.acked >= WINDOW and now - self.sent_at < PATIENCE:
            return None
        batch, self.held = self.held, []
        msg = self.numbering.wrap(app, batch[0] if len(batch) == 1 else AppBatch(tuple(batch)))
        self.sent, self.sent_at = msg.n, now
        return msg

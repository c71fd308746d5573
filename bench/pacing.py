"""A sender's side of a closed or window run, shared by the group's
benchmark application (bench/apps.py) and the PySyncObj replica
(bench/pysyncobj_replica.py), so both pace their sends alike."""
from __future__ import annotations

import time
from typing import Optional


class Pacer:
    """Whether a sender may send its next message now, and its count.

    `per` None means "until told to be quiet"; `until` (a wall-clock time)
    ends the sending even if nobody says so."""

    def __init__(self, per: Optional[int] = None, until: Optional[float] = None) -> None:
        self.per, self.until = per, until
        self.sent = 0
        self.first_send: Optional[float] = None
        self.quieted = False

    def next(self) -> Optional[int]:
        """The number of the message to send now (counting from 1), or None."""
        if self.quieted or (self.per is not None and self.sent >= self.per):
            return None
        now = time.time()
        if self.until is not None and now > self.until:
            return None
        if self.first_send is None:
            self.first_send = now
        self.sent += 1
        return self.sent

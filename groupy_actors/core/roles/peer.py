"""What the leader knows about one peer: what it has, and what we sent it."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from ..clock import NEVER


@dataclass(slots=True)
class PeerRecord:
    """One member, as the leader sees it (`Leader.peers`). The same record
    serves as the send window of an outsider the leader talks to
    (`Leader.outsiders`): there only the fields under "what we sent it"
    mean anything.

    Invariants (`check`, asserted by the simulators after every step):
    - acked < next_seq <= top + 1 (`top`: the last entry in the leader's
      stream): what a member has is never sent to it again, and neither
      what we send nor what we count as had goes beyond our stream.
    - unacked holds send numbers in increasing order, each at most
      `serial`, and at most `room` (inflight + Leader.LAST_WORD) of them.
    - commit_sent <= the leader's commit point.
    - In quorum mode, `received`, once an Ack set it, is at least `acked`:
      a member holds what it delivered.
    Not invariants: got <= serial, and every outstanding number above
    `got`. A member that was put out and came back under the same leader
    and epoch counts `got` on from its earlier life, while our numbering
    of sends to it began again when it left (seen in quorum runs).
    """

    # -- what it has (from its answers) ------------------------------------------
    acked: int = 0                  # the last entry it delivered, by its Acks (or our
                                    # stream before its admission: its state stands for it)
    received: Optional[int] = None  # quorum mode: the last entry that arrived there (its
                                    # Acks' `held`); None: not said since our takeover
                                    # (`acked` counts instead)
    got: int = 0                    # the highest send number it has had (its Acks' `got`)
    heard_at: float = NEVER         # when it last spoke to us
    progress_at: float = NEVER      # when `acked` last moved, or it was up to date
    admitted: Optional[int] = None  # the view that began its current incarnation (sent
                                    # again if it asks to be let in); None: a member since
                                    # before we led, in the same incarnation
    expelling: bool = False         # its removal is asked for (and announced once)

    # -- what we sent it ---------------------------------------------------------
    next_seq: int = 0               # the first entry not sent to it yet (0: none due yet)
    serial: int = 0                 # our numbered sends to it so far (the last one's `n`)
    # Numbered sends neither acknowledged nor taken for lost: n -> when sent.
    unacked: dict[int, float] = field(default_factory=dict)
    sent_at: float = NEVER          # when we last sent it anything
    commit_sent: int = 0            # the commit point our last Broadcast to it carried

    def check_window(self, room: int, commit: int) -> Optional[str]:
        """What breaks the send window's invariants; None if nothing."""
        last = 0
        for n in self.unacked:
            if not last < n <= self.serial:
                return f"send {n} outstanding out of order or beyond serial {self.serial}"
            last = n
        if len(self.unacked) > room:
            return f"{len(self.unacked)} sends outstanding, room for {room}"
        if self.commit_sent > commit:
            return f"told commit {self.commit_sent}, beyond the commit point {commit}"
        return None

    def check(self, top: int, room: int, commit: int, quorum: bool) -> Optional[str]:
        """What breaks a member's invariants; None if nothing."""
        if not self.acked < self.next_seq <= top + 1:
            return f"acked {self.acked}, next {self.next_seq}, stream top {top}"
        if quorum and self.received is not None and self.received < self.acked:
            return f"received {self.received} below acked {self.acked}"
        return self.check_window(room, commit)

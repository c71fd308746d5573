"""One member's copy of the group's stream: what arrived, what was delivered,
and (when reliable) the entries kept for retransmission and flush."""
from __future__ import annotations

from typing import Iterable, Iterator, Optional

from .config import Ordering
from .messages import Entry


class Stream:
    """Sequence numbers run 1, 2, 3, ...; `received` is the highest number up
    to which every entry has arrived, `delivered` the highest processed.

    With `keep`, entries stay until trimmed below the stable point (gms4);
    otherwise they are dropped as soon as they are delivered.
    """

    def __init__(self, ordering: Ordering, keep: bool, holdback: int = 100_000) -> None:
        self.ordering = ordering
        self.keep = keep
        self.holdback = holdback
        self.entries: dict[int, Entry] = {}
        self.received = 0
        self.delivered = 0
        self.trimmed = 0

    def reset(self, base: int) -> None:
        """Start afresh: the next entry expected is base + 1."""
        self.entries.clear()
        self.received = self.delivered = self.trimmed = base

    # -- arrival -------------------------------------------------------------

    def admit(self, e: Entry) -> bool:
        """Ordering "none"/"drop_old": should `e` be processed right away?"""
        if self.ordering == "drop_old" and e.seq <= self.received:
            return False
        self.received = max(self.received, e.seq)
        self.delivered = self.received
        return True

    def add(self, e: Entry) -> bool:
        """Gapless (and the leader's own appends): keep `e`; False if known."""
        if e.seq <= self.received or e.seq in self.entries:
            return False
        if e.seq > self.received + self.holdback:
            return False
        self.entries[e.seq] = e
        while self.received + 1 in self.entries:
            self.received += 1
        return True

    def deliverable(self, upto: int) -> Iterator[Entry]:
        """Entries ready to process, in order; each counts as delivered once
        yielded, so a caller may stop early."""
        while self.delivered < min(upto, self.received):
            self.delivered += 1
            e = self.entries[self.delivered] if self.keep else self.entries.pop(self.delivered)
            yield e

    # -- what is missing or held ---------------------------------------------

    def held_beyond(self) -> Optional[int]:
        """Lowest sequence number held above a gap, if any."""
        above = [s for s in self.entries if s > self.received]
        return min(above) if above else None

    def range(self, first: int, last: int) -> list[Entry]:
        """Contiguous kept entries from `first` (stops at the first hole)."""
        out = []
        for s in range(max(first, self.trimmed + 1), last + 1):
            e = self.entries.get(s)
            if e is None:
                break
            out.append(e)
        return out

    def get(self, seq: int) -> Optional[Entry]:
        return self.entries.get(seq)

    # -- cutting ---------------------------------------------------------------

    def truncate_after(self, seq: int) -> None:
        """Forget everything above `seq` (never below what was delivered)."""
        seq = max(seq, self.delivered)
        for s in [s for s in self.entries if s > seq]:
            del self.entries[s]
        self.received = min(self.received, seq)

    def trim(self, upto: int) -> None:
        """Drop kept entries up to `upto` (only ones already delivered)."""
        upto = min(upto, self.delivered)
        if upto <= self.trimmed:
            return
        if upto - self.trimmed < len(self.entries):
            for s in range(self.trimmed + 1, upto + 1):
                self.entries.pop(s, None)
        else:
            for s in [s for s in self.entries if s <= upto]:
                del self.entries[s]
        self.trimmed = upto

    def cover(self, entries: Iterable[Entry], upto: int) -> None:
        """A state transfer stands for everything up to `upto`: count it as
        delivered, keeping the `entries` it came with for others' sake."""
        for e in entries:
            if self.delivered < e.seq <= upto:
                self.entries[e.seq] = e
        missing = [s for s in range(self.delivered + 1, upto + 1) if s not in self.entries]
        if missing:
            # The sender no longer kept them: what we cannot hand on, we trim.
            cut = max(missing)
            for s in [s for s in self.entries if s <= cut]:
                del self.entries[s]
            self.trimmed = max(self.trimmed, cut)
        self.delivered = max(self.delivered, upto)
        self.received = max(self.received, upto)
        while self.received + 1 in self.entries:
            self.received += 1

    def __len__(self) -> int:
        return len(self.entries)

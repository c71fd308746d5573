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

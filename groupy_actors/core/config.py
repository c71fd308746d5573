"""Protocol levels (presets of one implementation) and timing."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

Ordering = Literal["none", "drop_old", "gapless"]
Takeover = Literal["none", "plain", "resend_recent", "flush"]


@dataclass(frozen=True, slots=True)
class Features:
    """What a protocol level switches on.

    watch:    monitor the leader (slaves) and the members (leader); elect on Down.
    ordering: how a member treats incoming stream entries -
              "none" delivers whatever arrives, "drop_old" drops numbers
              below the next expected one, "gapless" holds entries back
              until every earlier one has arrived and asks for the missing.
    takeover: what a new leader does first - "none" (nobody takes over),
              "plain" (just a new view), "resend_recent" (resend what it
              received since the last view: Erlang's gms3 resends the last
              message, enough where every message sent before a crash
              arrives; a killed Thespian actor loses what it had queued, a
              suffix of each link, which can be more), "flush" (inquiry,
              fill everyone, then view).
    reliable: acknowledgements, retransmission, bounded history, retried
              multicasts, state transfer, graceful leader hand-off.
    """

    watch: bool
    ordering: Ordering
    takeover: Takeover
    reliable: bool


LEVELS: dict[str, Features] = {
    "gms1": Features(watch=False, ordering="none", takeover="none", reliable=False),
    "gms2": Features(watch=True, ordering="none", takeover="plain", reliable=False),
    "gms3": Features(watch=True, ordering="drop_old", takeover="resend_recent", reliable=False),
    "gms4": Features(watch=True, ordering="gapless", takeover="flush", reliable=True),
}

DEFAULT_LEVEL = "gms4"


@dataclass(frozen=True, slots=True)
class Timing:
    """Periods and limits, in seconds (the simulator uses its own units).

    The defaults suit members on one machine; see `for_network` for groups
    spread over several.
    """

    tick: float = 0.05            # how often the core is woken
    heartbeat: float = 0.1        # leader -> member keep-alive when idle
    ack_every: int = 32           # a member acks at least this often (entries)
    ack_broadcasts: int = 2       # ... and at least every this many broadcasts with entries
    inflight: int = 2             # leader -> member broadcasts between two answers
    lost_after: float = 0.4       # ... one the member's answers this much later lack is lost
    nack_retry: float = 0.1       # ask again for the same missing entries
    mcast_retry: float = 0.5      # resend an undelivered multicast
    retry_batch: int = 8          # ... at most this many at a time
    join_retry: float = 0.5
    join_timeout: float = 10.0    # give up joining, with an error
    state_retry: float = 1.0      # ask again for the application state
    leave_retry: float = 0.5
    takeover_timeout: float = 3.0  # survivors that have not answered are left out
    suspect_after: float = 3.0    # silence after which a peer is taken for dead
    window: int = 2000            # entries the leader may have unstable
    sender_window: int = 256      # own multicasts a member may have undelivered
    mcast_inflight: int = 128     # ... and not yet seen sequenced (the rest wait)
    mcast_batches: int = 4        # ... in at most this many actor messages
    max_lag: int = 20000          # a member further behind is expelled
    ack_timeout: float = 10.0     # a member silent this long while behind is expelled
    resend_batch: int = 256       # entries per retransmission

    @classmethod
    def network(cls, heartbeat: float = 0.1, suspect_after: float = 1.0) -> "Timing":
        """For members on several machines: no exit notices cross machines,
        so silence is the detector. A dead machine is expelled about
        `suspect_after` seconds after its last word (the flush after a
        leader's death waits as long again at most)."""
        return cls(heartbeat=heartbeat, suspect_after=suspect_after,
                   takeover_timeout=suspect_after)


@dataclass(frozen=True, slots=True)
class Config:
    """A protocol level, its timing, and quorum mode.

    quorum: a view needs the assent of a majority of the previous view
    (the leader proposes, a majority assents, then the view enters the
    stream), a takeover needs promises from a majority, and a member that
    cannot reach a majority halts and rejoins instead of going on alone.
    Needs gms4 (assent travels on its acknowledged channels).
    """

    level: str = DEFAULT_LEVEL
    timing: Timing = field(default_factory=Timing)
    quorum: bool = False

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(
                f"unknown protocol {self.level!r}; choose one of {', '.join(LEVELS)}")
        if self.quorum and not LEVELS[self.level].reliable:
            raise ValueError(f"quorum mode needs gms4, not {self.level}")

    @property
    def features(self) -> Features:
        return LEVELS[self.level]

    def with_timing(self, **changes: float) -> "Config":
        return replace(self, timing=replace(self.timing, **changes))

"""Halted (quorum mode): this member could not reach a majority of its view.

It delivers nothing and keeps its history and its vote: a halted member is
a Raft follower without a leader, not a member that left. Every so often it
says to the members of its newest view that it is here (a Join: the same
message asks a live group to admit it again). Then one of these ends it:

- a leader that went on without it reaches it (a broadcast of a newer
  regime, its admission under a new incarnation, an expulsion): the group
  lives on without us, so we join it again and take its state;
- a leader of a lower epoch reaches it (ours grew in a takeover that
  failed): we may not follow it, so we tell it our ballot, it steps down,
  and the next takeover can count on us;
- a candidate asks for a promise with a higher ballot: we promise and
  follow it, history and all;
- it tries a takeover itself, after the suspicion time (staggered by its
  place among the voters, so that the first of them usually goes alone):
  with promises from a majority of the voters of the newest view it leads
  the group on with the newest history; without, it is halted again.

A rival's reject does not end it: a higher ballot may belong to a takeover
that failed, and leaving the group over it (as before) threw away the vote
and history of members the group could not do without.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, ClassVar

from ..clock import NEVER
from ..events import SnapshotReady, Tick
from ..messages import (Ack, Assent, Broadcast, Expelled, Join, JoinRefused, Leave, Mcast, Nack,
                        Promise, Propose, Reject, State, StateRequest, View)
from .base import Handler, Role
from .electing import start_takeover

if TYPE_CHECKING:
    from ..gms import Gms


class Halted(Role):
    name = "minority"

    def __init__(self, now: float) -> None:
        self.since = now
        self.said = NEVER
        self.rejected: dict[Any, float] = {}    # lower-epoch leaders told, and when

    def on_Tick(self, g: "Gms", _: Any) -> None:
        view = g.latest_view()
        if g.now - self.said >= max(g.t.join_retry, g.t.suspect_after / 2):
            self.said = g.now
            for m in view.members:
                if m != g.me and m not in g.dead:
                    g.send(m, Join(g.me, g.inc, g.epoch))
        if g.me not in view.voters or not g.has_state:
            return
        rank = view.voters.index(g.me)
        if g.now - self.since >= g.t.suspect_after + rank * g.t.takeover_timeout:
            g.suspects = set()
            g.note("halted for a suspicion time: trying to take over", logging.WARNING)
            start_takeover(g)

    def on_Broadcast(self, g: "Gms", b: Broadcast) -> None:
        # Only a leader broadcasts, once its takeover (or founding) is done:
        # if it is not the one we follow, the group went on without us.
        # Our admission counts whatever its epoch: ours may have grown in
        # takeovers that found no majority while the group went on at a
        # lower one.
        admitted = any(isinstance(e, View) and g.me in e.members and e.inc_of(g.me) != g.inc
                       for e in b.entries)
        if not admitted and b.epoch > g.epoch:
            if g.follow(b):
                g.role.dispatch(g, b)   # a leader whose view keeps us
                return
            if g.view_pending(b):
                return
        if admitted or b.epoch > g.epoch:
            self.newer(g, b.src, b.epoch)
            if g.role is not self:
                g.role.dispatch(g, b)   # it may be our admission already
        elif b.epoch < g.epoch:
            self.lower(g, b.src)

    def on_Expelled(self, g: "Gms", x: Expelled) -> None:
        if x.epoch >= g.epoch or (g.view is not None and g.me not in (g.view.members)):
            self.newer(g, x.src, x.epoch)

    def on_Reject(self, g: "Gms", r: Reject) -> None:
        if r.ballot > g.ballot:
            g.ballot, g.epoch = r.ballot, max(g.epoch, r.epoch)

    def newer(self, g: "Gms", contact: Any, epoch: int) -> None:
        g.epoch = max(g.epoch, epoch)
        g.rejoin(f"the group went on without this member (epoch {epoch})", contact)

    def on_Mcast(self, g: "Gms", mc: Mcast) -> None:
        pass                            # its sender retries once there is a leader

    def on_Propose(self, g: "Gms", p: Propose) -> None:
        if p.epoch > g.epoch:
            self.newer(g, p.src, p.epoch)   # as in on_Broadcast
        elif p.epoch < g.epoch:
            self.lower(g, p.src)

    def lower(self, g: "Gms", leader: Any) -> None:
        """A leader of a lower epoch, whose view may well count us: we
        promised a higher one (a takeover that failed), so we may not follow
        it. Say so: it steps down, and the next takeover, above both, can
        have our promise (Raft's rule for a stale term; leaving the group
        instead took a vote the group could not do without)."""
        if self.rejected.get(leader, NEVER) + g.t.heartbeat <= g.now:
            self.rejected[leader] = g.now
            g.reject(leader)

    def on_Join(self, g: "Gms", j: Join) -> None:
        pass                            # nobody leads here to admit it; it asks again

    HANDLERS: ClassVar[dict[type, Handler]] = {
        **Role.HANDLERS,
        Tick: on_Tick,
        Broadcast: on_Broadcast,
        Expelled: on_Expelled,
        Reject: on_Reject,
        Mcast: on_Mcast,
        Propose: on_Propose,
        Join: on_Join,
    }
    IGNORES = frozenset({Ack, Assent, JoinRefused, Leave, Nack, Promise, SnapshotReady, State,
                         StateRequest})

"""Halted (quorum mode): this member could not reach a majority of its view.

It delivers nothing and keeps its history, and says every so often to the
members of its newest view that it is here (a Join: the same message asks a
live group to admit it again). Then one of three things ends it:

- a newer regime answers (a broadcast, a reject or an expulsion from a
  higher epoch): the group lives on without us, so we join it again and take
  its state;
- a candidate asks for a promise (we were cut off together with a majority
  that now restarts): we promise and follow it;
- enough halted members hear each other to make a majority of the view,
  and we are the first of them in the view's order: we take over, with our
  history intact, as after a leader's crash.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ..member import Member
from ..messages import Broadcast, Expelled, Join, Mcast, Propose, Reject, View
from .base import Role

if TYPE_CHECKING:
    from ..gms import Gms

NEVER = float("-inf")


class Halted(Role):
    name = "minority"

    def __init__(self, now: float) -> None:
        self.since = now
        self.said = NEVER
        self.peers: dict[Member, float] = {}    # halted members heard from, and when

    def on_Tick(self, g: "Gms", _: Any) -> None:
        view = g.latest_view()
        if g.now - self.said >= max(g.t.join_retry, g.t.suspect_after / 2):
            self.said = g.now
            for m in view.members:
                if m != g.me and m not in g.dead:
                    g.send(m, Join(g.me, g.inc))
        from .quorum import quorate
        live = [m for m, t in self.peers.items() if g.now - t <= g.t.suspect_after]
        first = next((m for m in view.members if m == g.me or m in live), g.me)
        if first == g.me and quorate(g, live) and g.now - self.since >= g.t.suspect_after:
            from .electing import start_takeover
            g.suspects = {m for m in view.members if m != g.me and m not in live}
            g.note(f"{len(live) + 1} of {len(view.members)} members are halted together: "
                   "taking over", logging.WARNING)
            start_takeover(g)

    def on_Join(self, g: "Gms", j: Join) -> None:
        view = g.latest_view()
        # A newcomer still waiting for its admission asks under another
        # incarnation; it has no history to offer a takeover.
        if j.joiner in view.members and j.inc == view.inc_of(j.joiner):
            self.peers[j.joiner] = g.now

    def on_Broadcast(self, g: "Gms", b: Broadcast) -> None:
        # Our admission counts whatever its epoch: ours may have grown in
        # failed takeovers while the group went on at a lower one.
        admitted = any(isinstance(e, View) and g.me in e.members and e.inc_of(g.me) != g.inc
                       for e in b.entries)
        if admitted or b.epoch > g.epoch:
            self.newer(g, b.src, b.epoch)
            if g.role is not self:
                g.role.dispatch(g, b)   # it may be our admission already
        elif b.epoch < g.epoch:
            # A leader the group kept while our epoch grew in takeovers that
            # found no majority: a reject would unseat it (measured: after a
            # heal the majority's leader rejoined, and the group fell apart).
            self.newer(g, b.src, b.epoch)

    def on_Expelled(self, g: "Gms", x: Expelled) -> None:
        if x.epoch >= g.epoch:
            self.newer(g, x.src, x.epoch)

    def on_Reject(self, g: "Gms", r: Reject) -> None:
        if r.ballot > g.ballot:
            g.ballot = r.ballot
            self.newer(g, r.leader or r.src, r.epoch)

    def newer(self, g: "Gms", contact: Member, epoch: int) -> None:
        g.epoch = max(g.epoch, epoch)
        g.rejoin(f"the group went on without this member (epoch {epoch})", contact)

    def on_Mcast(self, g: "Gms", mc: Mcast) -> None:
        pass                            # its sender retries once there is a leader

    def on_Propose(self, g: "Gms", p: Propose) -> None:
        if p.epoch < g.epoch:
            self.newer(g, p.src, p.epoch)   # as in on_Broadcast

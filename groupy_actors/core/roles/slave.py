"""Slave: follow the leader's stream; elect a successor when it goes down."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, ClassVar

from ..events import Down, SnapshotReady, Tick
from ..member import Member
from ..messages import (Ack, Assent, Broadcast, Join, JoinRefused, Leave, Mcast, Nack, Promise,
                        Propose, Reject, State, StateRequest, View)
from .base import Handler, Role
from .electing import start_takeover
from .leader import Leader

if TYPE_CHECKING:
    from ..gms import Gms


class Slave(Role):
    name = "slave"
    clocked = True

    def forward_mcast(self, g: "Gms", mc: Mcast) -> None:
        g.send(g.leader, mc)

    # Requests meant for the leader are passed on to whom we follow, unless
    # they come from it: then it takes us for its leader (it knows a view
    # in which we come first), and passing them back would go round for
    # ever while nobody leads.
    def on_Mcast(self, g: "Gms", mc: Mcast) -> None:
        if mc.sender == g.leader and defers(g, mc.sender):
            return
        g.send(g.leader, mc)

    def on_Join(self, g: "Gms", j: Join) -> None:
        if j.joiner == g.leader and g.f.reliable and j.epoch >= g.epoch:
            # Whom we follow is asking to be let in: it no longer leads.
            g.note(f"{g.leader} is joining again: it no longer leads", logging.WARNING)
            if g.config.quorum:
                # Its takeover failed, or it halted: wait our turn as it
                # does (see Halted), rather than all of us trying at once
                # and each unseating the others (measured: a run of four
                # halted members that never chose one).
                g.halt(f"{g.leader}, whom we followed, is halted")
                return
            g.suspects.add(g.leader)
            leader_down(g)
            return
        g.send(g.leader, j)

    def on_Propose(self, g: "Gms", p: Propose) -> None:
        if p.epoch == g.epoch and p.src == g.leader:
            g.heard_at = g.now
            g.note_got(p.src, p.epoch, p.n)
            g.send(p.src, Assent(g.me, g.epoch, p.view_id, g.got_from_leader()))
        else:
            super().on_Propose(g, p)

    def on_Leave(self, g: "Gms", lv: Leave) -> None:
        if lv.src == g.leader and defers(g, lv.src):
            return
        g.send(g.leader, lv)

    def on_StateRequest(self, g: "Gms", r: StateRequest) -> None:
        if r.src == g.leader and defers(g, r.src):
            return
        g.send(g.leader, r)

    def on_Broadcast(self, g: "Gms", b: Broadcast) -> None:
        if not g.accept_broadcast(b):
            return
        g.take_entries(b)
        if g.f.reliable and g.role is self and g.stopped is None:
            if b.stable > g.stream.received and b.epoch == g.log_epoch:
                # The leader counts us as holding what we never had, and
                # keeps it no longer: it took an old copy of our Join for
                # a newcomer after we missed being put out, and our place is
                # that newcomer's (found by a hypothesis schedule: the
                # member asked for the gap for ever, unanswered).
                g.rejoin(f"{b.src} counts this member as holding up to {b.stable}; "
                         f"it has {g.stream.received}", b.src)
                return
            g.stream.trim(b.stable)
            g.ask_missing()
            g.ack()

    def on_Reject(self, g: "Gms", r: Reject) -> None:
        # Within one epoch there is one leader and one stream: a member of
        # our epoch that rejects us is behind (it has not seen the view that
        # made our leader lead), not ahead. Only a newer epoch puts us out.
        if r.epoch > g.epoch:
            super().on_Reject(g, r)

    def on_Ack(self, g: "Gms", a: Ack) -> None:
        if a.src == g.leader and defers(g, a.src):
            return
        g.reject(a.src)     # it takes us for its leader: say whom we follow

    def on_Nack(self, g: "Gms", n: Nack) -> None:
        if n.src == g.leader and defers(g, n.src):
            return
        g.reject(n.src)

    def on_State(self, g: "Gms", s: State) -> None:
        g.restore(s)
        if g.role is self and g.stopped is None:
            g.ack()     # in quorum mode, a learner with the state may vote now

    def on_Down(self, g: "Gms", d: Down) -> None:
        g.dead.add(d.member)
        if d.member == g.leader:
            leader_down(g)
        else:
            g.note(f"{d.member} is down; it is not our leader", logging.DEBUG)

    def on_Tick(self, g: "Gms", _) -> None:
        if not g.f.reliable:
            if g.leaving and g.now - g.leave_at >= g.t.join_timeout:
                g.stop("left the group (the leader did not confirm)")
            elif g.unconfirmed is not None:
                greet(g)
            return
        if g.late:
            g.heard_at = g.now
        if g.now - g.heard_at > g.t.suspect_after:
            g.note(f"no word from {g.leader} for {g.t.suspect_after:g}s: suspecting it",
                   logging.WARNING)
            g.suspects.add(g.leader)
            leader_down(g)
            return
        g.ack(keepalive=True)
        g.ask_missing()
        g.resend_outbox(g.t.mcast_retry, limit=g.t.retry_batch)
        if not g.has_state and g.now - g.state_at >= g.t.state_retry:
            g.ask_state()
        if g.leaving and g.now - g.leave_at >= g.t.leave_retry:
            g.try_leave()

    HANDLERS: ClassVar[dict[type, Handler]] = {
        **Role.HANDLERS,
        Mcast: on_Mcast,
        Join: on_Join,
        Propose: on_Propose,
        Leave: on_Leave,
        StateRequest: on_StateRequest,
        Broadcast: on_Broadcast,
        Reject: on_Reject,
        Ack: on_Ack,
        Nack: on_Nack,
        State: on_State,
        Down: on_Down,
        Tick: on_Tick,
    }
    IGNORES = frozenset({Assent, JoinRefused, Promise, SnapshotReady})

    def on_view(self, g: "Gms", old: View | None, new: View) -> None:
        if g.me not in new.members:
            if g.leaving:
                g.stop("left the group")
            else:
                g.rejoin(f"removed from the group in view {new.view_id}", new.leader)
            return
        if new.seq < g.regime_start:
            return      # history a takeover handed on: its leader is not ours
        if new.leader == g.me:
            hand_over(g)            # the old leader left and named us
        elif new.leader != g.leader or (old is not None and old.leader != new.leader):
            # A new leader (we may have switched to it before its view came):
            # what we sent the old one may be lost, and waiting for the
            # retry timer would add mcast_retry to every failover.
            g.leader = new.leader
            g.heard_at = g.now
            g.watch_only((new.leader,))
            g.resend_outbox()
        elif old is None:
            g.watch_only((new.leader,))

    def start_leaving(self, g: "Gms") -> None:
        g.try_leave()


def defers(g: "Gms", leader: Member) -> bool:
    """Whom we expect to lead treats us as its leader (our views disagree
    on who comes first after a leader failed): it will not take over, so
    we do. False where we may not (no flush level, or no state)."""
    if not g.f.watch or g.leader != leader or leader == g.me:
        return False
    g.note(f"{leader} takes us for its leader: it passes the lead on", logging.WARNING)
    g.passed.add(leader)
    leader_down(g)
    return True


def successor(g: "Gms") -> object:
    """First member of our view not known to be down: the next leader (in
    quorum mode, the first voting one: a learner may lack the state)."""
    view = g.view
    return next((m for m in view.voters if m == g.me or (
        m not in g.dead and m not in g.suspects and m not in g.passed)), g.me)


def leader_down(g: "Gms") -> None:
    """Our leader is gone: the first survivor of the view takes over."""
    mode = g.f.takeover
    if mode == "none":
        return
    new = successor(g)
    if new != g.me:
        g.leader = new
        g.heard_at = g.now
        g.watch_only((new,))
        if not g.f.reliable:
            g.unconfirmed = new
            greet(g)
        return
    if mode == "flush":
        start_takeover(g)
        return
    # gms2/gms3: lead at once, with a view of the survivors.
    survivors = [m for m in g.view.members if m == g.me or m not in g.dead]
    leader = Leader(g)
    g.become(leader)
    g.leader = g.me
    if mode == "resend_recent" and g.recent:
        leader.resend(g, g.recent, survivors[1:])
    leader.change_view(g, survivors)


def greet(g: "Gms") -> None:
    """Classic levels: tell the successor we took for our leader that we
    follow it, until it speaks to us. A crashed leader may have admitted
    us in a view that never reached its successor (Thespian loses what a
    killed actor had queued); unknown there, we would wait for ever, in a
    view the group never had. Told, the new leader expels us, and a
    classic member that is expelled stops (it cannot take back what it
    delivered). (Before it leads it rejects the greeting; we greet again
    on the next tick.)"""
    g.send(g.unconfirmed, Ack(g.me, g.epoch, g.stream.delivered))


def hand_over(g: "Gms") -> None:
    """A view names us leader while we were not: take over the stream."""
    if g.f.takeover == "flush":
        start_takeover(g)
        return
    g.become(Leader(g))
    g.leader = g.me
    g.role.on_view(g, None, g.view)

"""Electing: we are the first survivor and take over the stream (gms4).

Birman's flush, with Viewstamped Replication's rule for picking the history:
ask every survivor to promise a new epoch and to send what it holds beyond
what we delivered; adopt the most recent history (highest epoch it was
written in, then the longest); fill every survivor up to the same entry;
only then install the new view. A member that promised ignores the old
leader from then on, so nothing can slip in behind the flush.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from ..events import Down, SnapshotReady, Tick
from ..member import Member
from ..messages import (Ack, Assent, Broadcast, Entry, Inquiry, Join, JoinRefused, Leave,
                        Mcast, Nack, Promise, Reject, State, StateRequest, View)
from .base import Handler, Role
from .leader import Leader, note_sequenced
from .quorum import quorate

if TYPE_CHECKING:
    from ..gms import Gms


def start_takeover(g: "Gms") -> None:
    if not g.has_state:
        # It could not serve anyone the state: let the next member lead
        # (they take a Join from their would-be leader as its failure).
        g.rejoin("cannot take over before receiving the group state", None)
        return
    latest = g.latest_view()
    g.epoch = max(g.epoch, g.ballot[0]) + 1
    g.ballot = (g.epoch, latest.view_id, g.me.name)
    g.leader = g.me
    # Views we hold beyond a gap name members too: they may fill the gap.
    held = [e for s, e in sorted(g.stream.entries.items())
            if s > g.stream.received and isinstance(e, View)]
    named = dict.fromkeys(m for v in [latest, *held] for m in v.members)
    targets = [m for m in named if m != g.me and m not in g.dead and m not in g.suspects]
    role = Electing(targets, g.now)
    g.become(role)
    g.note(f"taking over as leader, epoch {g.epoch}", logging.INFO)
    g.watch_only(targets)
    role.ask(g, targets)
    role.maybe_finish(g)


@dataclass(frozen=True)
class History:
    """The most recent history the survivors hold, as a takeover would
    adopt it: the regime it follows, its entries beyond what we delivered,
    how far they run without a hole, the newest view anyone holds, and
    the newest view within `top`."""

    log_epoch: int
    entries: dict[int, Entry]
    top: int
    latest: View
    within: View


def survey(g: "Gms", replies: list[Promise]) -> History:
    """Find the most recent history (without touching our stream).

    Histories are ranked by the regime they follow (`log_epoch`), then by
    length: Viewstamped Replication's rule. Histories that follow one
    regime are prefixes of that leader's stream, so their union is exact
    even where each member holds only a part (a newcomer's starts at its
    own view); older ones may hold entries that newer leaders replaced, so
    they count only if nothing newer exists. The newest view is taken from
    the promises too: ours may be older than a view the newest history
    holds below what we delivered.
    """
    s = g.stream
    newest = max([g.log_epoch] + [p.log_epoch for p in replies])
    entries: dict[int, Entry] = {}
    if g.log_epoch == newest:
        entries.update((seq, e) for seq, e in s.entries.items() if seq > s.delivered)
    for p in replies:
        if p.log_epoch == newest:
            for e in p.entries:
                if e.seq > s.delivered:
                    entries.setdefault(e.seq, e)
    top = s.delivered
    while top + 1 in entries:
        top += 1
    entries = {seq: e for seq, e in entries.items() if seq <= top}    # nothing above a hole
    views = [p.view for p in replies if p.log_epoch == newest and p.view is not None]
    held = [e for e in entries.values() if isinstance(e, View)]
    own = max(held, key=lambda v: v.seq) if held else g.view
    if g.log_epoch == newest or held:
        views.append(own)
    latest = max(views, key=lambda v: v.seq)
    within = max([v for v in views if v.seq <= top] + [g.view], key=lambda v: v.seq)
    return History(newest, entries, top, latest, within)


def adopt(g: "Gms", history: History) -> None:
    """Make our stream `history` (beyond what we delivered), ours from now."""
    g.stream.truncate_after(g.stream.delivered)
    for seq in sorted(history.entries):
        g.stream.add(history.entries[seq])
    g.log_epoch = g.epoch


class Electing(Role):
    name = "electing"

    def __init__(self, targets: list[Member], now: float) -> None:
        self.targets: dict[Member, None] = dict.fromkeys(targets)
        self.promises: dict[Member, Promise] = {}
        self.started = self.asked = now
        self.queue: list[Any] = []      # requests for the leader we are about to be

    def ask(self, g: "Gms", members: list[Member]) -> None:
        q = Inquiry(g.me, g.epoch, g.ballot[1], g.stream.delivered)
        for m in members:
            g.send(m, q)
        self.asked = g.now

    def waiting_for(self, g: "Gms") -> list[Member]:
        return [m for m in self.targets if m not in self.promises and m not in g.dead]

    def maybe_finish(self, g: "Gms") -> None:
        if g.role is self and not self.waiting_for(g):
            self.conclude(g)        # everyone we could ask answered or died

    def conclude(self, g: "Gms") -> None:
        # The newest view anyone reported counts, not ours: a promiser may
        # hold one that made a learner vote.
        history = survey(g, [p for p in self.promises.values() if p.joined])
        if self.quorate(g, history.latest):
            self.finish(g, history)
        else:
            self.no_majority(g, history.latest)

    def quorate(self, g: "Gms", view: View) -> bool:
        """Quorum mode: do the promises make a majority of the voters of
        `view`? A newcomer that has not seen its view yet does not count:
        it keeps no ballot, so it would answer a rival candidate just the
        same."""
        if not g.config.quorum:
            return True
        return quorate(view, g.me, self.voters())

    def never_committed(self, g: "Gms", history: History) -> bool:
        """Quorum mode: was the newest view, beyond the history we can hand
        over, never committed? So if none of its voters that promised (a
        majority of them: see `conclude`) holds the stream up to it (what
        a voter trimmed it had delivered: its `received` counts, not the
        entries it sent), and the promises make a majority of the view we
        can reach too: a majority of the same voters holds whatever was
        committed. Then no one delivered it, and we may lead on from the
        newest view we can reach. (Halting there, candidates tried again
        for ever: the view's only whole copy was a learner's, admitted by
        it; walk quorum-five 891.) Its id is not used again."""
        latest = history.latest
        if not g.config.quorum or not self.quorate(g, history.within):
            return False
        reach = [p.received for m, p in self.promises.items() if p.joined and m in latest.voters]
        if g.me in latest.voters:
            reach.append(g.stream.received)
        return max(reach) < latest.seq     # (a quorum holds a promiser or us)

    def voters(self) -> list[Member]:
        return [m for m, p in self.promises.items() if p.joined]

    def no_history(self, g: "Gms", latest: View, top: int) -> None:
        text = (f"view {latest.view_id} lies beyond the history the survivors could hand "
                f"over (up to {top})")
        if g.config.quorum:
            g.halt(text)
        else:
            g.rejoin(text, None, history_lost=True)

    def no_majority(self, g: "Gms", latest: View) -> None:
        count = len({g.me, *self.voters()} & set(latest.voters))
        g.halt(f"in a minority: {count} of the {len(latest.voters)} "
               f"voting members of view {latest.view_id} promised to the takeover")

    def on_Promise(self, g: "Gms", p: Promise) -> None:
        if p.epoch != g.epoch or p.src not in self.targets or p.src in self.promises:
            return
        self.promises[p.src] = p
        # Its history may hold views we never saw, naming members to ask too.
        found = [m for e in p.entries if isinstance(e, View) for m in e.members
                 if m != g.me and m not in self.targets and m not in g.dead]
        found = list(dict.fromkeys(found))
        if found:
            self.targets.update(dict.fromkeys(found))
            g.watch_only(self.targets)
            self.ask(g, found)
        self.maybe_finish(g)

    def on_Down(self, g: "Gms", d: Down) -> None:
        g.dead.add(d.member)
        self.maybe_finish(g)

    def on_Tick(self, g: "Gms", _) -> None:
        if g.now - self.started >= g.t.takeover_timeout:
            self.conclude(g)
        elif g.now - self.asked >= g.t.nack_retry:
            self.ask(g, self.waiting_for(g))

    def on_Reject(self, g: "Gms", r: Reject) -> None:
        if r.ballot <= g.ballot:
            return
        mine = g.ballot
        g.ballot, g.epoch = r.ballot, r.epoch
        if r.leader is None or r.leader in g.dead:
            start_takeover(g)       # a rival that died: try again above it
        elif g.config.quorum:
            g.halt(f"{r.leader} takes over instead (epoch {r.epoch})")
        elif r.view_id > mine[1]:
            # The rival knows a newer view, which may not include us.
            g.rejoin(f"{r.leader} leads the group (epoch {r.epoch})", r.leader)
        else:
            g.note(f"{r.leader} takes over instead (epoch {r.epoch})", logging.WARNING)
            g.leader = r.leader
            g.heard_at = g.now
            g.become_slave()
            g.watch_only((r.leader,))

    def on_Broadcast(self, g: "Gms", b: Broadcast) -> None:
        if b.epoch < g.epoch:
            g.accept_broadcast(b)       # answers with a Reject
        elif b.epoch > g.epoch and g.follow(b):
            g.role.dispatch(g, b)       # a rival won, and kept us

    # Requests for the leader wait until we are one.
    def _later(self, g: "Gms", msg: Any) -> None:
        self.queue.append(msg)

    HANDLERS: ClassVar[dict[type, Handler]] = {
        **Role.HANDLERS,
        Promise: on_Promise,
        Down: on_Down,
        Tick: on_Tick,
        Reject: on_Reject,
        Broadcast: on_Broadcast,
        Join: _later,
        Mcast: _later,
        Leave: _later,
        StateRequest: _later,
    }
    IGNORES = frozenset({Ack, Assent, JoinRefused, Nack, SnapshotReady, State})

    def finish(self, g: "Gms", history: History) -> None:
        """Lead: the promises make a majority of `history.latest` (quorum mode)."""
        latest = history.latest
        newest_id = latest.view_id      # ours follows it, even if we skip it
        if latest.seq > history.top and self.never_committed(g, history):
            g.note(f"view {latest.view_id} was never committed: leading on from view "
                   f"{history.within.view_id}", logging.WARNING)
            latest = history.within
        if g.me not in latest.members or latest.inc_of(g.me) != g.inc:
            # The newest history put us out (in a regime we never heard
            # from): what we delivered since may not be in it.
            g.rejoin("the group removed this member before its leader failed",
                     next((m for m in latest.members if m not in g.dead), None))
            return
        if latest.seq > history.top:
            # Not one of us holds the whole newest history: a view would
            # skip part of it.
            self.no_history(g, latest, history.top)
            return
        adopt(g, history)
        # Only members the newest view names under the incarnation they
        # hold: one renewed or removed there is out, whatever it believes.
        joined = {m: p for m, p in self.promises.items() if p.joined and m not in g.dead
                  and m in latest.members and latest.inc_of(m) == p.inc}
        # Quorum mode: who votes does not change with the leader (as in Raft
        # and Viewstamped Replication). Voters that gave no promise stay, to
        # be removed one view at a time like any silent or dead member, and
        # follow us once they hear our view (`Gms.follow`). A first view of
        # the promisers alone changed several voters at once, and its
        # majority and the old view's could miss each other: a second
        # candidate, promised by the voters left out and by one that had not
        # received that view yet, took over as if it never was (walk
        # quorum-five 1445). What they hold we do not know: the trim point,
        # which every member had delivered.
        kept = [m for m in latest.voters if m != g.me and m not in joined] \
            if g.config.quorum else []
        members = [g.me] + [m for m in latest.members if m != g.me and (m in joined or m in kept)]
        silent = [m for m in self.waiting_for(g) if m not in kept]
        # What any of them delivered, a majority held (quorum mode).
        g.commit = max([g.commit, g.stream.delivered] + [p.delivered for p in joined.values()])
        acked = {m: joined[m].delivered if m in joined else g.stream.trimmed for m in members[1:]}
        leader = Leader(g, acked=acked)
        g.become(leader)
        view = View(g.stream.received + 1, newest_id + 1, tuple(members),
                    tuple(latest.inc_of(m) for m in members),
                    tuple(m for m in latest.learners if m in members and m != g.me))
        g.stream.add(view)
        leader.latest = view
        for m in members[1:]:
            fill = tuple(g.stream.range(acked[m] + 1, view.seq))
            g.send(m, Broadcast(g.me, g.epoch, fill, view.seq, leader.stable, start=view.seq))
            p = leader.peers[m]
            p.sent_at, p.next_seq = g.now, view.seq + 1
        leader.expel_when_committed(g, {m: "did not answer the new leader in time"
                                        for m in silent})
        g.note(f"leading view {view.view_id} of {len(members)} (epoch {g.epoch})")
        if leader.quorum is not None:
            note_sequenced(leader.order, view)
            leader.view_seq = view.seq
            leader.advance_commit(g)
        g.deliver_ready()
        for msg in self.queue:
            if g.role is leader:
                leader.dispatch(g, msg)
        if g.role is leader:
            g.resend_outbox()
            if any(m in g.dead for m in kept):
                # Known dead: out one view at a time, by the usual proposals.
                leader.change_view(g, [m for m in members if m not in g.dead])
            if g.leaving:
                leader.start_leaving(g)

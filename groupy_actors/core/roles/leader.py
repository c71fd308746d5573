"""Leader: the sequencer. Numbers multicasts and view changes into the stream,
serves resends and state transfers, and (gms4) tracks who has what."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, ClassVar, Iterable, Optional

from ..clock import NEVER
from ..effects import TakeSnapshot
from ..events import Down, SnapshotReady, Tick
from ..member import Member
from ..messages import (Ack, Assent, Broadcast, Entry, Expelled, Inc, Join, JoinRefused,
                        Leave, Mcast, Msg, Nack, Promise, Propose, State, StateRequest, View)
from .base import Handler, Role
from .quorum import Quorum, majority

if TYPE_CHECKING:
    from ..gms import Gms


@dataclass(slots=True)
class _Snapshot:
    seq: int
    view: View
    table: tuple[tuple[Member, Inc, int], ...]
    after: Optional[str]
    to: list[Member] = field(default_factory=list)


class Leader(Role):
    name = "leader"
    LAST_WORD = 3   # unanswered sends beyond `inflight` kept for views, state, expulsion

    def __init__(self, g: "Gms", acked: Optional[dict[Member, int]] = None) -> None:
        self.acked: dict[Member, int] = dict(acked or {})   # delivered, per member
        self.progress: dict[Member, float] = {m: g.now for m in self.acked}
        self.heard: dict[Member, float] = {m: g.now for m in self.acked}
        self.sent: dict[Member, float] = {}
        # Ack-clocked sending (gms4): entries from next[m] on are not sent to
        # m yet; at most `inflight` broadcasts go out between two answers, the
        # rest wait and leave together. Thespian queues every send without
        # bound, and a peer that falls behind would otherwise stall us all.
        self.next: dict[Member, int] = {}
        self.expelling: set[Member] = set()
        # What m has not yet had of what we sent it. Thespian's TCP transport
        # sends one message at a time to each peer, each after the peer's
        # receipt of the one before: what we send faster waits in our
        # process, and a hung member holds all of it. So each send is
        # numbered (`n`), m's Ack says the highest number it has had
        # (`got`), and at most `inflight` (plus a few for views and state)
        # are outstanding; the entries meanwhile wait and leave together.
        # (Counting from the last Ack instead let the backlog grow without
        # bound under load: measured, 60 sends queued per member.)
        self.serial: dict[Member, int] = {}
        self.got: dict[Member, int] = {}
        # Quorum mode: what arrived at each member (its Acks' `held`), from
        # which `commit`. Since delivery lags sequencing (in quorum mode,
        # and within one batch of events), the table of what we have
        # sequenced (for duplicates and order), and where our last view went in.
        self.holds: dict[Member, int] = {}
        self.commit_sent: dict[Member, int] = {}
        self.order: dict[Member, tuple[Inc, int]] = sequenced_table(g)
        self.view_seq = 0
        # Sends to each member not yet acknowledged: n -> when. One the
        # member's later answers show it never had is taken for lost (see
        # `unanswered`): it no longer holds a place in the window (else a
        # lost tail would silence us for good); the member asks for what
        # it missed.
        self.unacked: dict[Member, dict[int, float]] = {}
        # Multicasts that came out of order or over the window, by sender
        # (only senders with some), in the order `release` serves them.
        self.parked: dict[Member, dict[int, Mcast]] = {}
        self.unpushed: dict[Member, None] = {}             # sent to at `settle` (in order)
        self.settling = False
        self.joins: dict[Member, Join] = {}     # asked while we were leaving
        self.to_expel: dict[Member, str] = {}   # told once the view without them commits
        # Where each member's current incarnation began (the view that
        # admitted or renewed it): sent again when it asks to be let in.
        self.admitted: dict[Member, int] = {}
        self.snapshots: dict[int, _Snapshot] = {}
        self.stable = 0
        self.quorum: Optional[Quorum] = Quorum() if g.config.quorum else None
        # Where our regime begins: the view we are about to install (the
        # founder's first, or the one a takeover puts after the history it
        # adopted). Every broadcast says so (see Gms.take_entries).
        self.start = g.stream.received + 1
        # The newest view we have sequenced, delivered or not: in quorum
        # mode the one that counts (a majority of it commits; as Raft uses
        # its latest configuration, committed or not).
        self.latest: Optional[View] = g.latest_view() if g.view is not None else None
        self.update_stable(g)

    # -- appending to the stream ---------------------------------------------

    def append(self, g: "Gms", e: Entry, to: Iterable[Member], later: bool = False) -> None:
        """Add `e` to the stream and send it to `to`; `later`: once the
        events that arrived with this one are handled (`settle`), so the
        multicasts of one actor message leave in one Broadcast rather than
        filling the send window with one each."""
        g.stream.add(e)
        if type(e) is View:
            self.latest = e
        if g.f.reliable:
            for m in to:
                self.next.setdefault(m, e.seq)
                if later:
                    self.unpushed[m] = None
                else:
                    self.push(g, m)
        else:
            self.broadcast(g, e, to)
        note_sequenced(self.order, e)
        if self.quorum is not None:
            self.advance_commit(g)
        if later:
            self.settling = True        # sent, then delivered here, in `settle`
        else:
            g.deliver_ready()

    def broadcast(self, g: "Gms", e: Entry, to: Iterable[Member]) -> None:
        b = Broadcast(g.me, g.epoch, (e,), g.stream.received, self.stable)
        for m in to:
            self.tell(g, m, b, spare=self.LAST_WORD)

    def resend(self, g: "Gms", entries: list[Entry], to: Iterable[Member]) -> None:
        """gms3: what we processed since the last view, to everyone, in one
        message each; they drop what they have."""
        b = Broadcast(g.me, g.epoch, tuple(entries), g.stream.received, self.stable)
        for m in to:
            g.send(m, b)

    def tell(self, g: "Gms", m: Member, msg: object, spare: int = 0) -> bool:
        """Send `m` a message, unless `inflight + spare` sends are under
        way to it (sent, not acknowledged, not yet taken for lost)."""
        if g.f.reliable:
            if self.unanswered(g, m) >= g.t.inflight + spare:
                return False
            n = self.serial[m] = self.serial.get(m, 0) + 1
            if type(msg) is Broadcast:
                msg = replace(msg, n=n, commit=g.commit, start=self.start)
                self.commit_sent[m] = g.commit
            elif type(msg) is Propose:
                msg = replace(msg, n=n)
            self.unacked.setdefault(m, {})[n] = g.now
        g.send(m, msg)
        self.sent[m] = g.now
        return True

    def push(self, g: "Gms", m: Member) -> bool:
        """Send `m` what it has not been sent, if the clock allows."""
        first, top = self.next.get(m, g.stream.received + 1), g.stream.received
        if first > top:
            return False
        last = min(top, first + g.t.resend_batch - 1)
        entries = tuple(g.stream.range(first, last))
        if not self.tell(g, m, Broadcast(g.me, g.epoch, entries, last, self.stable)):
            return False
        self.next[m] = last + 1
        return True

    def answered(self, g: "Gms", m: Member, got: Optional[int] = None) -> None:
        """`m` spoke; with `got`, it has had our sends up to that number."""
        self.heard[m] = g.now
        if got is not None:
            self.had(m, got)
        if not self.push(g, m) and self.quorum is not None \
                and self.commit_sent.get(m, 0) < g.commit:
            self.tell_commit(g, m)

    def tell_commit(self, g: "Gms", m: Member) -> None:
        self.tell(g, m, Broadcast(g.me, g.epoch, (), self.sent_top(g, m), self.stable))

    def sent_top(self, g: "Gms", m: Member) -> int:
        """The last entry sent to `m`: the `top` of our broadcasts to it.
        Not the last we hold: what waits here for room in its window is not
        missing there, and a member that asked for it (as it once did) had
        it resent on top of its queue, again and again under load."""
        return self.next.get(m, g.stream.received + 1) - 1

    def had(self, m: Member, got: int) -> None:
        got = self.got[m] = max(got, self.got.get(m, 0))
        flight = self.unacked.get(m)
        if flight:
            for n in [n for n in flight if n <= got]:
                del flight[n]

    def unanswered(self, g: "Gms", m: Member) -> int:
        """Sends to `m` that may still be under way: not acknowledged, and
        not older, by `lost_after`, than its latest word (a member that
        keeps answering without having had them, did not get them; one
        that went silent is sent nothing more until it answers)."""
        flight = self.unacked.get(m)
        if not flight:
            return 0
        cutoff = self.heard.get(m, NEVER) - g.t.lost_after
        for n in [n for n, t in flight.items() if t < cutoff]:
            del flight[n]
        return len(flight)

    def sequence(self, g: "Gms", mc: Mcast) -> None:
        self.append(g, Msg(g.stream.received + 1, self.canonical(g, mc.sender), mc.inc, mc.n,
                           mc.payload), self.others(g), later=True)

    def others(self, g: "Gms") -> list[Member]:
        """The members of our newest view but us."""
        latest = self.latest or g.view
        return [m for m in latest.members if m != g.me] if latest is not None else []

    def canonical(self, g: "Gms", m: Member) -> Member:
        """Our view's object for `m`: entries that share their sender's
        object pickle it once per Broadcast, not once per entry."""
        return g.view.member(m) if m in g.view.members else m

    def settle(self, g: "Gms") -> None:
        while self.settling:
            self.settling = False
            pending, self.unpushed = self.unpushed, {}
            ours = set(self.others(g))
            for m in pending:
                if m in ours:
                    self.push(g, m)
            g.deliver_ready()   # may sequence our own waiting multicasts: again

    def change_view(self, g: "Gms", members: Iterable[Member],
                    renew: Iterable[Member] = ()) -> None:
        """Make the next view `members`; those in `renew` get a new
        incarnation. In quorum mode this is a request: see `Quorum`."""
        members = tuple(members)
        if not members:
            return
        if self.quorum is not None:
            self.quorum.want(g, self, members, renew)
            return
        self.commit_view(g, members, renew)

    def commit_view(self, g: "Gms", members: tuple[Member, ...],
                    renew: Iterable[Member] = (), learners: tuple[Member, ...] = ()) -> None:
        """Sequence a view of `members` into the stream (`learners`: those
        of them that do not vote yet, in quorum mode)."""
        old = g.view
        vid = old.view_id + 1
        renew = set(renew)
        incs = tuple(old.inc_of(m) if m in old.members and m not in renew else (g.epoch, vid)
                     for m in members)
        view = View(g.stream.received + 1, vid, members, incs, learners)
        self.view_seq = view.seq
        if self.quorum is not None:
            # Delivered later (once a majority holds it): its newcomers are
            # ours from now on, or their answers would be taken for strangers'.
            for m, inc in zip(members, incs):
                if m != g.me and m not in old.members:
                    self.acked[m] = self.holds[m] = view.seq - 1
                    self.progress[m] = self.heard[m] = g.now
                if m != g.me and (m not in old.members or inc != old.inc_of(m)):
                    self.admitted[m] = view.seq
        gone = [m for m in old.members if m not in members and m not in g.dead]
        if g.f.reliable:
            self.broadcast(g, view, gone)   # their last word from us: not held back
            self.append(g, view, [m for m in members if m != g.me])
        else:
            self.append(g, view, [m for m in list(members) + gone if m != g.me])

    def remove(self, g: "Gms", reasons: dict[Member, str]) -> None:
        """Expel members that did not ask to go (they are told why)."""
        for m, why in reasons.items():
            if m not in self.expelling:     # (asked again each tick until a view commits)
                g.note(f"expelling {m}: {why}", logging.WARNING)
        self.expelling |= set(reasons)
        if self.quorum is not None:
            self.quorum.expel(g, self, reasons)
            return
        self.change_view(g, [m for m in g.view.members if m not in reasons])
        self.tell_expelled(g, reasons)

    def expel_when_committed(self, g: "Gms", reasons: dict[Member, str]) -> None:
        """Tell these members they are out once the view without them is
        delivered here: in quorum mode that is when a majority holds it. A
        member told sooner rejoins, giving up its history and its vote,
        and if the view never commits (its leader crashed first) the group
        may be left without the majority it needs."""
        if self.quorum is None:
            self.tell_expelled(g, reasons)
        else:
            self.to_expel.update(reasons)

    def tell_expelled(self, g: "Gms", reasons: dict[Member, str]) -> None:
        for m, why in reasons.items():
            self.tell(g, m, Expelled(g.me, g.epoch, (self.latest or g.view).view_id, why),
                      spare=self.LAST_WORD)

    # -- multicasts ------------------------------------------------------------

    def forward_mcast(self, g: "Gms", mc: Mcast) -> None:
        self.take(g, mc)

    def on_Mcast(self, g: "Gms", mc: Mcast) -> None:
        if mc.sender in self.heard:
            self.heard[mc.sender] = g.now
        self.take(g, mc)

    def take(self, g: "Gms", mc: Mcast) -> None:
        if self.not_ours(g, mc.sender):
            g.note(f"dropped a multicast from {mc.sender}: not in view {g.view.view_id}")
            return
        if not g.f.reliable:
            self.sequence(g, mc)
            return
        placed = self.last_of(g, mc.sender)
        if placed is None:
            return                      # a newcomer whose admission is not delivered here
        inc, last = placed
        if mc.inc != inc:
            g.note(f"dropped a multicast from an old incarnation of {mc.sender}")
            return
        if mc.n <= last:
            return                      # a retry of one already sequenced
        if mc.n > last + 1 or self.window_full(g):
            if mc.n - last <= 2 * g.t.sender_window:
                self.parked.setdefault(mc.sender, {})[mc.n] = mc
            return
        self.sequence(g, mc)
        self.release(g)

    def window_full(self, g: "Gms") -> bool:
        return g.stream.received - self.stable >= g.t.window

    def release(self, g: "Gms") -> None:
        """Sequence parked multicasts that are next in line, while there is room."""
        for sender in list(self.parked):
            pending = self.parked[sender]
            while not self.window_full(g) and self.last_of(g, sender) is not None:
                nxt = pending.pop(self.last_of(g, sender)[1] + 1, None)
                if nxt is None:
                    break
                self.sequence(g, nxt)
            placed = self.last_of(g, sender)
            last = placed[1] if placed is not None else float("inf")
            for n in [n for n in pending if n <= last]:
                del pending[n]
            if not pending:
                del self.parked[sender]

    # -- membership ------------------------------------------------------------

    def on_Join(self, g: "Gms", j: Join) -> None:
        who = j.joiner
        latest = self.latest or g.view
        if who in latest.members:
            ours = latest.member(who)
            if ours.contact != who.contact:
                g.send(who, JoinRefused(g.me, f"the name {who.name!r} is taken in this group"))
            elif j.inc == latest.inc_of(who) and who in g.view.members:
                # It believes it lost its place (or this is an old copy of
                # such a Join): a new incarnation. A member that was in fact
                # still here numbers its undelivered multicasts afresh under
                # it (Gms.renumber), so none is lost.
                self.change_view(g, g.view.members, renew=(who,))
            else:
                self.resend_admission(g, who, latest)
            return
        if g.leaving:
            self.joins[who] = j         # for the next leader (see `last_word`)
            return
        self.change_view(g, g.view.members + (who,))

    def resend_admission(self, g: "Gms", who: Member, latest: View) -> None:
        """A Join from a member under an incarnation it no longer has: either
        it missed the view admitting it (then it has acknowledged nothing
        since, so we keep the stream from that view), or the Join is an old
        copy. Either way, send the stream again from that view: the Join
        says that nothing we sent it since has arrived, so its send window
        is free (counting those sends as outstanding starved the resend
        when they were lost)."""
        first = self.admitted.get(who, self.acked.get(who, 0) + 1)
        if self.acked.get(who, 0) >= first:
            return                      # it acknowledged its admission: an old copy
        admission = g.stream.get(first)
        if isinstance(admission, View) and who in admission.members \
                and admission.inc_of(who) == latest.inc_of(who):
            self.unacked.pop(who, None)
            self.got[who] = self.serial.get(who, 0)
            self.next[who] = first
            self.push(g, who)

    def on_Leave(self, g: "Gms", lv: Leave) -> None:
        if lv.src in g.view.members and lv.src != g.me:
            self.change_view(g, [m for m in g.view.members if m != lv.src])

    def on_Down(self, g: "Gms", d: Down) -> None:
        if not g.f.watch:
            return                      # gms1 has no failure handling
        g.dead.add(d.member)
        if d.member in g.view.members and d.member != g.me:
            self.change_view(g, [m for m in g.view.members if m not in g.dead])

    def last_word(self, g: "Gms", new: View) -> None:
        """We leave: the view without us is delivered here. Tell those who
        stay everything they have not been sent, with the commit point (in
        quorum mode they deliver our last view only once they learn it,
        and a member that never did re-ran takeovers for ever), and hand
        the Joins that came meanwhile to the next leader."""
        if g.f.reliable:
            for m in new.members:
                first = self.next.get(m, g.stream.received + 1)
                entries = tuple(g.stream.range(first, g.stream.received))
                g.send(m, Broadcast(g.me, g.epoch, entries, g.stream.received, self.stable,
                                    commit=g.commit, start=self.start))
        for j in self.joins.values():
            g.send(new.leader, j)

    def start_leaving(self, g: "Gms") -> None:
        if g.f.reliable and g.outbox:
            return                      # our own multicasts first (see on_Tick)
        others = g.others()
        if not others:
            g.stop("left the group")
            return
        # The first member of the next view takes over: one that has shown
        # it is in (acknowledged its admission), not a newcomer whose
        # admission may not have reached it: named leader while still
        # joining, it led nobody and the group stalled (test kit, seed 7).
        if g.f.reliable:
            shown = [m for m in others if self.acked.get(m, -1) >= self.admitted.get(m, 0)]
            if shown and shown[0] != others[0]:
                others = [shown[0]] + [m for m in others if m != shown[0]]
        self.change_view(g, others)

    def on_view(self, g: "Gms", old: Optional[View], new: View) -> None:
        if g.me not in new.members:
            self.last_word(g, new)
            g.stop("left the group")
            return
        others = g.others()
        for m in others:
            if m not in self.acked:             # a newcomer: its state stands for the rest
                self.acked[m] = new.seq - 1
                self.next[m] = max(self.next.get(m, new.seq), new.seq)
                self.progress[m] = self.heard[m] = g.now
                self.unacked.pop(m, None)       # (it counts our sends afresh)
                self.holds[m] = new.seq - 1
            if m not in self.acked or old is None or m not in old.members \
                    or old.inc_of(m) != new.inc_of(m):
                self.admitted[m] = new.seq
                self.parked.pop(m, None)        # multicasts of the old life
            # A member renewed in place keeps its place in the stream: the
            # renewal may come from an old Join of a member that is fine
            # and still needs every entry since what it acknowledged. One
            # that had truly lost its place asks for its admission again.
        for m in [m for m in self.acked if m not in new.members]:
            for table in (self.acked, self.progress, self.heard, self.sent, self.parked,
                          self.next, self.unacked, self.serial, self.got, self.holds,
                          self.commit_sent, self.admitted):
                table.pop(m, None)
        g.watch_only(others)
        self.expelling &= set(new.members)
        gone = {m: why for m, why in self.to_expel.items() if m not in new.members}
        self.to_expel = {m: why for m, why in self.to_expel.items() if m in new.members}
        if gone and g.role is self:
            self.tell_expelled(g, gone)
        self.update_stable(g)
        added = [m for m in others if old is None or m not in old.members
                 or old.inc_of(m) != new.inc_of(m)]
        if g.f.reliable and added:
            self.snapshot_for(g, added)
        if self.quorum is not None and g.role is self and g.stopped is None:
            self.quorum.propose(g, self)        # the next change, if one waits

    # -- reliability (gms4) ------------------------------------------------------

    def not_ours(self, g: "Gms", who: Member) -> bool:
        """Traffic from a non-member: tell it, so it joins again."""
        if who in self.acked or who == g.me:
            return False
        if g.f.watch:
            # (gms2/gms3 too: a member a crashed leader admitted in a view
            # that never reached its successor follows it unknown otherwise.)
            g.send(who, Expelled(g.me, g.epoch, g.view.view_id, f"not a member of view {g.view.view_id}"))
        return True

    def advance_commit(self, g: "Gms") -> None:
        """Quorum mode: deliver what a majority of our newest view holds."""
        latest = self.latest or g.view
        members = latest.voters if latest is not None else (g.me,)    # founding
        holds = sorted([g.stream.received] + [self.holds.get(m, self.acked.get(m, 0))
                                              for m in members if m != g.me], reverse=True)
        commit = holds[min(majority(len(members)), len(holds)) - 1]
        if commit > g.commit:
            g.commit = commit
            g.deliver_ready()
            if g.role is not self:
                return
            # Members learn it with our next send: one with none under way
            # now, the others when they answer (an idle group's last entries
            # would wait for the heartbeat otherwise).
            for m in self.others(g):
                if self.commit_sent.get(m, 0) < g.commit and not self.unanswered(g, m) \
                        and not self.push(g, m):
                    self.tell_commit(g, m)

    def last_of(self, g: "Gms", sender: Member) -> Optional[tuple[Inc, int]]:
        """The incarnation and last number we sequenced of `sender`."""
        return self.order.get(sender)

    def on_Ack(self, g: "Gms", a: Ack) -> None:
        if self.not_ours(g, a.src) or a.epoch != g.epoch:
            return
        if self.quorum is not None and a.ready and g.view is not None \
                and a.src in g.view.learners and a.delivered >= self.admitted.get(a.src, 0):
            # (An Ack that has not got as far as the learner's admission is
            # from an earlier life of that member: its `ready` says nothing.)
            self.quorum.promote(g, self, a.src)
        if self.quorum is not None and a.held > self.holds.get(a.src, 0):
            self.had(a.src, a.got)
            self.holds[a.src] = a.held
            self.advance_commit(g)
            if g.role is not self or a.src not in self.acked:
                return                  # what that delivered ended our lead, or its place
        if a.delivered > self.acked[a.src]:
            self.acked[a.src] = min(a.delivered, g.stream.received)
            # What it has (from a resend, say) need not go out to it again.
            self.next[a.src] = max(self.next.get(a.src, 0), self.acked[a.src] + 1)
            self.progress[a.src] = g.now
            self.update_stable(g)
            self.release(g)
        self.answered(g, a.src, a.got)

    def update_stable(self, g: "Gms") -> None:
        if g.f.reliable:                # without acks nothing is known stable
            self.stable = min([g.stream.delivered, *self.acked.values()])
            g.stream.trim(self.stable)

    def on_Nack(self, g: "Gms", n: Nack) -> None:
        if self.not_ours(g, n.src) or n.epoch != g.epoch:
            return
        self.heard[n.src] = g.now
        # Thespian may hand us a Nack after a later Ack (colliding sends are
        # retried out of order): what it has acknowledged since, it has.
        first = max(n.first, self.acked[n.src] + 1)
        if first <= n.last:
            entries = g.stream.range(first, min(n.last, first + g.t.resend_batch - 1))
            if entries:
                top = max(self.sent_top(g, n.src), entries[-1].seq)
                if self.tell(g, n.src, Broadcast(g.me, g.epoch, tuple(entries), top, self.stable),
                             spare=self.LAST_WORD):
                    g.stats["resent"] += len(entries)
                    self.next[n.src] = max(self.next.get(n.src, 0), entries[-1].seq + 1)
            elif first <= g.stream.trimmed:
                self.remove(g, {n.src: "asked for entries the group no longer keeps"})
                return
        self.push(g, n.src)

    def on_StateRequest(self, g: "Gms", r: StateRequest) -> None:
        if not self.not_ours(g, r.src):
            self.answered(g, r.src)
            self.snapshot_for(g, [r.src])

    def snapshot_for(self, g: "Gms", members: list[Member]) -> None:
        d = g.stream.delivered
        pending = next((s for s in self.snapshots.values() if s.seq == d), None)
        if pending is None:
            g.snap_token += 1
            pending = self.snapshots[g.snap_token] = _Snapshot(
                d, g.view, tuple((m, inc, n) for m, (inc, n) in g.table.items()), g.last_item)
            g.out.append(TakeSnapshot(g.snap_token))
        pending.to.extend(m for m in members if m not in pending.to)

    def on_SnapshotReady(self, g: "Gms", s: SnapshotReady) -> None:
        snap = self.snapshots.pop(s.token, None)
        if snap is None:
            return
        unstable = tuple(g.stream.range(g.stream.trimmed + 1, snap.seq))
        for m in snap.to:
            if m in self.acked:
                # Never held back: one per admission or request, and without
                # it the member is of no use.
                g.send(m, State(g.me, g.epoch, snap.seq, snap.view, s.data, snap.table,
                                snap.after, unstable))

    def on_Tick(self, g: "Gms", _) -> None:
        if g.leaving:
            self.start_leaving(g)
            if g.stopped is not None or g.role is not self:
                return
        if not g.f.reliable:
            return
        if g.late:
            for m in self.heard:
                self.heard[m] = g.now
        top = g.stream.received
        for m in g.others():
            # A heartbeat, to a member that has answered lately: a live one
            # answers every heartbeat (its keep-alive Ack), lost answers
            # included, so one that stopped is sent nothing more.
            if g.now - self.sent.get(m, NEVER) >= g.t.heartbeat and not self.push(g, m):
                self.tell(g, m, Broadcast(g.me, g.epoch, (), self.sent_top(g, m), self.stable),
                          spare=1)
        out: dict[Member, str] = {}
        for m, acked in self.acked.items():
            if acked >= top:
                self.progress[m] = g.now
            if g.now - self.heard[m] > g.t.suspect_after:
                out[m] = f"silent for {g.t.suspect_after:g}s"
            elif top - acked > g.t.max_lag or g.now - self.progress[m] > g.t.ack_timeout:
                out[m] = "fell too far behind"
        if out:
            self.remove(g, out)
        if self.quorum is not None and g.role is self:
            self.quorum.tick(g, self)
        if g.role is self:
            self.release(g)

    def on_Assent(self, g: "Gms", a: Assent) -> None:
        if self.quorum is not None and a.epoch == g.epoch:
            self.quorum.assent(g, self, a)
        if a.src in self.heard and g.role is self:
            self.answered(g, a.src, a.got)

    def on_Broadcast(self, g: "Gms", b: Broadcast) -> None:
        if b.epoch < g.epoch:
            g.accept_broadcast(b)       # answers with a Reject
        else:
            g.note(f"leader got a broadcast from {b.src} (epoch {b.epoch})", logging.WARNING)

    HANDLERS: ClassVar[dict[type, Handler]] = {
        **Role.HANDLERS,
        Mcast: on_Mcast,
        Join: on_Join,
        Leave: on_Leave,
        Down: on_Down,
        Ack: on_Ack,
        Nack: on_Nack,
        StateRequest: on_StateRequest,
        SnapshotReady: on_SnapshotReady,
        Tick: on_Tick,
        Assent: on_Assent,
        Broadcast: on_Broadcast,
    }
    IGNORES = frozenset({JoinRefused, Promise, State})


def note_sequenced(order: dict[Member, tuple[Inc, int]], e: Entry) -> None:
    if isinstance(e, View):
        for m in [m for m in order if m not in e.members]:
            del order[m]
        for m, inc in zip(e.members, e.incs):
            if order.get(m, (None, 0))[0] != inc:
                order[m] = (inc, 0)
    else:
        order[e.sender] = (e.inc, e.n)


def sequenced_table(g: "Gms") -> dict[Member, tuple[Inc, int]]:
    """The table as of everything in our stream, delivered or not."""
    order = dict(g.table)
    for s in range(g.stream.delivered + 1, g.stream.received + 1):
        e = g.stream.get(s)
        if e is not None:
            note_sequenced(order, e)
    return order

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
from .peer import PeerRecord
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
        # One record per member of our views (`acked`: what the members a
        # takeover starts with have delivered). A member leaving takes its
        # record with it (`forget`).
        #
        # Ack-clocked sending (gms4): entries from a member's `next_seq` on
        # are not sent to it yet; at most `inflight` broadcasts go out
        # between two answers, the rest wait and leave together. Thespian
        # queues every send without bound, and a peer that falls behind
        # would otherwise stall us all. Its TCP transport sends one message
        # at a time to each peer, each after the peer's receipt of the one
        # before: what we send faster waits in our process, and a hung
        # member holds all of it. So each send is numbered (`serial`), the
        # member's Ack says the highest number it has had (`got`), and at
        # most `inflight` (plus a few for views and state) are outstanding.
        # (Counting from the last Ack instead let the backlog grow without
        # bound under load: measured, 60 sends queued per member.) A send
        # the member's later answers show it never had is taken for lost
        # (see `unanswered`): it no longer holds a place in the window (else
        # a lost tail would silence us for good); the member asks for what
        # it missed.
        self.peers: dict[Member, PeerRecord] = {
            m: PeerRecord(acked=n, heard_at=g.now, progress_at=g.now)
            for m, n in (acked or {}).items()}
        # The send windows of those we send to that are not members (yet,
        # or any more): a newcomer while the view admitting it is
        # sequenced, a member told it is out, a survivor a takeover left
        # out. A member that comes back goes on from its window. (Nothing
        # trims them: each member put out for good leaves its window here.)
        self.outsiders: dict[Member, PeerRecord] = {}
        # Since delivery lags sequencing (in quorum mode, and within one
        # batch of events), the table of what we have sequenced (for
        # duplicates and order), and where our last view went in.
        self.order: dict[Member, tuple[Inc, int]] = sequenced_table(g)
        self.view_seq = 0
        # Multicasts that came out of order or over the window, by sender
        # (only senders with some), in the order `release` serves them.
        self.parked: dict[Member, dict[int, Mcast]] = {}
        self.unpushed: dict[Member, None] = {}             # sent to at `settle` (in order)
        self.settling = False
        self.joins: dict[Member, Join] = {}     # asked while we were leaving
        self.to_expel: dict[Member, str] = {}   # told once the view without them commits
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
                p = self.record(m)
                if not p.next_seq:
                    p.next_seq = e.seq
                if later:
                    self.unpushed[m] = None
                else:
                    self.push(g, m, p)
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

    def tell(self, g: "Gms", m: Member, msg: object, spare: int = 0,
             p: Optional[PeerRecord] = None) -> bool:
        """Send `m` (whose record `p` is, if the caller has it) a message,
        unless `inflight + spare` sends are under way to it (sent, not
        acknowledged, not yet taken for lost)."""
        if p is None:
            p = self.record(m)
        if g.f.reliable:
            if self.unanswered(g, p) >= g.t.inflight + spare:
                return False
            n = p.serial = p.serial + 1
            if type(msg) is Broadcast:
                msg = replace(msg, n=n, commit=g.commit, start=self.start)
                p.commit_sent = g.commit
            elif type(msg) is Propose:
                msg = replace(msg, n=n)
            p.unacked[n] = g.now
        g.send(m, msg)
        p.sent_at = g.now
        return True

    def push(self, g: "Gms", m: Member, p: Optional[PeerRecord] = None) -> bool:
        """Send `m` what it has not been sent, if the clock allows."""
        if p is None:
            p = self.record(m)
        first, top = p.next_seq or g.stream.received + 1, g.stream.received
        if first > top:
            return False
        last = min(top, first + g.t.resend_batch - 1)
        entries = tuple(g.stream.range(first, last))
        if not self.tell(g, m, Broadcast(g.me, g.epoch, entries, last, self.stable), p=p):
            return False
        p.next_seq = last + 1
        return True

    def answered(self, g: "Gms", m: Member, got: Optional[int] = None) -> None:
        """Member `m` spoke; with `got`, it has had our sends up to that number."""
        p = self.peers[m]
        p.heard_at = g.now
        if got is not None:
            self.had(p, got)
        if not self.push(g, m, p) and self.quorum is not None and p.commit_sent < g.commit:
            self.tell_commit(g, m, p)

    def tell_commit(self, g: "Gms", m: Member, p: PeerRecord) -> None:
        self.tell(g, m, Broadcast(g.me, g.epoch, (), self.sent_top(g, p), self.stable), p=p)

    def sent_top(self, g: "Gms", p: PeerRecord) -> int:
        """The last entry sent to the peer of `p`: the `top` of our
        broadcasts to it. Not the last we hold: what waits here for room in
        its window is not missing there, and a member that asked for it (as
        it once did) had it resent on top of its queue, again and again
        under load."""
        return (p.next_seq or g.stream.received + 1) - 1

    def had(self, p: PeerRecord, got: int) -> None:
        got = p.got = max(got, p.got)
        flight = p.unacked
        if flight:
            for n in [n for n in flight if n <= got]:
                del flight[n]

    def unanswered(self, g: "Gms", p: PeerRecord) -> int:
        """Sends to the peer of `p` that may still be under way: not
        acknowledged, and not older, by `lost_after`, than its latest word
        (a member that keeps answering without having had them, did not
        get them; one that went silent is sent nothing more until it
        answers)."""
        flight = p.unacked
        if not flight:
            return 0
        cutoff = p.heard_at - g.t.lost_after
        for n in [n for n, t in flight.items() if t < cutoff]:
            del flight[n]
        return len(flight)

    # -- the records -------------------------------------------------------------

    def record(self, m: Member) -> PeerRecord:
        """What we keep about `m`: its record if it is a member, else its
        send window as an outsider (made on first use)."""
        p = self.peers.get(m)
        if p is None:
            p = self.outsiders.get(m)
            if p is None:
                p = self.outsiders[m] = PeerRecord()
        return p

    def admit(self, m: Member) -> PeerRecord:
        """A record for newcomer `m`, which keeps the send window it had as
        an outsider; last in `peers`, as it came last."""
        p = self.outsiders.pop(m, None)
        if p is None:
            p = PeerRecord()
        self.peers[m] = p
        return p

    def forget(self, m: Member) -> None:
        """Member `m` left our views: nothing of it stays."""
        del self.peers[m]
        self.parked.pop(m, None)

    def heard_from(self, m: Member) -> float:
        """When member `m` last spoke to us (NEVER for a non-member)."""
        p = self.peers.get(m)
        return p.heard_at if p is not None else NEVER

    def check_peers(self, g: "Gms") -> Optional[str]:
        """What breaks the invariants of the records (see PeerRecord) or
        between them and our views, between events; None if nothing."""
        room, commit, top = g.t.inflight + self.LAST_WORD, g.commit, g.stream.received
        for m, p in self.peers.items():
            problem = p.check(top, room, commit, self.quorum is not None)
            if problem is None and p.admitted is not None:
                admission = g.stream.get(p.admitted)
                if p.admitted > top or admission is not None and (
                        type(admission) is not View or m not in admission.members):
                    problem = f"admitted at {p.admitted}, not a view admitting it"
            if problem is not None:
                return f"peer {m.name}: {problem}"
        for m, p in self.outsiders.items():
            problem = p.check_window(room, commit) if m not in self.peers else "also a member"
            if problem is not None:
                return f"outsider {m.name}: {problem}"
        latest = self.latest or g.view     # (between events a leader has a view)
        members = {m for m in latest.members if m != g.me}
        missing = members - self.peers.keys()
        if missing:
            return f"members without a record: {sorted(m.name for m in missing)}"
        strays = self.peers.keys() - members - set(g.view.members)
        if strays:
            return f"records of non-members: {sorted(m.name for m in strays)}"
        if any(not pending or (m not in self.peers and m != g.me)
               for m, pending in self.parked.items()):
            return "multicasts parked for a non-member, or an empty entry"
        if self.unpushed:
            return "pushes left over from the last event"
        return None

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
                    p = self.peers.get(m) or self.admit(m)
                    p.acked = p.received = view.seq - 1
                    p.progress_at = p.heard_at = g.now
                if m != g.me and (m not in old.members or inc != old.inc_of(m)):
                    self.peers[m].admitted = view.seq
        gone = [m for m in old.members if m not in members and m not in g.dead]
        if g.f.reliable:
            self.broadcast(g, view, gone)   # their last word from us: not held back
            self.append(g, view, [m for m in members if m != g.me])
        else:
            self.append(g, view, [m for m in list(members) + gone if m != g.me])

    def remove(self, g: "Gms", reasons: dict[Member, str]) -> None:
        """Expel members that did not ask to go (they are told why)."""
        for m, why in reasons.items():
            p = self.peers[m]
            if not p.expelling:             # (asked again each tick until a view commits)
                g.note(f"expelling {m}: {why}", logging.WARNING)
                p.expelling = True
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
        p = self.peers.get(mc.sender)
        if p is not None:
            p.heard_at = g.now
        self.take(g, mc)

    def take(self, g: "Gms", mc: Mcast) -> None:
        if self.not_ours(g, mc.sender):
            g.note(f"dropped a multicast from {mc.sender}: not in view {g.view.view_id}")
            return
        if not g.f.reliable:
            self.sequence(g, mc)
            return
        placed = self.last_of(mc.sender)
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
                pending = self.parked.get(mc.sender)
                if pending is None:
                    pending = self.parked[mc.sender] = {}
                pending[mc.n] = mc
            return
        self.sequence(g, mc)
        self.release(g)

    def window_full(self, g: "Gms") -> bool:
        return g.stream.received - self.stable >= g.t.window

    def release(self, g: "Gms") -> None:
        """Sequence parked multicasts that are next in line, while there is room."""
        for sender in list(self.parked):
            pending = self.parked[sender]
            while not self.window_full(g) and (placed := self.last_of(sender)) is not None:
                nxt = pending.pop(placed[1] + 1, None)
                if nxt is None or nxt.inc != placed[0]:
                    break
                self.sequence(g, nxt)
            # Gone: what is placed already, and what was parked under an
            # incarnation a view sequenced since has replaced. (Released
            # after that view, an old life's multicasts followed its
            # renewal, and the member sent them again under the new one:
            # delivered twice. In quorum mode the view is delivered, and
            # `on_view` drops them, only once a majority holds it.)
            placed = self.last_of(sender)
            for n in [n for n, mc in pending.items()
                      if placed is None or n <= placed[1] or mc.inc != placed[0]]:
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
        p = self.record(who)
        first = p.admitted if p.admitted is not None else p.acked + 1
        if p.acked >= first:
            return                      # it acknowledged its admission: an old copy
        admission = g.stream.get(first)
        if isinstance(admission, View) and who in admission.members \
                and admission.inc_of(who) == latest.inc_of(who):
            p.unacked.clear()
            p.got = p.serial
            p.next_seq = first
            self.push(g, who, p)

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
                first = self.record(m).next_seq or g.stream.received + 1
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
            shown = [m for m in others if (p := self.peers.get(m)) is not None
                     and p.acked >= (p.admitted or 0)]
            if shown and shown[0] != others[0]:
                others = [shown[0]] + [m for m in others if m != shown[0]]
        self.change_view(g, others)

    def on_view(self, g: "Gms", old: Optional[View], new: View) -> None:
        if g.me not in new.members:
            self.last_word(g, new)
            g.stop("left the group")
            return
        others = g.others()
        # Records follow the newest view we sequenced, not this one: after a
        # takeover (and in quorum mode, where delivery waits for a
        # majority) older views are delivered behind newer ones, and one
        # without a member the newest admits forgot that member's record.
        newest = self.latest if self.latest is not None and self.latest.seq > new.seq else new
        for m in others:
            if m not in newest.members:
                continue                        # a later view removed it
            p = self.peers.get(m)
            if p is None:                       # a newcomer: its state stands for the rest
                p = self.admit(m)
                p.acked = p.received = new.seq - 1
                p.next_seq = max(p.next_seq, new.seq)
                p.progress_at = p.heard_at = g.now
                p.unacked.clear()               # (it counts our sends afresh)
            if old is None or m not in old.members or old.inc_of(m) != new.inc_of(m):
                p.admitted = new.seq
                self.parked.pop(m, None)        # multicasts of the old life
            # A member renewed in place keeps its place in the stream: the
            # renewal may come from an old Join of a member that is fine
            # and still needs every entry since what it acknowledged. One
            # that had truly lost its place asks for its admission again.
        for m in [m for m in self.peers if m not in new.members and m not in newest.members]:
            self.forget(m)
        g.watch_only(others)
        gone = {m: why for m, why in self.to_expel.items() if m not in new.members}
        self.to_expel = {m: why for m, why in self.to_expel.items() if m in new.members}
        if gone and g.role is self:
            self.tell_expelled(g, gone)
        self.update_stable(g)
        added = [m for m in others if m in newest.members and (
            old is None or m not in old.members or old.inc_of(m) != new.inc_of(m))]
        if g.f.reliable and added:
            self.snapshot_for(g, added)
        if self.quorum is not None and g.role is self and g.stopped is None:
            self.quorum.propose(g, self)        # the next change, if one waits

    # -- reliability (gms4) ------------------------------------------------------

    def not_ours(self, g: "Gms", who: Member) -> bool:
        """Traffic from a non-member: tell it, so it joins again."""
        if who in self.peers or who == g.me:
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
        # Our own stream counts only while we vote: a leader that is leaving
        # is not in its last view, and counting itself delivered that view
        # with no member of it holding it (it stopped; the one left halted
        # for ever, short of a majority of the view before).
        peers = self.peers
        holds = sorted([p.acked if (p := peers[m]).received is None else p.received
                        for m in members if m != g.me]
                       + ([g.stream.received] if g.me in members else []), reverse=True)
        if len(holds) < majority(len(members)):
            return
        commit = holds[majority(len(members)) - 1]
        if commit > g.commit:
            g.commit = commit
            g.deliver_ready()
            if g.role is not self:
                return
            # Members learn it with our next send: one with none under way
            # now, the others when they answer (an idle group's last entries
            # would wait for the heartbeat otherwise).
            for m in self.others(g):
                p = self.peers[m]
                if p.commit_sent < g.commit and not self.unanswered(g, p) \
                        and not self.push(g, m, p):
                    self.tell_commit(g, m, p)

    def last_of(self, sender: Member) -> Optional[tuple[Inc, int]]:
        """The incarnation and last number we sequenced of `sender`."""
        return self.order.get(sender)

    def on_Ack(self, g: "Gms", a: Ack) -> None:
        if self.not_ours(g, a.src) or a.epoch != g.epoch or not g.f.reliable:
            return      # (classic levels: a member that follows us says so; see slave.greet)
        if self.quorum is not None:
            if a.ready and g.view is not None and a.src in g.view.learners \
                    and a.delivered >= (self.peers[a.src].admitted or 0):
                # (An Ack that has not got as far as the learner's admission
                # is from an earlier life of that member: its `ready` says nothing.)
                self.quorum.promote(g, self, a.src)
            p = self.record(a.src)      # (a view that promotion committed may drop it)
            if a.held > (p.received or 0):
                self.had(p, a.got)
                p.received = a.held
                self.advance_commit(g)
                if g.role is not self or a.src not in self.peers:
                    return              # what that delivered ended our lead, or its place
        p = self.peers[a.src]
        if a.delivered > p.acked:
            p.acked = min(a.delivered, g.stream.received)
            # What it has (from a resend, say) need not go out to it again.
            p.next_seq = max(p.next_seq, p.acked + 1)
            p.progress_at = g.now
            self.update_stable(g)
            self.release(g)
        self.answered(g, a.src, a.got)

    def update_stable(self, g: "Gms") -> None:
        if g.f.reliable:                # without acks nothing is known stable
            self.stable = min([g.stream.delivered] + [p.acked for p in self.peers.values()])
            g.stream.trim(self.stable)

    def on_Nack(self, g: "Gms", n: Nack) -> None:
        if self.not_ours(g, n.src) or n.epoch != g.epoch:
            return
        p = self.peers[n.src]
        p.heard_at = g.now
        # Thespian may hand us a Nack after a later Ack (colliding sends are
        # retried out of order): what it has acknowledged since, it has.
        first = max(n.first, p.acked + 1)
        if first <= n.last:
            entries = g.stream.range(first, min(n.last, first + g.t.resend_batch - 1))
            if entries:
                top = max(self.sent_top(g, p), entries[-1].seq)
                if self.tell(g, n.src, Broadcast(g.me, g.epoch, tuple(entries), top, self.stable),
                             spare=self.LAST_WORD, p=p):
                    g.stats["resent"] += len(entries)
                    p.next_seq = max(p.next_seq, entries[-1].seq + 1)
            elif first <= g.stream.trimmed:
                self.remove(g, {n.src: "asked for entries the group no longer keeps"})
                return
        self.push(g, n.src, p)

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
            if m in self.peers:
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
            for p in self.peers.values():
                p.heard_at = g.now
        top = g.stream.received
        for m in g.others():
            # A heartbeat, to a member that has answered lately: a live one
            # answers every heartbeat (its keep-alive Ack), lost answers
            # included, so one that stopped is sent nothing more. (After a
            # takeover, until its view is in, our view may still name
            # survivors it left out: outsiders.)
            p = self.record(m)
            if g.now - p.sent_at >= g.t.heartbeat and not self.push(g, m, p):
                self.tell(g, m, Broadcast(g.me, g.epoch, (), self.sent_top(g, p), self.stable),
                          spare=1, p=p)
        out: dict[Member, str] = {}
        for m, p in self.peers.items():
            acked = p.acked
            if acked >= top:
                p.progress_at = g.now
            if g.now - p.heard_at > g.t.suspect_after:
                out[m] = f"silent for {g.t.suspect_after:g}s"
            elif top - acked > g.t.max_lag or g.now - p.progress_at > g.t.ack_timeout:
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
        if a.src in self.peers and g.role is self:
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

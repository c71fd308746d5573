"""Majority views at the leader (quorum mode): propose, assent, commit.

Birman's GMP with Raft's single-change rule. A wanted membership change is
not sequenced at once: the leader proposes the next view to the members of
the current one, and the view enters the stream only when a majority of the
current view (the leader included) has assented. Each proposal changes at
most one member, so a majority of a view and a majority of the next always
share a member; a takeover, which needs promises from a majority of the
newest view it knows, then cannot miss a view that was committed.

A leader that cannot reach a majority (silence longer than `suspect_after`,
or a proposal nobody answers) halts and rejoins instead of leading a
minority, so a partition leaves at most one side delivering.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable, Optional

from ..clock import NEVER
from ..member import Member
from ..messages import Assent, Propose, View

if TYPE_CHECKING:
    from ..gms import Gms
    from .leader import Leader


def majority(n: int) -> int:
    return n // 2 + 1


@dataclass(slots=True)
class _Proposal:
    view_id: int
    members: tuple[Member, ...]
    renew: tuple[Member, ...]
    learners: tuple[Member, ...]
    at: float
    assents: set[Member] = field(default_factory=set)
    asked: float = NEVER


class Quorum:
    def __init__(self) -> None:
        self.adds: dict[Member, None] = {}          # wanted in, in order of asking
        self.drops: dict[Member, Optional[str]] = {}  # wanted out (why, if expelled)
        self.renews: dict[Member, None] = {}        # wanted in a new incarnation
        self.promotes: dict[Member, None] = {}      # learners that hold the state
        self.proposal: Optional[_Proposal] = None

    # -- requests ----------------------------------------------------------------

    def want(self, g: "Gms", leader: "Leader", members: tuple[Member, ...],
             renew: Iterable[Member]) -> None:
        """Note the difference between `members` and the current view; the
        callers compute `members` from the current view, so requests made
        while a proposal is out merge rather than overwrite each other."""
        old = g.view.members
        for m in members:
            if m not in old:
                self.adds[m] = None
                self.drops.pop(m, None)
        for m in old:
            if m not in members:
                self.drops.setdefault(m, None)
        for m in renew:
            self.renews[m] = None
            self.drops.pop(m, None)
        self.propose(g, leader)

    def promote(self, g: "Gms", leader: "Leader", m: Member) -> None:
        """Learner `m` holds the group's state: let it vote."""
        if m in g.view.learners and m not in self.promotes:
            self.promotes[m] = None
            self.propose(g, leader)

    def expel(self, g: "Gms", leader: "Leader", reasons: dict[Member, str]) -> None:
        for m, why in reasons.items():
            if m in g.view.members and self.drops.get(m) is None:
                self.drops[m] = why
                self.adds.pop(m, None)
                self.renews.pop(m, None)
        self.propose(g, leader)

    # -- the proposal ------------------------------------------------------------

    def next_change(self, g: "Gms") -> tuple[tuple[Member, ...], tuple[Member, ...],
                                             tuple[Member, ...]]:
        """The next view (members, renewed, learners). The voters change by
        one at most (Raft's single-server rule), so a majority of a view and
        a majority of the next always share a member: a voter out, else a
        voter renewed (a new incarnation starts again without the state:
        a learner), else a learner that holds the state promoted. Learners
        do not vote, so any number of them come and go along: newcomers in
        (as learners), learners out or renewed. A leader that is the only
        voter does not leave until another voter exists: a view of learners
        alone could never commit anything again."""
        old = g.view
        voters = old.voters
        out = next((m for m in voters if m in self.drops
                    and (m != old.leader or len(voters) > 1)), None)
        again = next((m for m in self.renews if m in voters and m != old.leader), None)
        up = next((m for m in self.promotes if m in old.learners), None)
        change = out if out is not None else again if again is not None else up
        gone = {m for m in old.learners if m in self.drops}
        if change is not None and change is out:
            gone.add(out)
        members = tuple(m for m in old.members if m not in gone)
        members += tuple(m for m in self.adds if m not in old.members)
        renew = tuple(m for m in self.renews if m in members and m in old.members
                      and (m in old.learners or m == change))
        # Only the one change votes anew: a learner waiting to be promoted
        # stays a learner while a voter leaves (promoted together, the old
        # view's voters and the new one's had disjoint majorities: two
        # regimes went on side by side after a cut; seed 329, 4 members).
        promoted = up if change is up else None
        learners = tuple(m for m in members if (m in old.learners and m != promoted)
                         or m not in old.members or (m in renew and m != old.leader))
        first = next((m for m in members if m not in learners), None)
        if first is not None and members[0] != first:
            # The leader left: a voter leads next (a learner may lack the state).
            members = (first,) + tuple(m for m in members if m != first)
        return members, renew, learners

    def propose(self, g: "Gms", leader: "Leader") -> None:
        if self.proposal is not None or g.role is not leader:
            return
        if g.stream.delivered < leader.view_seq:
            return      # our last view is not delivered yet (Leader.on_view asks again)
        view = g.view
        self.adds = {m: None for m in self.adds if m not in view.members}
        self.drops = {m: why for m, why in self.drops.items() if m in view.members}
        self.renews = {m: None for m in self.renews if m in view.members}
        self.promotes = {m: None for m in self.promotes if m in view.learners}
        members, renew, learners = self.next_change(g)
        if members == view.members and not renew and learners == view.learners:
            return
        if not members:
            return
        self.proposal = _Proposal(view.view_id + 1, members, renew, learners, g.now, {g.me})
        self.ask(g, leader)
        self.maybe_commit(g, leader)

    def ask(self, g: "Gms", leader: "Leader") -> None:
        p = self.proposal
        msg = Propose(g.me, g.epoch, p.view_id, p.members)
        for m in g.view.members:
            # Within the leader's budget per member: a hung peer holds every
            # message sent to it (a member slow under load still gets asked).
            if m not in p.assents and m not in g.dead:
                leader.tell(g, m, msg, spare=leader.LAST_WORD)
        p.asked = g.now

    def assent(self, g: "Gms", leader: "Leader", a: Assent) -> None:
        p = self.proposal
        if p is not None and a.view_id == p.view_id and a.src in g.view.members:
            p.assents.add(a.src)
            self.maybe_commit(g, leader)

    def maybe_commit(self, g: "Gms", leader: "Leader") -> None:
        p = self.proposal
        voters = g.view.voters
        if p is None or sum(1 for m in voters if m in p.assents) < majority(len(voters)):
            return
        self.proposal = None
        old = g.view.members
        expelled = {m: self.drops.pop(m) for m in old if m not in p.members and m in self.drops}
        for m in p.members:
            self.adds.pop(m, None)
            if m not in p.learners:
                self.promotes.pop(m, None)
        for m in p.renew:
            self.renews.pop(m, None)
        leader.commit_view(g, p.members, p.renew, p.learners)
        leader.expel_when_committed(g, {m: why for m, why in expelled.items() if why})
        if g.role is leader and g.stopped is None:
            self.propose(g, leader)

    # -- losing the majority -----------------------------------------------------

    def tick(self, g: "Gms", leader: "Leader") -> None:
        view = leader.latest or g.view
        voters = view.voters
        # We count only while we vote: a leader on its way out is no voter
        # of its last view (counting itself, one that heard only a learner
        # of its old regime led it on for ever after a cut).
        heard = (g.me in voters) + sum(1 for m in voters if m != g.me
                                       and g.now - leader.heard_from(m) <= g.t.suspect_after)
        p = self.proposal
        if heard < majority(len(voters)):
            g.halt(f"in a minority: heard from {heard} of the {len(voters)} voting members "
                   f"of view {view.view_id} within {g.t.suspect_after:g}s")
        elif p is not None and g.now - p.at > g.t.suspect_after + g.t.takeover_timeout:
            g.halt(f"in a minority: {len(p.assents)} of {len(view.members)} assented "
                   f"to view {p.view_id}")
        elif p is not None and g.now - p.asked >= g.t.nack_retry:
            self.ask(g, leader)


def quorate(view: View, me: Member, voters: Iterable[Member]) -> bool:
    """Do `voters` and we make a majority of the voting members of `view`
    (the newest we know)? A learner's promise does not count."""
    count = sum(1 for m in set(voters) | {me} if m in view.voters)
    return count >= majority(len(view.voters))

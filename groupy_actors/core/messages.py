"""Wire messages of the group protocol.

The group's history is one totally ordered *stream* of entries, numbered by
the leader: application messages (`Msg`) and membership views (`View`).
Everything else here is control traffic around that stream.

Every message that a member sends on its own behalf names itself in `src`
(or `sender`/`joiner`), so the core can check it against who should be
talking; `epoch` is the leader regime a message belongs to (raised by every
takeover, so stale leaders are recognised).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional, Union

from .member import Member
from .wire import wire

Inc = tuple[int, int]
"""An incarnation: (epoch, view id) of the view that admitted a member.
Unique: a view id may recur after a takeover, never within one epoch."""


def inc_text(inc: Inc) -> str:
    return f"{inc[0]}.{inc[1]}"


@wire
@dataclass(frozen=True, slots=True)
class Msg:
    """Stream entry: one application message.

    (sender, inc, n) identifies it: `inc` is the sender's incarnation and
    `n` counts its multicasts within it.
    """

    seq: int
    sender: Member
    inc: Inc
    n: int
    payload: Any

    @property
    def id(self) -> str:
        return f"{self.sender.name}:{inc_text(self.inc)}:{self.n}"

    @property
    def key(self) -> str:
        return "m:" + self.id


@wire
@dataclass(frozen=True, slots=True)
class View:
    """Stream entry: a membership view. The leader is the first member.

    `incs[i]` is the incarnation of `members[i]`, so a newcomer that missed
    the view admitting it still knows its own. `learners` (quorum mode) are
    members that do not vote yet: a newcomer, until it holds the group's
    state (Raft's learners). Majorities are counted among the `voters`.
    """

    seq: int
    view_id: int
    members: tuple[Member, ...]
    incs: tuple[Inc, ...]
    learners: tuple[Member, ...] = ()

    @property
    def leader(self) -> Member:
        return self.members[0]

    @property
    def voters(self) -> tuple[Member, ...]:
        return tuple(m for m in self.members if m not in self.learners) \
            if self.learners else self.members

    def inc_of(self, member: Member) -> Inc:
        return self.incs[self.members.index(member)]

    def member(self, member: Member) -> Member:
        """This view's object for `member` (the same name, the contact the
        view knows)."""
        return self.members[self.members.index(member)]

    @property
    def key(self) -> str:
        return f"v:{self.view_id}"


Entry = Union[Msg, View]


@wire
@dataclass(frozen=True, slots=True)
class Join:
    """A newcomer asks to be admitted (sent to any member, forwarded).

    `inc` is the incarnation the joiner had before (0 if none): a member that
    lost its place asks again with its old incarnation and gets a new one.
    `epoch` is the highest it knew when it asked: a halted member says it
    is here with a Join, and one that arrives after its sender took over
    (an old announcement) must not be taken for its leaving.
    """

    joiner: Member
    inc: Inc
    epoch: int = field(default=0, compare=False)   # the joiner's, when it asked


@wire
@dataclass(frozen=True, slots=True)
class JoinRefused:
    src: Member
    reason: str


@wire
@dataclass(frozen=True, slots=True)
class Mcast:
    """A member asks the leader to sequence one of its messages."""

    sender: Member
    inc: Inc
    n: int
    payload: Any


@wire(brief=True)
@dataclass(frozen=True, slots=True)
class Broadcast:
    """Leader -> member: stream entries (possibly none: a heartbeat).

    `top` is the highest sequence number the leader has assigned, so a member
    notices a lost tail; `stable` is the highest number every member has
    delivered, below which histories may be trimmed. `n` numbers what the
    leader sent this member (gms4's send window; 0: not counted). In quorum
    mode `commit` is the highest number a majority holds: deliverable.
    `start` is where this leader's regime begins: the number of the view
    it installed on taking over (1 for the founder). A member takes the
    regime's entries only once it holds all of them from what it delivered
    up to `start` (see `Gms.take_entries`).
    """

    src: Member
    epoch: int
    entries: tuple[Entry, ...]
    top: int
    stable: int
    n: int = field(default=0, compare=False)     # flow control, not content
    commit: int = field(default=0, compare=False)  # quorum mode: see Gms.commit
    start: int = field(default=0, compare=False)


@wire
@dataclass(frozen=True, slots=True)
class Nack:
    """Member -> leader: please resend entries first..last."""

    src: Member
    epoch: int
    first: int
    last: int


@wire
@dataclass(frozen=True, slots=True)
class Ack:
    """Member -> leader: everything up to `delivered` is delivered here, and
    `got` is the highest `n` it has had from this leader (its send window),
    `held` how far its stream of this epoch has arrived (quorum mode),
    `ready` whether it holds the group's state (a learner that does may
    vote)."""

    src: Member
    epoch: int
    delivered: int
    got: int = field(default=0, compare=False)
    held: int = field(default=0, compare=False)    # quorum mode: arrived, this epoch
    ready: bool = field(default=True, compare=False)  # it holds the group's state


@wire
@dataclass(frozen=True, slots=True)
class Inquiry:
    """Candidate -> survivors: promise me `epoch`; tell me what you hold
    beyond `base` (Birman's flush inquiry).

    Candidates are ranked by the ballot (epoch, view_id, name): should two
    pick the same epoch, the one that knows the newer view wins.
    """

    src: Member
    epoch: int
    view_id: int
    base: int

    @property
    def ballot(self) -> tuple[int, int, str]:
        return (self.epoch, self.view_id, self.src.name)


@wire(brief=True)
@dataclass(frozen=True, slots=True)
class Promise:
    """Answer to an Inquiry: entries held beyond the candidate's base.

    `log_epoch` is the regime whose history the promiser's stream follows
    (Viewstamped Replication's last normal view): with `received`, it ranks
    the histories (see `roles/electing.adopt`). `view` is the newest view
    in that stream and `inc` the promiser's own incarnation: a member
    missing from the newest view of the newest history, or named there
    under another incarnation, was put out of the group in a regime it
    never heard from. `joined` is False from a newcomer whose view has not
    reached it yet; the candidate leaves it out and the newcomer joins again.
    """

    src: Member
    epoch: int
    log_epoch: int
    delivered: int
    received: int
    entries: tuple[Entry, ...]
    joined: bool
    inc: Inc = (0, 0)
    view: Optional[View] = None


@wire
@dataclass(frozen=True, slots=True)
class Reject:
    """"I follow a newer ballot": tells a stale leader or candidate whom."""

    src: Member
    epoch: int
    view_id: int
    leader: Optional[Member]

    @property
    def ballot(self) -> tuple[int, int, str]:
        return (self.epoch, self.view_id, self.leader.name if self.leader else "")


@wire
@dataclass(frozen=True, slots=True)
class StateRequest:
    """Newcomer -> leader: send me the application state."""

    src: Member
    epoch: int


@wire(brief=True)
@dataclass(frozen=True, slots=True)
class State:
    """Leader -> newcomer: the application state as of stream entry `seq`.

    `table` holds (member, incarnation, last n delivered) so the newcomer can
    sequence without duplicates should it become leader; `after` names the
    last stream item the snapshot covers (for the checker). `entries` are
    the ones up to `seq` that not every member has acknowledged: should the
    leader fail, the newcomer can hand them on in the flush.
    """

    src: Member
    epoch: int
    seq: int
    view: View
    app: Any
    table: tuple[tuple[Member, Inc, int], ...]
    after: Optional[str]
    entries: tuple[Entry, ...]


@wire
@dataclass(frozen=True, slots=True)
class Leave:
    src: Member


@wire
@dataclass(frozen=True, slots=True)
class Expelled:
    """Leader -> member it removed without the member asking.

    `view_id` is the leader's view when it said so: a member admitted again
    in a later view knows the notice is stale.
    """

    src: Member
    epoch: int
    view_id: int
    reason: str


@wire
@dataclass(frozen=True, slots=True)
class Propose:
    """Leader -> members (quorum mode): may view `view_id` be `members`?
    The view enters the stream once a majority of the current view assents."""

    src: Member
    epoch: int
    view_id: int
    members: tuple[Member, ...]
    n: int = field(default=0, compare=False)     # as in Broadcast


@wire
@dataclass(frozen=True, slots=True)
class Assent:
    """Member -> leader: yes to the proposal of view `view_id` (`got` as in Ack)."""

    src: Member
    epoch: int
    view_id: int
    got: int = field(default=0, compare=False)


def source_of(msg: Any) -> Optional[Member]:
    """The member a protocol message speaks for, if it names one."""
    for name in ("src", "sender", "joiner"):
        value = getattr(msg, name, None)
        if isinstance(value, Member):
            return value
    return None


WIRE_MESSAGES = (Join, JoinRefused, Mcast, Broadcast, Nack, Ack, Inquiry,
                 Promise, Reject, StateRequest, State, Leave, Expelled, Propose, Assent)

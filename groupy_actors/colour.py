"""The colour worker of the classic assignment, as an `Application`.

Its state is a colour (R, G, B), starting black. A delivered Change(N) maps
it to (G, B, (R + N) mod 256): the result depends on the order of changes,
so members that deliver the same changes in a different order drift apart,
visibly. Each worker proposes Change(random 1..20) after a random sleep.

A newcomer gets the colour in one of two ways: gms4 transfers it with the
view (snapshot/restore); on gms1-gms3 the worker does what the classic one
does, through the ordered stream: it multicasts a StateQuery, ignores the
changes before it, keeps those after it, and takes the colour carried by
the first StateReply (the replier's colour as of the query).

A digest chained over every change applied (and handed on with the colour)
tells at a glance whether two members applied the same sequence.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Iterable, Optional

from .application import Application, GroupView, Message

RGB = tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class Change:
    n: int


@dataclass(frozen=True, slots=True)
class StateQuery:
    ref: str


@dataclass(frozen=True, slots=True)
class StateReply:
    ref: str
    colour: RGB
    applied: int
    digest: str


def mix(colour: RGB, n: int) -> RGB:
    r, g, b = colour
    return (g, b, (r + n) % 256)


class ColourWorker(Application):
    def __init__(self, sleep: float = 0.5, requery: float = 2.0) -> None:
        self.sleep = sleep              # mean seconds between proposals
        self.requery = requery
        self.colour: RGB = (0, 0, 0)
        self.applied = 0
        self.digest = ""
        self.ready = False              # holds the group's colour
        self.ref: Optional[str] = None  # our pending StateQuery
        self.query_seen: Optional[str] = None   # its id, once delivered
        self.buffer: list[Message] = []
        self.proposing = True
        self.reason: Optional[str] = None
        self.asked = 0

    # -- proposing ---------------------------------------------------------------

    def started(self) -> None:
        self.schedule()

    def schedule(self) -> None:
        if self.proposing and self.sleep > 0:
            self.group.after(self.group.random.uniform(0, 2 * self.sleep), self.propose)

    def propose(self) -> None:
        if self.proposing:
            self.group.mcast(Change(self.group.random.randint(1, 20)))
            self.schedule()

    def quiet(self) -> None:
        self.proposing = False

    # -- the group -----------------------------------------------------------------

    def view(self, view: GroupView) -> None:
        if self.ready or self.ref is not None or view.restored:
            return
        if view.members == (self.group.name,):
            self.ready = True           # we founded the group: black is right
        elif self.group.level != "gms4":
            self.ask_for_state()

    def ask_for_state(self) -> None:
        self.asked += 1
        self.ref = f"{self.group.name}#{self.asked}"
        self.query_seen = None
        self.buffer.clear()
        self.group.mcast(StateQuery(self.ref))
        self.group.after(self.requery, self.requery_if_needed)

    def requery_if_needed(self) -> None:
        if not self.ready and self.ref is not None:
            self.ask_for_state()

    def deliver(self, message: Message) -> None:
        p = message.payload
        if isinstance(p, Change):
            if self.ready:
                self.apply(message)
            elif self.query_seen:
                self.buffer.append(message)
        elif isinstance(p, StateQuery):
            if p.ref == self.ref:
                self.query_seen = message.id
            elif self.ready:
                self.group.mcast(StateReply(p.ref, self.colour, self.applied, self.digest))
        # A reply to a query we never delivered (we were out of the group
        # meanwhile) does not say where its state stands in our stream.
        elif isinstance(p, StateReply) and p.ref == self.ref and not self.ready \
                and self.query_seen is not None:
            self.colour, self.applied, self.digest = p.colour, p.applied, p.digest
            self.ready = True
            # For the checker: our history is the replier's up to our query.
            self.group.record("state", after="m:" + self.query_seen, source=message.sender)
            for m in self.buffer:
                self.apply(m)
            self.buffer.clear()
            self.group.report()

    def apply(self, message: Message) -> None:
        self.colour = mix(self.colour, message.payload.n)
        self.applied += 1
        self.digest = hashlib.sha1((self.digest + message.id).encode()).hexdigest()[:12]
        self.group.report()

    def snapshot(self) -> Any:
        return (self.colour, self.applied, self.digest)

    def restore(self, state: Any) -> None:
        self.colour, self.applied, self.digest = state
        self.ready = True

    def stopped(self, reason: str) -> None:
        self.reason = reason
        self.proposing = False

    def status(self) -> dict[str, Any]:
        return {"colour": list(self.colour), "applied": self.applied, "digest": self.digest,
                "ready": self.ready, "stopped": self.reason}


def colours_agree(statuses: Iterable[dict[str, Any]]) -> bool:
    """Do these colour workers' reports show one state? (False until every
    one has reported, holding the group's colour.)"""
    seen = {(tuple(s.get("colour") or ()), s.get("digest"), s.get("ready")) for s in statuses}
    return len(seen) == 1 and next(iter(seen))[2] is True

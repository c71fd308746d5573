"""Joining: asking to be admitted, until a view that names us arrives."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, ClassVar

from ..clock import NEVER
from ..events import SnapshotReady, Tick
from ..member import Member
from ..messages import (Ack, Assent, Broadcast, Expelled, Inquiry, Join, JoinRefused, Leave,
                        Mcast, Nack, Promise, Propose, Reject, State, StateRequest, View)
from .base import Handler, Role

if TYPE_CHECKING:
    from ..gms import Gms


class Joining(Role):
    name = "joining"

    def __init__(self, contacts: list[Member], now: float, patient: bool = False) -> None:
        self.contacts = contacts
        # Keep asking past join_timeout: a member that was in the group
        # (quorum mode) may be cut off from it for a while.
        self.patient = patient
        self.started = self.tried = now
        self.tries = 0
        self.asked = NEVER

    @property
    def contact(self) -> Member:
        return self.contacts[self.tries % len(self.contacts)]

    def on_Broadcast(self, g: "Gms", b: Broadcast) -> None:
        # We start at the view that admits us (our incarnation is named for
        # it): one still carrying our previous incarnation is from before we
        # were put out, and starting at a later one would skip what the
        # group counts us in for. If we see only later ones, ours was lost:
        # the leader sends it again when asked.
        ours = [e for e in b.entries if isinstance(e, View) and g.me in e.members
                and e.inc_of(g.me) != g.inc]
        view = next((e for e in ours if e.inc_of(g.me)[1] == e.view_id), None)
        if view is None:
            # A leader that sends us anything counts us in (our admission
            # was lost, or a contact that forwarded our Join is gone): ask
            # it directly, and keep asking it.
            if g.f.reliable and g.now - self.asked >= g.t.join_retry:
                self.asked = g.now
                if b.src not in self.contacts:
                    self.contacts.append(b.src)
                g.send(b.src, Join(g.me, g.inc, g.epoch))
            return
        if g.f.reliable and b.src != view.leader:
            g.note(f"dropped a view sent by {b.src}, not by its leader", logging.WARNING)
            return
        g.joined(view, b)

    def on_Tick(self, g: "Gms", _) -> None:
        if not self.patient and g.now - self.started >= g.t.join_timeout:
            g.stop(f"could not join: no answer from the group through "
                   f"{', '.join(map(str, self.contacts))} within {g.t.join_timeout:g}s")
        elif g.f.reliable and g.now - self.tried >= g.t.join_retry:
            self.tried = g.now
            self.tries += 1
            g.send(self.contact, Join(g.me, g.inc, g.epoch))

    def on_JoinRefused(self, g: "Gms", r: JoinRefused) -> None:
        g.stop(f"join refused by {r.src}: {r.reason}")

    def on_Inquiry(self, g: "Gms", q: Inquiry) -> None:
        if g.f.reliable:    # not in yet: the new leader should leave us out
            g.send(q.src, Promise(g.me, q.epoch, 0, 0, 0, (), False, g.inc, None))

    def on_Reject(self, g: "Gms", r: Reject) -> None:
        pass

    def on_Propose(self, g: "Gms", p: Propose) -> None:
        # Not ours to judge, and no reject: our ballot may have grown in
        # takeovers that found no majority, and it would unseat the leader
        # that is admitting us (measured after a partition healed).
        pass

    def on_Expelled(self, g: "Gms", x: Expelled) -> None:
        pass

    HANDLERS: ClassVar[dict[type, Handler]] = {
        **Role.HANDLERS,
        Broadcast: on_Broadcast,
        Tick: on_Tick,
        JoinRefused: on_JoinRefused,
        Inquiry: on_Inquiry,
        Reject: on_Reject,
        Propose: on_Propose,
        Expelled: on_Expelled,
    }
    IGNORES = frozenset({Ack, Assent, Join, Leave, Mcast, Nack, Promise, SnapshotReady, State,
                         StateRequest})

    def start_leaving(self, g: "Gms") -> None:
        g.stop("left before joining")

"""Behaviour shared by every role, and the event dispatch."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Callable, ClassVar

from ..events import LOCAL_EVENTS, AppLeave, AppMcast, Down, Start, Tick
from ..member import Member
from ..messages import WIRE_MESSAGES, Expelled, Inquiry, Mcast, Promise, Propose, Reject, View

if TYPE_CHECKING:
    from ..gms import Gms

# What `Gms.handle_one` passes to a role: every wire message and local
# event but Start, which the core handles itself.
ROLE_EVENTS: frozenset[type] = frozenset(WIRE_MESSAGES + LOCAL_EVENTS) - {Start}

Handler = Callable[[Any, "Gms", Any], None]


class Role:
    """A state of the core. Each role class spells out, in `HANDLERS`, the
    function that handles each event type, starting from its parent's
    table (`**Role.HANDLERS`), so that grep finds who handles a message;
    the types it drops on purpose are in `IGNORES`. tests/core/
    test_handlers.py holds every role to one or the other for every type."""

    name = "?"
    clocked = False     # own multicasts wait for earlier ones to be sequenced
    IGNORES: ClassVar[frozenset[type]] = frozenset()

    def dispatch(self, g: "Gms", event: Any) -> None:
        # Plain functions called with `self`: no bound method made per event.
        handler = self.HANDLERS.get(type(event))
        if handler is None:
            g.note(f"{self.name} ignores {type(event).__name__}", logging.DEBUG)
            return
        handler(self, g, event)

    # -- hooks the core calls ------------------------------------------------

    def on_view(self, g: "Gms", old: View | None, new: View) -> None:
        """A view was installed while in this role."""
    def settle(self, g: "Gms") -> None:
        """The events that arrived together are handled: send what waited
        for the rest of them."""

    def forward_mcast(self, g: "Gms", mc: Mcast) -> None:
        """Our own multicast, numbered: send it where it gets sequenced."""

    def start_leaving(self, g: "Gms") -> None:
        """The application asked to leave."""

    # -- events every role treats alike --------------------------------------

    def on_AppMcast(self, g: "Gms", ev: AppMcast) -> None:
        g.submit(ev.payload)

    def on_AppLeave(self, g: "Gms", ev: AppLeave) -> None:
        g.leave()

    def on_Tick(self, g: "Gms", ev: Tick) -> None:
        pass

    def on_Down(self, g: "Gms", ev: Down) -> None:
        g.dead.add(ev.member)

    def on_Inquiry(self, g: "Gms", q: Inquiry) -> None:
        promise(g, q)

    def on_Propose(self, g: "Gms", p: Propose) -> None:
        if p.epoch < g.epoch:
            g.reject(p.src)

    def on_Reject(self, g: "Gms", r: Reject) -> None:
        if removed(g, r.src):
            g.note(f"ignored a reject from {r.src}: not a member of view {g.view.view_id}")
            return
        if g.f.reliable and r.ballot > g.ballot:
            g.ballot, g.epoch = r.ballot, r.epoch
            if g.config.quorum:
                # A higher ballot is no sign that its takeover succeeded:
                # stop, keeping history and vote (see Halted).
                g.halt(f"{r.src} follows a newer ballot (epoch {r.epoch})")
            else:
                g.rejoin(f"a newer leader took over (epoch {r.epoch})", r.leader or r.src)

    def on_Expelled(self, g: "Gms", x: Expelled) -> None:
        if not g.f.watch:
            return
        # Stale if the same regime has since admitted us again (view ids of
        # different regimes do not compare).
        if x.epoch == g.epoch == g.log_epoch and g.view is not None \
                and g.me in g.view.members and g.view.view_id > x.view_id:
            g.note(f"ignored a stale expulsion from {x.src} (view {x.view_id})", logging.DEBUG)
            return
        if x.epoch > g.epoch or (x.epoch == g.epoch and x.src == g.leader):
            g.rejoin(f"expelled by {x.src}: {x.reason}", x.src)
        else:
            g.note(f"ignored expulsion from {x.src} (epoch {x.epoch})", logging.WARNING)

    HANDLERS: ClassVar[dict[type, Handler]] = {
        AppMcast: on_AppMcast,
        AppLeave: on_AppLeave,
        Tick: on_Tick,
        Down: on_Down,
        Inquiry: on_Inquiry,
        Propose: on_Propose,
        Reject: on_Reject,
        Expelled: on_Expelled,
    }


def removed(g: "Gms", who: Member) -> bool:
    """Quorum mode: is `who` a member our group removed? Cut off, it may have
    tried to lead meanwhile, its epoch growing with no majority behind it:
    it must rejoin, not unseat the group's leader or lead its members."""
    return g.config.quorum and g.view is not None and who not in g.view.members


def promise(g: "Gms", q: Inquiry) -> None:
    """Answer a would-be leader: promise its ballot if it is the newest."""
    if not g.f.reliable:
        return
    if q.ballot < g.ballot or q.epoch < g.epoch:
        g.reject(q.src)
        return
    if removed(g, q.src) and g.role.name in ("slave", "leader"):
        # Its history is behind ours, and we may have trimmed what it lacks.
        g.note(f"no promise to {q.src}: not a member of view {g.view.view_id}", logging.WARNING)
        return
    if q.ballot > g.ballot:
        g.ballot, g.epoch = q.ballot, q.epoch
        g.leader = q.src
        g.regime_start = 0          # learned from its first broadcast
        # It may wait up to takeover_timeout for others before its first
        # view: suspecting it sooner deposes a candidate about to succeed.
        g.heard_at = g.now + g.t.takeover_timeout
        if g.role.name != "slave":
            g.note(f"stepping down for {q.src} (epoch {q.epoch})", logging.WARNING)
            g.become_slave()
        g.watch_only((q.src,))
    s = g.stream
    g.send(q.src, Promise(g.me, q.epoch, g.log_epoch, s.delivered, s.received,
                          tuple(s.range(q.base + 1, s.received)), True, g.inc, g.latest_view()))

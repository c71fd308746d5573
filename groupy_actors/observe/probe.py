"""The member's side of observability: counts and trace points the core
does not give, taken from its effects, the events it handled and its state.

A group actor holds a `Probe` only when its member was spawned with one
(`ProbeSettings` in Spawn/MemberInit); otherwise nothing here runs. The
probe never changes what the member does: it reads the core's events and
effects after each handling and adds

- counters to the member's periodic Stats (multicasts accepted, members
  expelled, messages refused or malformed, heartbeat silence);
- trace points, as records for the observer, for the hops the records do
  not show: when the leader sequenced a multicast (`Sequenced`), when a
  member's application had handled a delivery (`Handled`), and the steps
  of a takeover (`Step`: inquiries, promises, fills).

No OpenTelemetry here: this runs in every member process.
"""
from __future__ import annotations

import hashlib
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Optional

from ..core import counters as c
from ..core.clock import NEVER
from ..core.effects import Accepted, Deliver, Note, Rejoining, Send
from ..core.messages import Broadcast, Expelled, Inquiry, Msg, Promise


@dataclass(frozen=True, slots=True)
class ProbeSettings:
    """What a member's probe does: `counters` for metrics; `span_ratio`
    the share of multicasts (by id) traced hop by hop, 0 for none."""

    counters: bool = True
    span_ratio: float = 0.0
    takeovers: bool = False         # trace takeovers (inquiries, promises, fills)


@dataclass(frozen=True, slots=True)
class Sequenced:
    """At the leader: these multicasts (ids) got their place in the stream."""

    ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Handled:
    """At a member: its application has handled these deliveries (ids)."""

    ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Step:
    """A step of a takeover at this member: `what` is inquiry (sent to
    `peer`), inquired (received from candidate `peer`), promise (sent to
    `peer`), promised (received from `peer`) or fill (sent to `peer`)."""

    what: str
    peer: str
    epoch: int


def sampled(msg_id: str, ratio: float) -> bool:
    """The same decision everywhere for one message: by a hash of its id."""
    if ratio >= 1.0:
        return True
    if ratio <= 0.0:
        return False
    h = int.from_bytes(hashlib.sha256(msg_id.encode()).digest()[:8], "big")
    return h < ratio * 2 ** 64


# Prefixes of the core's notes about messages it drops (core/roles/*.py,
# core/gms.py). Prose, not an interface: the core should count these.
MALFORMED_NOTE = "dropped bad input"
REFUSED_NOTES = ("dropped ", "ignored a ", "ignored expulsion", "no promise to",
                 "multicast refused")


class Probe:
    def __init__(self, settings: ProbeSettings, observe: Callable[[Any], None]) -> None:
        self.settings = settings
        self.observe = observe
        self.counts = {c.MCASTS: 0, c.EXPELLING: 0, c.REFUSED: 0, c.MALFORMED: 0}
        self.ratio = settings.span_ratio
        self.top = 0                    # highest seq seen sequenced by us as leader
        self.to_app: deque[tuple[int, tuple[str, ...]]] = deque()
        self.electing = False

    # -- after each handling ---------------------------------------------------------

    def step(self, events: Iterable[Any], effects: list[Any], role: str) -> None:
        counts = self.counts
        sequenced: list[str] = []
        steps: list[Step] = []
        takeovers = self.settings.takeovers
        if takeovers:
            for ev in events:
                kind = type(ev)
                if kind is Promise:
                    steps.append(Step("promised", ev.src.name, ev.epoch))
                elif kind is Inquiry:
                    steps.append(Step("inquired", ev.src.name, ev.epoch))
        for e in effects:
            kind = type(e)
            if kind is Accepted:
                if not e.replaces:          # a renumbered one was counted before
                    counts[c.MCASTS] += 1
            elif kind is Note:
                if e.text.startswith(MALFORMED_NOTE):
                    counts[c.MALFORMED] += 1
                elif e.text.startswith(REFUSED_NOTES):
                    counts[c.REFUSED] += 1
            elif kind is Send:
                m = e.msg
                mk = type(m)
                if mk is Broadcast:
                    if m.entries and self.ratio:
                        for entry in m.entries:
                            if type(entry) is Msg and entry.seq > self.top:
                                self.top = entry.seq
                                if sampled(entry.id, self.ratio):
                                    sequenced.append(entry.id)
                    if takeovers and self.electing and role == "leader":
                        steps.append(Step("fill", e.to.name, m.epoch))
                elif mk is Expelled:
                    counts[c.EXPELLING] += 1
                elif takeovers and mk is Inquiry:
                    steps.append(Step("inquiry", e.to.name, m.epoch))
                elif takeovers and mk is Promise:
                    steps.append(Step("promise", e.to.name, m.epoch))
            elif kind is Rejoining:
                self.top = 0
        self.electing = role == "electing"
        if sequenced:
            self.observe(Sequenced(tuple(sequenced)))
        for s in steps:
            self.observe(s)

    # -- the application's hop ---------------------------------------------------------

    def sent_to_app(self, n: int, batch: Any) -> None:
        """Batch number `n` (an effect or an AppBatch) left for the application."""
        if not self.ratio:
            return
        effects = getattr(batch, "effects", (batch,))
        ids = tuple(e.msg.id for e in effects
                    if type(e) is Deliver and sampled(e.msg.id, self.ratio))
        if ids:
            self.to_app.append((n, ids))

    def app_acked(self, n: int) -> None:
        done: list[str] = []
        while self.to_app and self.to_app[0][0] <= n:
            done += self.to_app.popleft()[1]
        if done:
            self.observe(Handled(tuple(done)))

    # -- for the member's Stats ----------------------------------------------------------

    def stats(self, core: Any, now: float) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.counts)
        out[c.SILENCE] = round(silence(core, now), 3)
        return out


def silence(core: Any, now: float) -> float:
    """Seconds the member has not heard whom it should: a follower its
    leader, a leader the most silent member of its view."""
    role = core.role
    if getattr(role, "name", "") == "leader":
        oldest = min((p.heard_at for p in role.peers.values()), default=now)
        return max(0.0, now - oldest)
    if core.heard_at == NEVER or core.view is None:
        return 0.0
    return max(0.0, now - core.heard_at)


def stats_of(core: Any, probe: Optional[Probe], now: float) -> dict[str, Any]:
    """The member's Stats: the core's counters, and the probe's if any."""
    s = core.snapshot_stats()
    if probe is not None:
        s.update(probe.stats(core, now))
    return s

"""Every counter and gauge of a member and of a node, declared once.

Like ra's counter table: one row per figure, with its kind, unit, meaning
and where it comes from today. The metrics export (`groupy_actors/observe/
metrics.py`), the README's list and the Grafana dashboard in docs/ are all
made from this table; nothing else names a metric.

`source` says who counts it now:

  core:KEY   the core counts it: `Gms.snapshot_stats()[KEY]` (KEY also
             being its key in `Gms.stats` where the core increments it)
  shell:KEY  the actor shell derives it, at the member (`observe/probe.py`,
             from the core's effects and state: KEY in the member's Stats)
             or at the observer (`observe/hub.py`, from timed records)
  node:KEY   the node's processes (`observe/node.py`, from the transport's
             TransportStats answers and the actor system's processes)

This module is plain data: the core may import it (no I/O, no clock). The
core still increments string keys in `Gms.stats`; the names in `CORE_KEYS`
are the ones it uses, so a later change can replace those literals with
these constants without changing a metric.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["counter", "gauge", "histogram", "state"]
Scope = Literal["member", "node"]

# The core's own keys (Gms.stats and snapshot_stats), as the core spells them.
RESENT = "resent"
NACKS = "nacks"
RETRIED = "retried"
KEPT = "kept"
KEPT_MAX = "kept_max"
DELIVERED = "delivered"
OUTBOX = "outbox"
CORE_KEYS = (RESENT, NACKS, RETRIED, KEPT, KEPT_MAX, DELIVERED, OUTBOX)

# Keys the shell adds to a member's Stats (observe/probe.py).
MCASTS = "mcasts"
EXPELLING = "expelling"
REFUSED = "refused"
MALFORMED = "malformed"
SILENCE = "silence"
PROBE_KEYS = (MCASTS, EXPELLING, REFUSED, MALFORMED, SILENCE)


@dataclass(frozen=True)
class Declared:
    name: str               # the OpenTelemetry instrument name (Prometheus adds _total etc.)
    kind: Kind
    unit: str
    description: str
    source: str
    scope: Scope = "member"

    @property
    def key(self) -> str:
        """The key in the member's Stats (or the node's figures) it is read from."""
        return self.source.split(":", 1)[1]

    @property
    def needs_core_counter(self) -> bool:
        """Derived by the shell, but the core is where it should be counted."""
        return self.name in NEEDS_CORE


DECLARED: tuple[Declared, ...] = (
    # -- per member: labelled group, member, node, level --------------------------------
    Declared("groupy.deliveries", "counter", "{entry}",
             "stream entries delivered at the member (messages and views, in total order)",
             f"core:{DELIVERED}"),
    Declared("groupy.multicasts", "counter", "{message}",
             "multicasts the member's application sent that its core accepted",
             f"shell:{MCASTS}"),
    Declared("groupy.multicasts.retried", "counter", "{message}",
             "own multicasts sent to the leader again (no sign it sequenced them)",
             f"core:{RETRIED}"),
    Declared("groupy.nacks", "counter", "{request}",
             "requests for missing stream entries (NACKs) the member sent",
             f"core:{NACKS}"),
    Declared("groupy.resends", "counter", "{entry}",
             "stream entries the member resent on NACKs (as leader)",
             f"core:{RESENT}"),
    Declared("groupy.history.kept", "gauge", "{entry}",
             "stream entries the member keeps for resending (trimmed once stable)",
             f"core:{KEPT}"),
    Declared("groupy.history.kept_max", "gauge", "{entry}",
             "the most stream entries the member ever kept at once",
             f"core:{KEPT_MAX}"),
    Declared("groupy.outbox", "gauge", "{message}",
             "own multicasts not yet delivered back to the member",
             f"core:{OUTBOX}"),
    Declared("groupy.view.id", "gauge", "1",
             "id of the view the member installed last", "shell:view_id"),
    Declared("groupy.view.size", "gauge", "{member}",
             "members in the view the member installed last", "shell:view_size"),
    Declared("groupy.role", "state", "1",
             "1 for the member's current role (label role: joining, slave, leader, "
             "electing, minority, stopped, crashed), 0 for the others", "shell:role"),
    Declared("groupy.takeovers.started", "counter", "{takeover}",
             "takeovers the member started (it became the candidate)",
             "shell:takeovers_started"),
    Declared("groupy.takeovers.finished", "counter", "{takeover}",
             "takeovers the member finished as the new leader", "shell:takeovers_finished"),
    Declared("groupy.takeover.duration", "histogram", "s",
             "from becoming the candidate to leading the new view (finished takeovers)",
             "shell:takeover_duration"),
    Declared("groupy.expulsions", "counter", "{member}",
             "members this member expelled as leader (told they are out)",
             f"shell:{EXPELLING}"),
    Declared("groupy.expelled", "counter", "{time}",
             "times this member was put out of the group and rejoined", "shell:expelled"),
    Declared("groupy.messages.refused", "counter", "{message}",
             "protocol messages the core dropped as stale or not meant for its role "
             "(old epoch, old incarnation, not a member)", f"shell:{REFUSED}"),
    Declared("groupy.messages.malformed", "counter", "{message}",
             "messages the core dropped as malformed (failed validation)",
             f"shell:{MALFORMED}"),
    Declared("groupy.heartbeat.silence", "gauge", "s",
             "follower: time since the leader was last heard; leader: the longest "
             "any member of its view has been silent", f"shell:{SILENCE}"),
    Declared("groupy.member.up", "gauge", "1",
             "1 while the member is alive, 0 once it crashed, stopped or exited", "shell:up"),
    # -- per node: labelled node -----------------------------------------------------------
    Declared("groupy.node.processes", "gauge", "{process}",
             "processes of the node's actor system that answered (admin, logger, actors)",
             "node:processes", "node"),
    Declared("groupy.node.pending_sends", "gauge", "{message}",
             "sends queued or unacknowledged in the transport, all processes of the node",
             "node:pending", "node"),
    Declared("groupy.node.frames.refused", "counter", "{frame}",
             "frames the node's transport refused (bad or missing authentication)",
             "node:refused", "node"),
    Declared("groupy.node.reconnects", "counter", "{connection}",
             "connections the node's transport made again after losing them",
             "node:reconnects", "node"),
)

# Derived by the shell from what the core says in prose (its notes) or from
# sends it makes; the core should count them itself (see README).
NEEDS_CORE = frozenset({"groupy.takeovers.started", "groupy.takeovers.finished",
                        "groupy.takeover.duration", "groupy.expulsions",
                        "groupy.messages.refused", "groupy.messages.malformed",
                        "groupy.multicasts", "groupy.heartbeat.silence"})

BY_NAME = {d.name: d for d in DECLARED}
ROLES = ("joining", "slave", "leader", "electing", "minority", "stopped", "crashed")


def prometheus_name(d: Declared) -> str:
    """The name Prometheus shows (the OpenTelemetry exporter's mapping)."""
    base = d.name.replace(".", "_")
    unit = {"s": "_seconds"}.get(d.unit, "")
    if unit and not base.endswith(unit):
        base += unit
    return base + ("_total" if d.kind == "counter" else "")

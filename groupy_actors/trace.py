"""Event records: one JSON-ready dict per thing that happened at a member.

The simulator and the actor shell write the same records, so one checker
(`groupy_actors.checker`) judges both. Kinds:

  start    the member began (contact: whom it joined through, or null)
  mcast    it multicast; id names the message (replaces: the id the same
           multicast had before its sender got a new incarnation)
  deliver  it delivered stream item `item` (seq, view, sender, payload)
  view     it installed view `view` (members, leader); restored views come
           with a state transfer and are not new stream items
  state    a state transfer replaced its application state; `after` is the
           last stream item the state covers
  rejoin   it was put out of the group and joins again (a new incarnation)
  crash    it was killed
  stopped  it stopped by itself (reason)
"""
from __future__ import annotations

import json
from dataclasses import asdict, is_dataclass
from typing import Any, Iterable, Iterator, Optional, TextIO

from .core.effects import Accepted, Deliver, Halt, InstallView, Rejoining, Restore, Stop


def plain(value: Any) -> Any:
    """A JSON-safe rendering of an application payload."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if is_dataclass(value) and not isinstance(value, type):
        return {"type": type(value).__name__, **{k: plain(v) for k, v in asdict(value).items()}}
    return repr(value)


def of_effect(member: str, effect: Any, t: float) -> Optional[dict[str, Any]]:
    """The record for a core effect, or None if it is not an event."""
    if isinstance(effect, Deliver):
        m = effect.msg
        return {"t": t, "member": member, "kind": "deliver", "item": m.key, "seq": m.seq,
                "view": effect.view_id, "sender": m.sender.name, "payload": plain(m.payload)}
    if isinstance(effect, InstallView):
        v = effect.view
        return {"t": t, "member": member, "kind": "view", "item": v.key, "seq": v.seq,
                "view": v.view_id, "members": [m.name for m in v.members],
                "leader": v.leader.name, "restored": effect.restored}
    if isinstance(effect, Restore):
        return {"t": t, "member": member, "kind": "state", "seq": effect.seq,
                "after": effect.after, "source": effect.source.name}
    if isinstance(effect, Accepted):
        record = {"t": t, "member": member, "kind": "mcast", "id": effect.msg_id}
        if effect.replaces:
            record["replaces"] = effect.replaces
        return record
    if isinstance(effect, Rejoining):
        return {"t": t, "member": member, "kind": "rejoin", "reason": effect.reason,
                "abandoned": effect.abandoned}
    if isinstance(effect, Halt):
        return event(member, "halt", t, reason=effect.reason)
    if isinstance(effect, Stop):
        return {"t": t, "member": member, "kind": "stopped", "reason": effect.reason}
    return None


def event(member: str, kind: str, t: float, **fields: Any) -> dict[str, Any]:
    return {"t": t, "member": member, "kind": kind, **fields}


def write(records: Iterable[dict[str, Any]], out: TextIO) -> None:
    for r in records:
        out.write(json.dumps(r, separators=(",", ":")) + "\n")


def read(lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    """Records from JSON lines; raises ValueError naming the bad line."""
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line:
            continue
        try:
            r = json.loads(line)
        except json.JSONDecodeError as e:
            raise ValueError(f"line {number}: not JSON ({e.msg})") from None
        if not isinstance(r, dict) or "member" not in r or "kind" not in r:
            raise ValueError(f"line {number}: a record needs 'member' and 'kind'")
        yield r

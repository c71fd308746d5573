"""A replicated key-value store, as an `Application`.

Writes are multicast and applied in the group's total order, so every
member holds the same dict; reads are local (and may lag the newest write).
Each key also keeps its version: the stream position of the write that set
it, the same at every member (a client can use it for compare-and-set). A
newcomer gets the dict and the versions by state transfer.

    store = group.join("a", KVStore)          # in a script, see README.md
    ...
    class Client(KVStore):                    # or inside the application
        def started(self): self.put("greeting", "hello")
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from ..application import Application, GroupView, Message


@dataclass(frozen=True, slots=True)
class Put:
    key: str
    value: Any


@dataclass(frozen=True, slots=True)
class Delete:
    key: str


@dataclass(frozen=True, slots=True)
class SetIf:
    """Put `value` only if the key's version is still `version` (0: absent)."""

    key: str
    version: int
    value: Any


class KVStore(Application):
    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.versions: dict[str, int] = {}     # key -> seq of the write that set it
        self.applied = 0                       # writes applied (refused SetIfs too)
        self.members: tuple[str, ...] = ()

    # -- what a member's code calls -------------------------------------------------

    def put(self, key: str, value: Any) -> None:
        self.group.mcast(Put(key, value))

    def delete(self, key: str) -> None:
        self.group.mcast(Delete(key))

    def set_if(self, key: str, version: int, value: Any) -> None:
        self.group.mcast(SetIf(key, version, value))

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def version(self, key: str) -> int:
        return self.versions.get(key, 0)

    # -- the group -----------------------------------------------------------------

    def deliver(self, message: Message) -> None:
        op = message.payload
        if isinstance(op, Put):
            self.write(op.key, op.value, message.seq)
        elif isinstance(op, Delete):
            self.data.pop(op.key, None)
            self.versions.pop(op.key, None)
        elif isinstance(op, SetIf):
            if self.version(op.key) == op.version:
                self.write(op.key, op.value, message.seq)
        else:
            return          # not a store operation
        self.applied += 1
        self.group.report()

    def write(self, key: str, value: Any, seq: int) -> None:
        self.data[key] = value
        self.versions[key] = seq

    def view(self, view: GroupView) -> None:
        self.members = view.members

    def snapshot(self) -> Any:
        return {"data": self.data, "versions": self.versions, "applied": self.applied}

    def restore(self, state: Optional[dict[str, Any]]) -> None:
        state = state or {}
        self.data = dict(state.get("data", {}))
        self.versions = dict(state.get("versions", {}))
        self.applied = state.get("applied", 0)

    def status(self) -> dict[str, Any]:
        return {"keys": len(self.data), "applied": self.applied}


def random_writes(store: KVStore, step: int) -> None:
    """A workload for `groupy_actors.testing.simulate`: step k puts, deletes
    or compare-and-sets one of five keys, chosen with the member's seeded
    random generator."""
    r = store.group.random
    key = f"k{r.randrange(5)}"
    roll = r.random()
    if roll < 0.2:
        store.delete(key)
    elif roll < 0.4:
        store.set_if(key, store.version(key), f"{store.group.name}@{step}")
    else:
        store.put(key, step)

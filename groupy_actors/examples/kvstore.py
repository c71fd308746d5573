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

Place replicas anywhere with
    run_group.py join --via 127.0.0.1:1900 --app groupy_actors.examples.kvstore:KVStore \\
        --group kv --on B --count 2
and use it from a program (this one's command line does it for you):
    python -m groupy_actors.examples.kvstore --via 127.0.0.1:1900 put colour blue
    python -m groupy_actors.examples.kvstore --via 127.0.0.1:1901 get colour
    python -m groupy_actors.examples.kvstore --via 127.0.0.1:1902 dump

Any member or program may multicast the operations: `Put(key, value)`,
`Delete(key)`, `SetIf(key, version, value)` (`put` and `delete` make the
first two). Anything else in the group's stream is ignored.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from dataclasses import dataclass
from typing import Any, Optional

from ..application import Application, GroupView, Message

SHOWN = 20          # keys a member shows in its status


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


def put(key: str, value: Any) -> Put:
    return Put(key, value)


def delete(key: str) -> Delete:
    return Delete(key)


def digest(data: dict[str, Any]) -> str:
    """A hash of the store's contents (the same contents, the same digest)."""
    text = json.dumps(sorted(data.items()), default=repr)
    return hashlib.sha1(text.encode()).hexdigest()[:12]


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
        return {"data": dict(self.data), "versions": dict(self.versions), "applied": self.applied}

    def restore(self, state: Optional[dict[str, Any]]) -> None:
        state = state or {}
        self.data = dict(state.get("data", {}))
        self.versions = dict(state.get("versions", {}))
        self.applied = state.get("applied", 0)

    def status(self) -> dict[str, Any]:
        shown = dict(sorted(self.data.items())[:SHOWN])
        return {"keys": len(self.data), "applied": self.applied, "digest": digest(self.data),
                "data": shown}


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


# -- a command line client ---------------------------------------------------------------

def main(argv: Optional[list[str]] = None) -> int:
    from ..cluster import Cluster, ClusterError
    from ..transport import CookieError, cookie_from_env, load_cookie

    p = argparse.ArgumentParser(prog="python -m groupy_actors.examples.kvstore",
                                description="Put, delete and read keys of a replicated store.")
    p.add_argument("--via", required=True, metavar="HOST:PORT",
                   help="any node of the cluster on this machine")
    p.add_argument("--group", default="kv", help="the store's group (default: kv)")
    p.add_argument("--cookie-file", metavar="FILE", help="the cluster's secret")
    sub = p.add_subparsers(dest="op", required=True)
    q = sub.add_parser("put", help="set KEY to VALUE (JSON if it parses, else text)")
    q.add_argument("key")
    q.add_argument("value")
    q = sub.add_parser("delete", help="remove KEY")
    q.add_argument("key")
    q = sub.add_parser("get", help="KEY's value at every replica")
    q.add_argument("key")
    sub.add_parser("dump", help="every replica's keys and digest")
    args = p.parse_args(argv)
    # Run as `python -m`, this module is __main__: its Put would be pickled
    # as __main__.Put, which the replicas cannot load. The package's own does.
    from . import kvstore
    try:
        cookie = load_cookie(args.cookie_file) if args.cookie_file else cookie_from_env()
        with Cluster.connect(args.via, cookie=cookie) as cluster:
            if args.op in ("put", "delete"):
                if args.op == "put":
                    try:
                        value = json.loads(args.value)
                    except ValueError:
                        value = args.value
                    op = kvstore.put(args.key, value)
                else:
                    op = kvstore.delete(args.key)
                with cluster.member(args.group, name=f"kvclient-{os.getpid()}") as me:
                    me.mcast(op)
                    # Our own multicast delivered to us: it is in the group's order.
                    if not any(m.payload == op and m.sender == me.name
                               for m in me.deliveries(timeout=10)):
                        print("not delivered within 10 s", file=sys.stderr)
                        return 1
                print(f"{args.op} {args.key}: done")
                return 0
            reply = cluster.status(args.group)
            rows = [r for r in reply.rows if r.live and "digest" in r.status]
            for r in sorted(rows, key=lambda r: r.name):
                if args.op == "get":
                    data = r.status["data"]
                    value = data[args.key] if args.key in data else "<none>" \
                        if r.status["keys"] <= SHOWN else f"<not among the {SHOWN} keys shown>"
                    print(f"{r.name:<16} {r.node:<8} {args.key} = {value}")
                else:
                    print(f"{r.name:<16} {r.node:<8} {r.status['keys']} keys, digest "
                          f"{r.status['digest']}: {json.dumps(r.status['data'])}")
            same = len({r.status["digest"] for r in rows}) == 1
            print(f"{len(rows)} replicas, " + ("the same store" if same else "stores differ"))
            return 0 if rows and same else 1
    except (ClusterError, CookieError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

"""A replicated key-value store: every member applies the same puts and
deletes in the same order, so every member holds the same store; a member
that joins later receives the store by state transfer (snapshot/restore).

Place replicas anywhere with
    run_group.py join --via 127.0.0.1:1900 --app groupy_actors.examples.kvstore:KVStore \\
        --group kv --on B --count 2
and use it from a program (this one's command line does it for you):
    python -m groupy_actors.examples.kvstore --via 127.0.0.1:1900 put colour blue
    python -m groupy_actors.examples.kvstore --via 127.0.0.1:1901 get colour
    python -m groupy_actors.examples.kvstore --via 127.0.0.1:1902 dump

Operations are plain tuples, so any member or program can multicast them:
`put(key, value)` -> ("put", key, value), `delete(key)` -> ("delete", key).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from typing import Any, Optional

from ..application import Application, Message

SHOWN = 20          # keys a member shows in its status


def put(key: str, value: Any) -> tuple:
    return ("put", key, value)


def delete(key: str) -> tuple:
    return ("delete", key)


def digest(data: dict[str, Any]) -> str:
    """A hash of the store's contents (the same contents, the same digest)."""
    text = json.dumps(sorted(data.items()), default=repr)
    return hashlib.sha1(text.encode()).hexdigest()[:12]


class KVStore(Application):
    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.applied = 0            # operations applied, here or before the snapshot

    def deliver(self, message: Message) -> None:
        op = message.payload
        if not isinstance(op, tuple) or not op:
            return                  # not ours: other programs may share the group
        if op[0] == "put" and len(op) == 3:
            self.data[op[1]] = op[2]
        elif op[0] == "delete" and len(op) == 2:
            self.data.pop(op[1], None)
        else:
            return
        self.applied += 1
        self.group.report()

    def snapshot(self) -> dict[str, Any]:
        return {"data": dict(self.data), "applied": self.applied}

    def restore(self, state: Optional[dict[str, Any]]) -> None:
        state = state or {}
        self.data = dict(state.get("data", {}))
        self.applied = state.get("applied", 0)

    def status(self) -> dict[str, Any]:
        shown = dict(sorted(self.data.items())[:SHOWN])
        return {"keys": len(self.data), "applied": self.applied, "digest": digest(self.data),
                "data": shown}


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
    try:
        cookie = load_cookie(args.cookie_file) if args.cookie_file else cookie_from_env()
        with Cluster.connect(args.via, cookie=cookie) as cluster:
            if args.op in ("put", "delete"):
                if args.op == "put":
                    try:
                        value = json.loads(args.value)
                    except ValueError:
                        value = args.value
                    op = put(args.key, value)
                else:
                    op = delete(args.key)
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

"""`node`, `join`, `status`, `stop`: a group over several machines."""
from __future__ import annotations

import argparse
import os
import socket
import tempfile
import time
from typing import Any

from .. import system as systems
from .. import transport
from ..core import Config, Timing
from ..cluster.client import DIRECTORY, ClusterError, Convention, is_local, parse_address
from ..cluster.messages import DirectoryInit, Place, StatusReply
from .options import UsageError, count, port, positive_seconds, say

# Thespian notices a vanished node only at re-registration; the default
# period is minutes. (Both must be set together.)
CONVENTION_PERIOD = "00:03"


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("node", help="start this machine's actor system (a node)",
                       description="Start this machine's actor system and stay in the foreground "
                       "until Ctrl-C or `run_group.py stop`. The first node, started without "
                       "--convention, is the convention leader and keeps the directory of groups; "
                       "the others join it. Logs go to the file it names.")
    p.add_argument("--port", type=port, required=True, help="admin port of this node (TCP)")
    p.add_argument("--convention", metavar="HOST:PORT",
                   help="the convention leader's address (omit on the leader itself)")
    p.add_argument("--name", help="the node's name, for `join --on` (default: node<PORT>)")
    p.add_argument("--log", help="log file (default: in the temporary directory)")
    p.add_argument("--bind", metavar="ADDR",
                   help="address the node's sockets listen on (default: 127.0.0.1, or every "
                        "interface when --convention names another machine; a convention "
                        "leader for other machines needs --bind 0.0.0.0 or its own address)")
    _cookie_option(p)
    from .demo import add_observe_arguments
    add_observe_arguments(p, traces=False)
    p.add_argument("--web", type=port, metavar="PORT",
                   help="serve a live page of this node's members on PORT (needs the web extra)")
    p.set_defaults(run=run_node)

    p = sub.add_parser("join", help="place colour workers of a group on a node",
                       description="Place K colour workers of group G on node NAME (Thespian "
                       "capability placement). The first member anywhere starts the group. Run it "
                       "on the convention leader's machine.")
    _convention(p)
    p.add_argument("--on", required=True, metavar="NAME", help="the node to place them on")
    p.add_argument("--group", default="colours", help="group name (default: colours)")
    p.add_argument("--workers", type=count, default=1, help="how many workers (default: 1)")
    p.add_argument("--sleep", type=positive_seconds, default=0.5,
                   help="a worker proposes a change every 0..2*SLEEP s (default: 0.5)")
    p.add_argument("--heartbeat", type=positive_seconds, default=0.1,
                   help="leader <-> member heartbeat period, s (default: 0.1; set by a group's "
                        "first join)")
    p.add_argument("--suspect-after", type=positive_seconds, default=1.0,
                   help="silence after which a member or leader is taken for dead, s "
                        "(default: 1.0)")
    p.add_argument("--no-quorum", action="store_true",
                   help="let any surviving side go on (default: majority views)")
    p.set_defaults(run=run_join)

    p = sub.add_parser("status", help="show every member of the convention's groups",
                       description="Print every member: node, role, view, colour, deliveries, "
                       "and whether each group's live members agree. Exit status 0 if they do.")
    _convention(p)
    p.add_argument("--group", help="only this group")
    p.add_argument("--settle", action="store_true",
                   help="ask the workers to stop proposing first (to judge agreement on a "
                        "still state; they do not start again)")
    p.set_defaults(run=run_status)

    p = sub.add_parser("stop", help="stop every node of the convention cleanly",
                       description="Stop every node of the convention, the leader last.")
    _convention(p)
    p.set_defaults(run=run_stop)


def _convention(p: argparse.ArgumentParser) -> None:
    p.add_argument("--convention", required=True, metavar="HOST:PORT",
                   help="the convention leader's address (a node on this machine)")
    _cookie_option(p)


def _cookie_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cookie-file", metavar="FILE",
                   help="the shared secret that authenticates every message between nodes "
                        f"(default: ${transport.COOKIE_ENV}, else none); all nodes and "
                        "commands of a convention need the same one")


def _cookie(args: argparse.Namespace) -> bytes | None:
    try:
        if args.cookie_file:
            return transport.load_cookie(args.cookie_file)
        return transport.cookie_from_env()
    except transport.CookieError as e:
        raise UsageError(str(e)) from None


def _connect(args: argparse.Namespace) -> Convention:
    try:
        return Convention(args.convention, cookie=_cookie(args))
    except ClusterError as e:
        raise UsageError(str(e)) from None


def run_node(args: argparse.Namespace) -> int:
    name = args.name or f"node{args.port}"
    if not name.replace("-", "").replace("_", "").isalnum():
        raise UsageError(f"a node name is letters, digits, - and _: not {name!r}")
    caps: dict[str, Any] = {"node": name}
    bind = args.bind
    if args.convention:
        try:
            caps["Convention Address.IPv4"] = parse_address(args.convention)
            if bind is None and not is_local(caps["Convention Address.IPv4"][0]):
                bind = "0.0.0.0"        # the leader on another machine must reach us
        except ClusterError as e:
            raise UsageError(str(e)) from None
    cookie = _cookie(args)
    log_file = args.log or os.path.join(tempfile.gettempdir(), f"groupy-node-{name}.log")
    os.environ.setdefault("CONVENTION_REREGISTRATION_PERIOD", CONVENTION_PERIOD)
    os.environ.setdefault("CONVENTION_RESTART_PERIOD", CONVENTION_PERIOD)
    observing = args.metrics_port is not None or args.web is not None or bool(args.otlp)
    if observing:                       # its members report through this node (observe/tap.py)
        from .demo import check_observe_extras
        from ..observe.tap import TAP_ENV
        check_observe_extras(args, web=args.web is not None)
        os.environ[TAP_ENV] = "1"
    try:
        node = systems.start("tcp", port=args.port, log_file=log_file, capabilities=caps,
                             cookie=cookie, bind=bind)
    except systems.StartError as e:
        raise UsageError(str(e)) from None
    try:
        if not args.convention:
            from ..cluster.directory import Directory
            directory = node.asys.createActor(Directory, globalName=DIRECTORY)
            node.asys.tell(directory, DirectoryInit(name))
        host = socket.gethostname()
        role = "convention leader" if not args.convention else f"member of {args.convention}"
        say(f"node {name}: actor system at {host}:{args.port} ({role})")
        say(f"logs: {log_file}")
        leader = args.convention or f"127.0.0.1:{args.port}"
        say(f"place workers: run_group.py join --convention {leader} --on {name} --workers 2")
        say(f"stop: Ctrl-C here, or run_group.py stop --convention {leader}")
        if observing:
            from ..observe import node as observe_node
            observe_node.run(node, name, args, not args.convention,
                             lambda: systems.port_in_use(args.port))
        while systems.port_in_use(args.port):
            time.sleep(0.5)
        say(f"node {name} stopped")
        return 0
    finally:
        if systems.port_in_use(args.port):
            node.shutdown()


def run_join(args: argparse.Namespace) -> int:
    c = _connect(args)
    config = Config("gms4", Timing.network(args.heartbeat, args.suspect_after),
                    quorum=not args.no_quorum)
    try:
        placed = c.place(Place(args.group, args.on, args.workers, config, args.sleep))
    except ClusterError as e:
        raise UsageError(str(e)) from None
    say(f"placed on {args.on}: {', '.join(placed.names)} (group {args.group})")
    return 0


def show(reply: StatusReply) -> None:
    say(f"nodes: {', '.join(reply.nodes) or 'none'}")
    rows = sorted(reply.rows, key=lambda r: (r.group, r.name))
    if not rows:
        say("no members")
        return
    say(f"{'member':<22} {'node':<10} {'role':<9} {'view':>5} {'size':>4} "
        f"{'colour':<16} {'delivered':>9}  note")
    for r in rows:
        colour = "(%3d,%3d,%3d)" % tuple(r.colour[:3]) if r.colour else "-"
        note = r.fate or (f"silent {r.silent:g}s" if r.silent > 3 else "")
        say(f"{r.name:<22} {r.node:<10} {r.role:<9} {r.view_id if r.view_id else '-':>5} "
            f"{r.view_size:>4} {colour:<16} {r.delivered:>9}  {note}")
    for group, ok in sorted(reply.agree.items()):
        say(f"group {group}: " + ("AGREE: every live member has the same colour" if ok
                                  else "members differ (or are still catching up)"))


def run_status(args: argparse.Namespace) -> int:
    reply = _connect(args).status(args.group, args.settle)
    show(reply)
    return 0 if reply.agree and all(reply.agree.values()) else 1


def run_stop(args: argparse.Namespace) -> int:
    reply = _connect(args).stop()
    say(f"stopping {len(reply.nodes)} node(s): {', '.join(reply.nodes)}")
    return 0

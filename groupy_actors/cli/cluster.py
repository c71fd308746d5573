"""`node`, `join`, `leave`, `status`, `stop`: groups over several machines.

Every node runs a directory; the directories are a group of their own, so
any live node answers any command (see groupy_actors/cluster)."""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import time
from typing import Any, Callable, Optional, TypeVar

from .. import lifeline
from .. import system as systems
from .. import transport
from ..cluster import apps
from ..cluster.agent import AGENT, NodeAgent
from ..cluster.client import Cluster, ClusterError, group_config, is_local, parse_address
from ..cluster.messages import AgentFailed, AgentInit, AgentReady, StatusReply
from ..transport.settings import _is_loopback, default_bind
from .options import UsageError, count, port, positive_seconds, say

# Thespian notices a vanished node only at re-registration; the default
# period is minutes. (Both must be set together.)
CONVENTION_PERIOD = "00:03"
COLOURS = "groupy_actors.colour:ColourWorker"
T = TypeVar("T")
JOIN_WAIT = 30.0        # seconds a new node waits to hear from the cluster


def add_parsers(sub: Any) -> None:
    p = sub.add_parser("node", help="run this machine's node (an actor system) in the foreground",
                       description="Run this machine's node in the foreground until SIGTERM, "
                       "Ctrl-C or `run_group.py stop`; every process of the node goes with it. "
                       "The first node, started without --convention, founds the cluster; "
                       "every other names a live node of it with --convention (any one).")
    p.add_argument("--port", type=port, required=True, help="admin port of this node (TCP)")
    p.add_argument("--convention", metavar="HOST:PORT[,HOST:PORT...]",
                   help="a live node of the cluster to register with (Thespian's convention "
                        "leader; with several, Thespian's HA convention: the first live one "
                        "leads). Omit on the first node only")
    p.add_argument("--name", help="the node's name, for `join --on` (default: node<PORT>); "
                                  "unique in the cluster")
    p.add_argument("--log", metavar="FILE", default=systems.STDERR,
                   help="log file (default: standard error)")
    p.add_argument("--pid-file", metavar="FILE", help="write the node command's pid here")
    p.add_argument("--bind", metavar="ADDR",
                   help="address the node's sockets listen on (default: 127.0.0.1, or every "
                        "interface when --convention names another machine; a node others "
                        "reach from other machines needs 0.0.0.0 or its own address)")
    _cookie_option(p)
    from .demo import add_observe_arguments
    add_observe_arguments(p, traces=False)
    p.add_argument("--web", type=port, metavar="PORT",
                   help="serve a live page of this node's members on PORT (needs the web extra)")
    p.add_argument("--insecure", action="store_true",
                   help="run a node reachable from other machines without a secret (anyone "
                        "who reaches a port can then run code on it)")
    p.set_defaults(run=run_node)

    p = sub.add_parser("join", help="place members of a group on a node",
                       description="Place K members of group G running an application on node "
                       "NAME; the first member anywhere founds the group. Colour workers by "
                       "default; --app names any Application subclass importable on that "
                       "node. Works through any node of the cluster.")
    _via(p)
    p.add_argument("--on", metavar="NAME",
                   help="the node to place them on (default: the node of --via)")
    p.add_argument("--group", default="colours", help="group name (default: colours)")
    p.add_argument("--app", metavar="MODULE:CLASS", default=COLOURS,
                   help="the application, package.module:ClassName (default: colour workers)")
    p.add_argument("--args", metavar="JSON",
                   help="arguments for the application: a JSON list, or one JSON value")
    p.add_argument("--count", "--workers", type=count, default=1, dest="count",
                   help="how many members (default: 1)")
    p.add_argument("--name", help="the member's name (with --count 1; default GROUP.NODE.K)")
    p.add_argument("--embedded", action="store_true",
                   help="run each application inside its group actor: two actor hops per "
                        "multicast instead of four, one process per member (faster; a slow "
                        "application then delays its member's protocol work too)")
    p.add_argument("--sleep", type=positive_seconds, default=0.5,
                   help="colour workers: a proposal every 0..2*SLEEP s (default: 0.5)")
    p.add_argument("--heartbeat", type=positive_seconds, default=0.1,
                   help="leader <-> member heartbeat period, s (default: 0.1; set by a group's "
                        "first join)")
    p.add_argument("--suspect-after", type=positive_seconds, default=1.0,
                   help="silence after which a member or leader is taken for dead, s "
                        "(default: 1.0)")
    p.add_argument("--no-quorum", action="store_true",
                   help="let any surviving side go on (default: majority views)")
    p.add_argument("--no-wait", action="store_true",
                   help="return once placed, without waiting for the members to be admitted")
    p.set_defaults(run=run_join)

    p = sub.add_parser("leave", help="make a member leave its group",
                       description="Ask member NAME to leave its group gracefully.")
    _via(p)
    p.add_argument("name", help="the member's name (as `status` shows it)")
    p.set_defaults(run=run_leave)

    p = sub.add_parser("status", help="show the nodes and every member of the cluster's groups",
                       description="Print the nodes and every member: node, role, view, status "
                       "(each answers itself), and whether each group's live members agree. Exit "
                       "status 0 if they do. Works through any node.")
    _via(p)
    p.add_argument("--group", help="only this group")
    p.add_argument("--settle", action="store_true",
                   help="ask colour workers to stop proposing first (to judge agreement on a "
                        "still state; they do not start again)")
    p.add_argument("--json", action="store_true", help="print the answer as JSON")
    p.set_defaults(run=run_status)

    p = sub.add_parser("stop", help="stop every node of the cluster cleanly",
                       description="Stop every node of the cluster, the one asked last.")
    _via(p)
    p.set_defaults(run=run_stop)


def _via(p: argparse.ArgumentParser) -> None:
    p.add_argument("--via", "--convention", dest="via", required=True, metavar="HOST:PORT",
                   help="any node of the cluster running on this machine")
    _cookie_option(p)


def _cookie_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cookie-file", metavar="FILE",
                   help="the shared secret that authenticates every message between nodes "
                        f"(default: ${transport.COOKIE_ENV}, else none); all nodes and "
                        "commands of a cluster need the same one")


def _cookie(args: argparse.Namespace) -> Optional[bytes]:
    try:
        if args.cookie_file:
            return transport.load_cookie(args.cookie_file)
        return transport.cookie_from_env()
    except transport.CookieError as e:
        raise UsageError(str(e)) from None


def _through(args: argparse.Namespace, request: Callable[[Cluster], T]) -> T:
    """`request` on the cluster, through the node of --via; its refusal
    (or the node's absence) is a one-line error."""
    try:
        with Cluster.connect(args.via, cookie=_cookie(args)) as c:
            return request(c)
    except ClusterError as e:
        raise UsageError(str(e)) from None


# -- node ------------------------------------------------------------------------------

def _conventions(text: str) -> list[tuple[str, int]]:
    try:
        return [parse_address(part.strip()) for part in text.split(",") if part.strip()]
    except ClusterError as e:
        raise UsageError(str(e)) from None


def node_settings(args: argparse.Namespace) -> tuple[dict[str, Any], Optional[str], Optional[bytes]]:
    """Capabilities, bind address and secret of a node; UsageError for a
    node reachable from other machines without a secret."""
    name = args.name or f"node{args.port}"
    if not name.replace("-", "").replace("_", "").isalnum():
        raise UsageError(f"a node name is letters, digits, - and _: not {name!r}")
    caps: dict[str, Any] = {"node": name}
    bind, remote = args.bind, False
    if args.convention:
        leaders = _conventions(args.convention)
        if not leaders:
            raise UsageError("--convention names no HOST:PORT")
        try:
            remote = not all(is_local(host) for host, _ in leaders)
        except ClusterError as e:
            raise UsageError(str(e)) from None
        caps["Convention Address.IPv4"] = leaders[0] if len(leaders) == 1 else \
            [f"{h}:{p}" for h, p in leaders]
        if bind is None and remote:
            bind = "0.0.0.0"        # the others must reach us
    cookie = _cookie(args)
    listen = bind or default_bind()     # what the transport will bind
    wide = remote or not _is_loopback(listen)
    if wide and cookie is None and not args.insecure:
        why = "--convention names another machine" if remote else f"it listens on {listen}"
        raise UsageError(f"this node is reachable from other machines ({why}) but has no "
                         "secret: give --cookie-file FILE or $GROUPY_COOKIE (the same on every "
                         "node), or --insecure to run without one")
    return caps, bind, cookie


def run_node(args: argparse.Namespace) -> int:
    caps, bind, cookie = node_settings(args)
    name = caps["node"]
    if systems.port_in_use(args.port):
        raise UsageError(f"port {args.port} is in use")
    if args.log != systems.STDERR:
        try:
            open(args.log, "a").close()
        except OSError as e:
            raise UsageError(f"cannot write the log file {args.log}: {e.strerror}") from None
    os.environ.setdefault("CONVENTION_REREGISTRATION_PERIOD", CONVENTION_PERIOD)
    os.environ.setdefault("CONVENTION_RESTART_PERIOD", CONVENTION_PERIOD)
    observing = args.metrics_port is not None or args.web is not None or bool(args.otlp)
    if observing:                       # its members report through this node (observe/tap.py)
        from .demo import check_observe_extras
        from ..observe.tap import TAP_ENV
        check_observe_extras(args, web=args.web is not None)
        os.environ[TAP_ENV] = "1"
    signal.signal(signal.SIGINT, _stop_signal)
    signal.signal(signal.SIGTERM, _stop_signal)
    lifeline.tie()      # every process of the node dies with this command
    try:
        node = systems.start("tcp", port=args.port, log_file=args.log, capabilities=caps,
                             cookie=cookie, bind=bind)
    except systems.StartError as e:
        raise UsageError(str(e)) from None
    try:
        ready = _start_agent(node, name, founder=not args.convention)
    except _Stop as e:
        node.shutdown()
        say(f"node {name}: {e} while starting, stopped")
        return 0
    except BaseException:
        node.shutdown()
        raise
    try:
        if args.pid_file:
            with open(args.pid_file, "w") as f:
                f.write(f"{os.getpid()}\n")
        where = "founded the cluster" if not args.convention else \
            f"joined the cluster ({', '.join(ready.nodes)})"
        say(f"node {name}: actor system at {socket.gethostname()}:{args.port}, {where}")
        say(f"logs: {'standard error' if args.log == systems.STDERR else args.log}")
        via = f"127.0.0.1:{args.port}"
        say(f"place members: run_group.py join --via {via} --on {name} --count 2")
        say(f"stop: Ctrl-C or SIGTERM here (this node), or run_group.py stop --via {via} (all)")
        try:
            if observing:
                from ..observe import node as observe_node
                observe_node.run(node, name, args, lambda: systems.port_in_use(args.port))
            else:
                while systems.port_in_use(args.port):
                    _idle(node)
            say(f"node {name} stopped")
        except _Stop as e:
            say(f"node {name}: {e}, stopping")
        return 0
    finally:
        try:
            node.shutdown()
        finally:
            if args.pid_file:
                try:
                    os.unlink(args.pid_file)
                except OSError:
                    pass


def _idle(node: systems.System) -> None:
    """Wait a moment, reading what reaches this command's own endpoint (a
    socket like every other of the node's: unread, forged frames would sit
    there unrefused)."""
    try:
        node.asys.listen(0.2)
    except _Stop:
        raise
    except Exception:
        time.sleep(0.2)


class _Stop(Exception):
    pass


def _stop_signal(signum: int, frame: Any) -> None:
    signal.signal(signum, signal.SIG_IGN)      # one is enough; the shutdown takes a moment
    raise _Stop(signal.Signals(signum).name)


def _start_agent(node: systems.System, name: str, founder: bool) -> AgentReady:
    agent = node.asys.createActor(NodeAgent, globalName=AGENT)
    node.asys.tell(agent, AgentInit(name, founder, group_config(), JOIN_WAIT))
    end = time.monotonic() + JOIN_WAIT + 15
    while time.monotonic() < end:
        msg = node.asys.listen(1.0)
        if isinstance(msg, AgentReady):
            return msg
        if isinstance(msg, AgentFailed):
            raise UsageError(msg.reason)
    raise UsageError(f"node {name} did not become part of the cluster within "
                     f"{JOIN_WAIT + 15:g}s (see its log)")


# -- the commands --------------------------------------------------------------------

def run_join(args: argparse.Namespace) -> int:
    try:
        apps.resolve(args.app)
        app_args = apps.parse_args(args.args)
    except apps.AppSpecError as e:
        raise UsageError(str(e)) from None
    if args.app == COLOURS and args.args is None:
        app_args = (args.sleep,)
    if args.name is not None and args.count != 1:
        raise UsageError("--name names one member: use it with --count 1")
    config = group_config(args.heartbeat, args.suspect_after, not args.no_quorum)
    node, names = _through(args, lambda c: (args.on or c.node, c.join(
        args.group, args.app, on=args.on, args=app_args, count=args.count, name=args.name,
        wait=not args.no_wait, config=config, embedded=args.embedded)))
    say(f"placed on {node}: {', '.join(names)} (group {args.group})")
    return 0


def run_leave(args: argparse.Namespace) -> int:
    _through(args, lambda c: c.leave(args.name))
    say(f"{args.name} is leaving")
    return 0


def _summary(status: dict[str, Any]) -> str:
    if status.get("colour"):
        return "colour (%3d,%3d,%3d)" % tuple(status["colour"][:3])
    text = json.dumps({k: v for k, v in status.items() if k != "data"}, sort_keys=True,
                      default=str)
    return text if len(text) <= 40 else text[:37] + "..."


def show(reply: StatusReply) -> None:
    down = [n for n in reply.nodes if n not in reply.up]
    say(f"nodes: {', '.join(reply.up) or 'none'}" + (f" (down: {', '.join(down)})" if down
                                                     else "") + f"; answered by {reply.node}")
    rows = sorted(reply.rows, key=lambda r: (r.group, r.name))
    if not rows:
        say("no members")
        return
    say(f"{'member':<22} {'node':<8} {'role':<9} {'view':>5} {'size':>4} {'seq':>7}  status")
    for r in rows:
        note = r.fate or _summary(r.status)
        say(f"{r.name:<22} {r.node:<8} {r.role:<9} {r.view_id if r.view_id else '-':>5} "
            f"{len(r.members):>4} {r.seq:>7}  {note}")
    for group, ok in sorted(reply.agree.items()):
        say(f"group {group}: " + ("AGREE: every live member is in one view with the same state"
                                  if ok else "members differ (or are still catching up)"))


def run_status(args: argparse.Namespace) -> int:
    reply = _through(args, lambda c: c.status(args.group, args.settle))
    if args.json:
        import dataclasses
        say(json.dumps(dataclasses.asdict(reply), default=str))
    else:
        show(reply)
    return 0 if reply.agree and all(reply.agree.values()) else 1


def run_stop(args: argparse.Namespace) -> int:
    nodes = _through(args, lambda c: c.stop())
    say(f"stopping {len(nodes)} node(s): {', '.join(nodes)}")
    return 0


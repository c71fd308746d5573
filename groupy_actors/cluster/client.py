"""Attach to a running cluster through any of its nodes.

    from groupy_actors.cluster import Cluster
    with Cluster.connect("127.0.0.1:1901", cookie=b"...") as c:
        c.join("kv", "groupy_actors.examples.kvstore:KVStore", on="B", count=2)
        print(c.status("kv").agree)
        with c.member("kv", name="svc") as m:        # this program, a member
            m.mcast(put("x", 1))          # from groupy_actors.examples.kvstore
            for msg in m.deliveries(timeout=5):
                print(msg.payload)

A client attaches to the actor system of a node on its own machine (that
is how Thespian's clients work) and talks to that node's directory; every
node's directory holds the whole table, so any live node will do.
"""
from __future__ import annotations

import ipaddress
import logging
import queue
import socket
import threading
import time
from typing import Any, Callable, Iterator, Optional

from thespian.actors import ActorSystem

from .. import transport
from ..application import GroupView, Message
from ..core import Config, Timing
from ..system import BASES, port_in_use
from . import relay
from .agent import AGENT, NodeAgent
from .apps import AppSpecError, spec_of
from .messages import (Here, LeaveReply, LeaveRequest, MemberRow, Place, Placed, StatusReply,
                       StatusRequest, StopAll, Stopping, Where)


log = logging.getLogger(__name__)


class ClusterError(Exception):
    """The cluster could not be reached or refused (the message says why)."""


def parse_address(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ClusterError(f"{text!r} is not HOST:PORT (e.g. 127.0.0.1:1900)")
    return host, int(port)


def is_local(host: str) -> bool:
    try:
        addrs = {ai[4][0] for ai in socket.getaddrinfo(host, None, socket.AF_INET)}
    except OSError:
        raise ClusterError(f"cannot resolve host {host!r}") from None
    mine = {"0.0.0.0"}
    try:
        mine |= {ai[4][0] for ai in socket.getaddrinfo(socket.gethostname(), None,
                                                          socket.AF_INET)}
    except OSError:
        pass
    return any(ipaddress.ip_address(a).is_loopback or a in mine for a in addrs)


def group_config(heartbeat: float = 0.1, suspect_after: float = 1.0,
                 quorum: bool = True) -> Config:
    """The config of a group spread over machines: gms4, heartbeats."""
    return Config("gms4", Timing.network(heartbeat, suspect_after), quorum=quorum)


def _attach(address: str, cookie: Optional[bytes]) -> tuple[ActorSystem, int]:
    host, port = parse_address(address)
    if not is_local(host):
        raise ClusterError(f"{host} is not this machine: connect to a node running here "
                           "(every node answers for the whole cluster)")
    if not port_in_use(port):
        raise ClusterError(f"no node runs on port {port} here (start one with "
                           f"`run_group.py node --port {port}`)")
    caps: dict[str, Any] = {"Admin Port": port}
    if cookie is not None:      # else $GROUPY_COOKIE, if set
        caps[transport.COOKIE_CAPABILITY] = cookie
    transport.register()
    try:
        return ActorSystem(BASES["tcp"], caps, transientUnique=True), port
    except Exception as e:
        raise ClusterError(f"cannot reach the node on port {port}: {e} (a node started "
                           "with a secret answers only clients given the same one: "
                           "--cookie-file or $GROUPY_COOKIE)") from None


def _ask(asys: ActorSystem, to: Any, msg: Any, answer: type, timeout: float, what: str) -> Any:
    end = time.monotonic() + timeout
    asys.tell(to, msg)
    while time.monotonic() < end:
        reply = asys.listen(max(0.01, end - time.monotonic()))
        if isinstance(reply, answer):
            return reply
    raise ClusterError(f"{what} did not answer within {timeout:g}s")


def _find(asys: ActorSystem, port: int, timeout: float) -> Here:
    try:
        agent = asys.createActor(NodeAgent, globalName=AGENT)
    except Exception as e:
        raise ClusterError(f"cannot reach the node on port {port}: {e} (a node started "
                           "with a secret answers only clients given the same one: "
                           "--cookie-file or $GROUPY_COOKIE)") from None
    here = _ask(asys, agent, Where(), Here, timeout, f"the node on port {port}")
    if here.directory is None:
        raise ClusterError(f"node {here.node} (port {port}) has not joined the cluster yet")
    return here


def _close(asys: ActorSystem) -> None:
    """Let go of a node's actor system without stopping it (Thespian has no
    detach: close this process's own endpoint)."""
    base = getattr(asys, "_systemBase", None)
    tr = getattr(base, "transport", None)
    close = getattr(tr, "close", None)
    if close is not None:
        try:
            close()
        except Exception:
            pass


class Cluster:
    """A client of the cluster, through one node on this machine."""

    def __init__(self, address: str, cookie: Optional[bytes] = None,
                 timeout: float = 10.0) -> None:
        self.address, self.cookie, self.timeout = address, cookie, timeout
        self.asys, port = _attach(address, cookie)
        try:
            here = _find(self.asys, port, timeout)
        except BaseException:
            _close(self.asys)
            raise
        self.node, self.directory = here.node, here.directory

    @classmethod
    def connect(cls, address: str = "127.0.0.1:1900", cookie: Optional[bytes | str] = None,
                timeout: float = 10.0) -> "Cluster":
        """Attach through the node at `address` (on this machine); `cookie`:
        the cluster's secret (default: $GROUPY_COOKIE)."""
        if isinstance(cookie, str):
            cookie = cookie.encode()
        return cls(address, cookie, timeout)

    def close(self) -> None:
        _close(self.asys)

    def __enter__(self) -> "Cluster":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _ask(self, msg: Any, answer: type, timeout: Optional[float] = None) -> Any:
        return _ask(self.asys, self.directory, msg, answer, timeout or self.timeout,
                    f"the directory of node {self.node}")

    # -- the requests ---------------------------------------------------------------

    def join(self, group: str, app: type | str, on: Optional[str] = None,
             args: tuple | list = (), count: int = 1, name: Optional[str] = None,
             config: Optional[Config] = None, wait: bool = True,
             timeout: float = 30.0, embedded: bool = False) -> tuple[str, ...]:
        """Place `count` members of `group` running `app(*args)` on node `on`
        (default: the node we are connected to); `app` is an Application
        subclass or "package.module:Class", importable on that node. The
        first member anywhere founds the group, with `config` (default:
        gms4, quorum, 0.1 s heartbeats). With `wait`, return once every one
        is in a view; ClusterError if one stops first or `timeout` passes.
        `embedded`: each application inside its group actor (see
        `Group.start`)."""
        try:
            spec = spec_of(app)
        except AppSpecError as e:
            raise ClusterError(str(e)) from None
        if name is not None and count != 1:
            raise ClusterError("a name names one member: count must be 1")
        placed = self._ask(Place(group, on or self.node, count, spec, tuple(args),
                                 config or group_config(), name, embedded), Placed)
        if placed.error:
            raise ClusterError(placed.error)
        if wait:
            self.wait_members(group, placed.names, timeout)
        return placed.names

    def wait_members(self, group: str, names: tuple[str, ...], timeout: float = 30.0) -> None:
        """Until every one of `names` is in a view of `group`."""
        end = time.monotonic() + timeout
        while True:
            rows = {r.name: r for r in self.status(group).rows}
            gone = [f"{n}: {rows[n].fate}" for n in names if n in rows and rows[n].fate]
            if gone:
                raise ClusterError("did not join: " + "; ".join(gone))
            if all(n in rows and rows[n].live and n in rows[n].members for n in names):
                return
            if time.monotonic() >= end:
                raise ClusterError(f"not in a view of {group} within {timeout:g}s: " +
                                   ", ".join(n for n in names if not (n in rows and rows[n].live)))
            time.sleep(0.2)

    def status(self, group: Optional[str] = None, settle: bool = False) -> StatusReply:
        """Every member (of `group`), as its own answer tells: role, view,
        status; whether each group's live members agree."""
        return self._ask(StatusRequest(group, settle), StatusReply)

    def members(self, group: Optional[str] = None) -> list[MemberRow]:
        return list(self.status(group).rows)

    def leave(self, name: str) -> None:
        """Ask member `name` to leave its group (gracefully)."""
        reply = self._ask(LeaveRequest(name), LeaveReply)
        if reply.error:
            raise ClusterError(reply.error)

    def stop(self) -> tuple[str, ...]:
        """Stop every node of the cluster; returns their names."""
        return self._ask(StopAll(), Stopping).nodes

    def member(self, group: str, name: Optional[str] = None,
               on_deliver: Optional[Callable[[Message], None]] = None,
               on_view: Optional[Callable[[GroupView], None]] = None,
               config: Optional[Config] = None, timeout: float = 30.0) -> "ExternalMember":
        """This program as a member of `group` (see `ExternalMember`)."""
        return ExternalMember(self, group, name, on_deliver, on_view, config, timeout)


_CLOSE = object()


class ExternalMember:
    """This program as a member of a group, through a relay on the node.

    Deliveries and views arrive on a thread of its own: `on_deliver` and
    `on_view` run there; `deliveries()` yields them here. `mcast` may be
    called from any thread. `close()` (or the end of a `with` block) leaves
    the group. Names default to GROUP.NODE.K."""

    def __init__(self, cluster: Cluster, group: str, name: Optional[str],
                 on_deliver: Optional[Callable[[Message], None]],
                 on_view: Optional[Callable[[GroupView], None]],
                 config: Optional[Config], timeout: float) -> None:
        self.group, self.on_deliver, self.on_view = group, on_deliver, on_view
        self.view: Optional[GroupView] = None
        self.fate: Optional[str] = None
        self.inbox: "queue.Queue[Any]" = queue.Queue()
        self.outbox: "queue.Queue[Any]" = queue.Queue()
        self.admitted = threading.Event()
        self.done = threading.Event()
        # An endpoint of our own (the thread owns it; Thespian's are not
        # for several threads), made here: Thespian may set signal handlers.
        self.asys, port = _attach(cluster.address, cluster.cookie)
        try:
            here = _find(self.asys, port, cluster.timeout)
            placed = _ask(self.asys, here.directory,
                          Place(group, here.node, 1, relay.SPEC, (here.you,),
                                config or group_config(), name),
                          Placed, cluster.timeout, f"the directory of node {here.node}")
            if placed.error:
                raise ClusterError(placed.error)
            self.name = placed.names[0]
            self.relay = self._until_up(timeout)
        except BaseException:
            _close(self.asys)
            raise
        self.thread = threading.Thread(target=self._run, name=f"groupy-member-{self.name}",
                                       daemon=True)
        self.thread.start()
        end = time.monotonic() + timeout
        while not self.admitted.wait(0.05) and not self.done.is_set() \
                and time.monotonic() < end:
            pass
        if not self.admitted.is_set():
            self.close()
            raise ClusterError(f"{self.name} was not admitted to {group} within {timeout:g}s"
                               + (f": {self.fate}" if self.fate else ""))

    def _until_up(self, timeout: float) -> Any:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            msg = self.asys.listen(max(0.01, end - time.monotonic()))
            if isinstance(msg, relay.RelayUp):
                return msg.relay
        raise ClusterError(f"member {self.name} was not created within {timeout:g}s")

    # -- this program's side -------------------------------------------------------------

    def mcast(self, payload: Any) -> None:
        """Multicast `payload` to the group (in the group's total order)."""
        if self.done.is_set():
            raise ClusterError(f"member {self.name} is gone: {self.fate}")
        self.outbox.put(relay.RelayMcast(payload))

    def deliveries(self, timeout: Optional[float] = None) -> Iterator[Message]:
        """The delivered messages, in order, as they come; ends when none
        came for `timeout` seconds (None: never) or the member stopped."""
        while True:
            try:
                item = self.inbox.get(timeout=timeout)
            except queue.Empty:
                return
            if item is _CLOSE:
                self.inbox.put(_CLOSE)      # for the next reader too
                return
            yield item

    def close(self, timeout: float = 10.0) -> None:
        """Leave the group and let go of the node."""
        if not self.done.is_set():
            self.outbox.put(relay.RelayLeave())
            self.done.wait(timeout)
        self.done.set()
        self.thread.join(timeout)
        _close(self.asys)

    def __enter__(self) -> "ExternalMember":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- the thread ----------------------------------------------------------------------

    def _run(self) -> None:
        next_ping = 0.0
        try:
            while not self.done.is_set():
                while True:
                    try:
                        out = self.outbox.get_nowait()
                    except queue.Empty:
                        break
                    self.asys.tell(self.relay, out)
                if time.monotonic() >= next_ping:
                    self.asys.tell(self.relay, relay.Ping())
                    next_ping = time.monotonic() + relay.PING_EVERY
                msg = self.asys.listen(0.05)
                if msg is not None:
                    self._receive(msg)
        finally:
            self.done.set()
            self.inbox.put(_CLOSE)

    def _receive(self, msg: Any) -> None:
        try:
            self._dispatch(msg)
        except Exception:       # a callback's: the member goes on
            log.exception("%s: a callback failed", self.name)

    def _dispatch(self, msg: Any) -> None:
        kind = type(msg)
        if kind is relay.Delivered:
            self.inbox.put(msg.message)
            if self.on_deliver:
                self.on_deliver(msg.message)
        elif kind is relay.Viewed:
            self.view = msg.view
            if self.name in msg.view.members:
                self.admitted.set()
            if self.on_view:
                self.on_view(msg.view)
        elif kind is relay.Stopped:
            self.fate = msg.reason
            self.done.set()

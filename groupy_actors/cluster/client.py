"""Talking to a running convention from a command (or a test): attach to
the convention leader's actor system on this machine and ask its directory."""
from __future__ import annotations

import ipaddress
import socket
import time
from typing import Any

from thespian.actors import ActorSystem

from .. import transport
from ..system import BASES, port_in_use
from .directory import Directory
from .messages import Place, Placed, StatusReply, StatusRequest, StopAll, Stopping

DIRECTORY = "groupy-directory"


class ClusterError(Exception):
    """The convention could not be reached or refused (the message says why)."""


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


class Convention:
    """A client of the convention leader's actor system (never shuts it down)."""

    def __init__(self, address: str, timeout: float = 10.0,
                 cookie: bytes | None = None) -> None:
        host, port = parse_address(address)
        if not is_local(host):
            raise ClusterError(f"{host} is not this machine: run this command on the machine "
                               "of the convention leader (the node started without --convention)")
        if not port_in_use(port):
            raise ClusterError(f"no node runs on port {port} here (start one with "
                               f"`run_group.py node --port {port}`)")
        self.timeout = timeout
        caps: dict[str, Any] = {"Admin Port": port}
        if cookie is not None:      # else $GROUPY_COOKIE, if set
            caps[transport.COOKIE_CAPABILITY] = cookie
        transport.register()
        try:
            self.asys = ActorSystem(BASES["tcp"], caps, transientUnique=True)
            self.directory = self.asys.createActor(Directory, globalName=DIRECTORY)
        except Exception as e:
            raise ClusterError(f"cannot reach the node on port {port}: {e} (a node started "
                               "with a cookie answers only commands given the same one: "
                               "--cookie-file or $GROUPY_COOKIE)") from None

    def ask(self, msg: Any, answer: type) -> Any:
        end = time.monotonic() + self.timeout
        self.asys.tell(self.directory, msg)
        while time.monotonic() < end:
            reply = self.asys.listen(max(0.01, end - time.monotonic()))
            if isinstance(reply, answer):
                return reply
        raise ClusterError(f"the directory did not answer within {self.timeout:g}s")

    def place(self, place: Place) -> Placed:
        reply = self.ask(place, Placed)
        if reply.error:
            raise ClusterError(reply.error)
        return reply

    def status(self, group: str | None = None, settle: bool = False) -> StatusReply:
        return self.ask(StatusRequest(group, settle), StatusReply)

    def stop(self) -> Stopping:
        return self.ask(StopAll(), Stopping)

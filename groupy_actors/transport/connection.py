"""One TCP connection and one peer's outgoing queue.

A `Connection` is symmetric: whichever side opened it, bytes in either
direction are frames, and data frames are acknowledged on the same
connection in the order they arrived (Thespian's rule, which stock nodes
rely on when they reuse a connection we opened to send to us). So each
connection keeps the data frames it carried that are not acknowledged yet
(`unacked`, oldest first) and the acknowledgements it owes (`acks_owed`).

A `Peer` is a destination (a listen address): the intents waiting to be
written (`queue`), the connection they go out on, and the bookkeeping for
reconnecting after a loss.
"""
from __future__ import annotations

import socket
import time
from collections import deque
from typing import Any, Optional

from .framing import AuthChannel, PlainChannel

CONNECTING, HANDSHAKE, OPEN = "connecting", "handshake", "open"

SOCKET_BUFFER = 4 * 1024 * 1024


def tune_socket(sock: socket.socket) -> None:
    """Non-blocking, no Nagle delay (small frames and acknowledgements must
    leave at once), and large buffers (a window of frames in flight)."""
    sock.setblocking(False)
    for level, option, value in ((socket.IPPROTO_TCP, socket.TCP_NODELAY, 1),
                                 (socket.SOL_SOCKET, socket.SO_SNDBUF, SOCKET_BUFFER),
                                 (socket.SOL_SOCKET, socket.SO_RCVBUF, SOCKET_BUFFER)):
        try:
            sock.setsockopt(level, option, value)
        except OSError:
            pass    # a socket being torn down refuses options; it will fail later anyway


class Connection:
    __slots__ = ("sock", "fd", "channel", "outgoing", "state", "peer", "rbuf", "wbuf",
                 "unacked", "acks_owed", "events", "label", "started")

    def __init__(self, sock: socket.socket, channel: PlainChannel | AuthChannel,
                 outgoing: bool, state: str, label: str) -> None:
        self.sock = sock
        self.fd = sock.fileno()
        self.channel = channel
        self.outgoing = outgoing
        self.state = state
        self.peer: Optional[Peer] = None        # set while it carries that peer's sends
        self.rbuf = bytearray()
        self.wbuf = bytearray()
        self.unacked: deque[Any] = deque()      # TransmitIntents written, not acknowledged
        self.acks_owed: list[bool] = []
        self.events = 0                         # what the selector watches it for
        self.label = label                      # for log lines
        self.started = time.monotonic()

    def __repr__(self) -> str:
        return f"<{'out' if self.outgoing else 'in'} {self.label} fd={self.fd} {self.state}>"


class Peer:
    __slots__ = ("key", "address", "queue", "conn", "failures", "retry_at", "progress",
                 "wait_inbound")

    def __init__(self, key: Any, address: Any, wait_inbound: bool) -> None:
        self.key = key
        self.address = address              # the ActorAddress we were asked to send to
        self.queue: deque[Any] = deque()    # TransmitIntents not written yet, in order
        self.conn: Optional[Connection] = None
        self.failures = 0                   # connection losses since the last progress
        self.retry_at = 0.0                 # no (re)connect before this monotonic time
        self.progress = time.monotonic()    # last connect or acknowledgement
        # A remote admin that only connects out ("Outbound Only"): wait for
        # it to connect to us and send on that connection.
        self.wait_inbound = wait_inbound

    @property
    def backlog(self) -> int:
        return len(self.queue) + (len(self.conn.unacked) if self.conn else 0)

    def __repr__(self) -> str:
        return f"<peer {self.address} queued={len(self.queue)} conn={self.conn}>"

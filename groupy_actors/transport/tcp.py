"""A pipelined, optionally authenticated TCP transport for Thespian.

It replaces the sending and receiving machinery of Thespian's
`TCPTransport` (which sends one message per peer per round trip, rebuilds
its selector on every pass and rescans every waiting send) and keeps the
rest: addresses, endpoints for new actors, admin routing, the wakeup
timers and the `run()` contract the admin and the actors are written
against. What it does differently, and why:

- One persistent connection per peer, with up to `WINDOW` data frames
  written and not yet acknowledged; what one handler pass produces for a
  peer leaves in one `send()`, and so do the acknowledgements owed on a
  connection. Reads are greedy: every complete frame in the buffer is
  handled. One epoll selector lives as long as the transport; sockets are
  registered when they appear and unregistered before they are closed.
- A queue per peer, with its own limits (see `settings`): a peer that does
  not read fills its own queue, not a slot shared with healthy peers (stock
  Thespian's `THESPIAN_MAX_PENDING_TRANSMITS` is global, so one stuck peer
  stalled sends to everyone).
- After a connection loss the frames not yet acknowledged are written
  again, in order, on a new connection, ahead of the queue. A frame that
  had arrived but whose acknowledgement was lost then arrives twice: the
  layers above must tolerate duplicates (our protocol numbers its
  channels). A refused (re)connect turns every waiting send to that peer
  into a dead letter (`SendStatus.DeadTarget`, so Thespian's own path
  makes a `DeadEnvelope`).
- The wire format is stock Thespian's when no secret is set, so stock
  `multiprocTCPBase` nodes and ours talk both ways; with a secret every
  frame on every port is authenticated before it is unpickled
  (`framing.AuthChannel`), and only our base can join.
- Listen sockets bind to the configured address, loopback by default.
- A signal handler or another thread wakes the loop through a pipe, not
  a connection to our own listen socket.
"""
from __future__ import annotations

import errno
import logging
import os
import pickle
import select
import selectors
import socket
import threading
import time
import weakref
from collections import deque
from typing import Any, Optional

from thespian.actors import ActorAddress
from thespian.system.transport import (ExternalInterfaceTransportInit, ReceiveEnvelope,
                                       SendStatus, Thespian__Run_Expired,
                                       Thespian__Run_HandlerResult, Thespian__Run_Terminated,
                                       TransmitIntent, TransmitOnly)
from thespian.system.transport.asyncTransportBase import asyncTransportBase
from thespian.system.transport.IPBase import (RoutedTCPv4ActorAddress, TCPv4ActorAddress,
                                              TXOnlyAdminTCPv4ActorAddress, thisSystem)
from thespian.system.transport.TCPTransport import (DEFAULT_ADMIN_PORT, LISTEN_DEPTH,
                                                    ExternalTransportCopy, TCPEndpoint,
                                                    TCPTransport)
from thespian.system.transport.wakeupTransportBase import wakeupTransportBase
from thespian.system.utilis import thesplog

from ..logs import log
from . import tuning
from .connection import CONNECTING, HANDSHAKE, OPEN, Connection, Peer, tune_socket
from .framing import ACK, ACK_PAYLOAD, DATA, NAK, NAK_PAYLOAD, Refused, channel
from .messages import TransportControl, TransportStats, TransportStatsRequest
from .settings import LOOPBACK, PEER_HIGH, PEER_LIMIT, PEER_LOW, WINDOW, Settings

RECV_SIZE = 256 * 1024
READ_PER_PASS = 4 * 1024 * 1024     # then let the other sockets have a turn
ACCEPT_PER_PASS = 64
MAX_RETRIES = 20                    # connection losses without progress before giving up
# Seconds between reconnects. Stock's backoff grows to 7.3 s; after a
# network cut heals, that was the wait before a member was heard again
# (measured: 5-8 s to reunite a partitioned group at a 1 s suspicion time).
MIN_BACKOFF, MAX_BACKOFF = 0.02, 1.0
# An outgoing connection that does not connect, or whose frames go this long
# without an acknowledgement, is given up and made anew: on a cut, TCP's own
# retransmissions back off to several seconds, and a connection left hanging
# would only resume that long after the heal.
LIVENESS = 2.0
STALL = 1.0         # a peer that acknowledged nothing for this long is not waited for
SWEEP = 0.5         # how often queued sends are checked for expiry
EXIT_DRAIN = 7.0    # longest an exiting actor waits for its sends (stock: 7 s, then again)
FINAL_FLUSH = 0.5   # what the admin's last pass writes out before its process ends
LOGGER = "groupy_actors.transport"      # logged as the package, not this module


# Every transport of this process, for `_release_inherited`.
_instances: "weakref.WeakSet[PipelinedTCPTransport]" = weakref.WeakSet()


def _release_inherited() -> None:
    """In a fresh fork, close what transports of the parent held: a
    connection kept open by a fork that never uses it would keep its peer
    from seeing our close, and an inherited epoll instance is shared.
    (Thespian's children close what `childResetFileNumList` lists; an admin
    forked from the caller closes nothing.)"""
    for inst in list(_instances):
        if inst._owner != os.getpid():
            inst._release()


class _Envelope(ReceiveEnvelope):
    """A received message whose debug text is built only if it is logged
    (actorManager and adminCore format `identify()` for DEBUG lines)."""

    def identify(self) -> Any:
        return tuning.LazyText(super().identify)

    def __str__(self) -> str:
        return ReceiveEnvelope.identify(self)


class GroupyEndpoint(TCPEndpoint):
    """What a parent hands a forked admin or actor: Thespian's endpoint
    arguments plus our settings (the secret travels in process memory,
    never in capabilities or the environment of the fork)."""

    def __init__(self, settings: Settings, *args: Any) -> None:
        super().__init__(*args)
        self.settings = settings


def peer_key(address: ActorAddress) -> Optional[tuple[str, int]]:
    """One queue and one connection per listening socket: every name this
    machine goes by counts as the same host. None for an address that is
    not a listen socket (a child not started yet has a local address)."""
    sockname = getattr(getattr(address, "addressDetails", None), "sockname", None)
    if not sockname:
        return None
    host, port = sockname[:2]
    if not host or host == "0.0.0.0" or thisSystem.isLocalAddr(host):
        host = ""
    return host, port


class PipelinedTCPTransport(TCPTransport):
    """See the module docstring."""

    def __init__(self, initType: Any, *args: Any, settings: Optional[Settings] = None) -> None:
        # Not TCPTransport.__init__: it binds 0.0.0.0 and builds the
        # structures this class replaces. Its bases set up the send queue
        # accounting and the wakeup timers.
        asyncTransportBase.__init__(self)
        self._owner = os.getpid()
        if isinstance(initType, ExternalInterfaceTransportInit):
            capabilities = args[0]
            self._settings = settings or Settings.from_capabilities(capabilities)
            self._adminAddr = self.getAdminAddr(capabilities)
            self._parentAddr = None
            self.txOnly = False     # the caller is always local to its admin
            admin_routing, port, is_admin, hint = False, 0, False, self._adminAddr
        elif isinstance(initType, TCPEndpoint):
            (_num, assigned, self._parentAddr, self._adminAddr, admin_routing,
             self.txOnly) = initType.args
            self._settings = getattr(initType, "settings", None) or settings or Settings()
            _release_inherited()
            is_admin = assigned == self._adminAddr
            port = assigned.addressDetails.sockname[1] if assigned else 0
            hint = assigned or self._parentAddr or self._adminAddr
            # This process runs only a system of our base (an admin, logger
            # or actor): Thespian's own code in it may be tuned.
            tuning.apply()
        elif isinstance(initType, ExternalTransportCopy):
            self._adminAddr, self.txOnly, admin_routing = args[:3]
            self._settings = settings or Settings()
            self._parentAddr = None
            port, is_admin, hint = 0, False, self._adminAddr
        else:
            raise ValueError(f"unsupported transport init {type(initType).__name__}")

        self.socket = self._listen(port)
        host = self._advertised_host(hint)
        port = self.socket.getsockname()[1]
        if is_admin and self.txOnly:
            self.myAddress = ActorAddress(TXOnlyAdminTCPv4ActorAddress(host, port, external=True))
        elif admin_routing:
            self.myAddress = ActorAddress(RoutedTCPv4ActorAddress(
                host, port, self._adminAddr, txOnly=self.txOnly, external=True))
        else:
            self.myAddress = ActorAddress(TCPv4ActorAddress(host, port, external=True))

        self._incomingEnvelopes: deque[Any] = deque()
        self._inbox: deque[Any] = deque()        # intents scheduled, not yet queued to a peer
        self._finished: deque[tuple[Any, Any]] = deque()    # (intent, status) to complete
        self._peers: dict[tuple[str, int], Peer] = {}
        self._conns: dict[int, Connection] = {}
        self._dirty: set[Connection] = set()     # owes a flush (new frames or acks)
        self._watches: list[int] = []
        self._watching: set[int] = set()
        self._checkChildren = False
        self._shutdownSignalled = False
        self._abort: Optional[bool] = None      # None, or drain?
        self._abort_deadline = 0.0
        self._loop_thread: Optional[int] = None
        self._rx_paused = False
        self._next_sweep = 0.0
        self._controls_seen: set[str] = set()
        self._drop_all = False
        self.counters = dict(frames_out=0, frames_in=0, refused=0, reconnects=0, resent=0,
                             dead_letters=0, dropped=0, expired=0, accepted=0, connects=0)

        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._selector = selectors.EpollSelector() if hasattr(selectors, "EpollSelector") \
            else selectors.DefaultSelector()
        self._selector.register(self.socket.fileno(), selectors.EVENT_READ, "listen")
        self._selector.register(self._wake_r, selectors.EVENT_READ, "wake")
        _instances.add(self)

    # -- setup -----------------------------------------------------------------

    @property
    def secret_set(self) -> bool:
        return self._settings.secret is not None

    def _listen(self, port: int) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        bind = "" if self._settings.wildcard else self._settings.bind_host
        try:
            sock.bind((bind, port))
        except OSError:
            sock.close()
            raise
        sock.listen(LISTEN_DEPTH)
        sock.setblocking(False)
        return sock

    def _advertised_host(self, hint: Any) -> str:
        """The host others reach our listen socket at: the bind address,
        unless bound to every interface (then as stock Thespian finds it)."""
        if not self._settings.wildcard:
            return self._settings.bind_host
        external = hint if hint else True
        return TCPv4ActorAddress(None, 0, external=external).sockname[0]

    @staticmethod
    def getAdminAddr(capabilities: dict[str, Any]) -> ActorAddress:
        settings = Settings.from_capabilities(capabilities)
        if settings.wildcard:
            return TCPTransport.getAdminAddr(capabilities)
        kind = TXOnlyAdminTCPv4ActorAddress if capabilities.get("Outbound Only", False) \
            else TCPv4ActorAddress
        return ActorAddress(kind(settings.bind_host,
                                 capabilities.get("Admin Port", DEFAULT_ADMIN_PORT),
                                 external=True))

    def external_transport_clone(self) -> "PipelinedTCPTransport":
        return PipelinedTCPTransport(
            ExternalTransportCopy(), self._adminAddr, self.txOnly,
            isinstance(self.myAddress.addressDetails, RoutedTCPv4ActorAddress),
            settings=self._settings)

    def prepEndpoint(self, assignedLocalAddr: Any, capabilities: dict[str, Any]) -> GroupyEndpoint:
        from thespian.system.addressManager import ActorLocalAddress
        if isinstance(assignedLocalAddr.addressDetails, ActorLocalAddress):
            num, assigned = assignedLocalAddr.addressDetails.addressInstanceNum, None
        else:
            num, assigned = None, assignedLocalAddr     # the admin's known address
        outbound_only = capabilities.get("Outbound Only", False)
        return GroupyEndpoint(self._settings, num, assigned, self.myAddress, self._adminAddr,
                              capabilities.get("Admin Routing", False) or outbound_only,
                              outbound_only)

    def protectedFileNumList(self) -> list[int]:
        # A forked child closes exactly these: every socket we hold (or a
        # peer would never see our close), the epoll instance (shared with
        # the child otherwise) and the wake pipe.
        return [self.socket.fileno(), self._selector.fileno(), self._wake_r, self._wake_w] + \
            list(self._conns)

    def childResetFileNumList(self) -> list[int]:
        return self.protectedFileNumList()

    def close(self) -> None:
        if getattr(self, "_owner", None) != os.getpid() or not hasattr(self, "_conns") or \
                getattr(self, "_released", False):
            return      # an inherited copy in a fork: the sockets are not ours to close
        for conn in list(self._conns.values()):
            self._discard(conn)
        for peer in self._peers.values():
            for intent in peer.queue:
                intent.tx_done(SendStatus.Failed)
            peer.queue.clear()
        self._peers.clear()
        try:
            self._selector.close()
        except Exception:
            pass
        for fd in (self._wake_r, self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass
        self.socket.close()
        del self._conns

    def _release(self) -> None:
        """Close an inherited copy's descriptors, never touching the
        connections themselves (no shutdown(), which would end them for
        their owner too)."""
        if getattr(self, "_released", False) or not hasattr(self, "_conns"):
            return
        self._released = True
        socks = [self.socket] + [c.sock for c in self._conns.values()]
        fds = [self._wake_r, self._wake_w]
        for sock in socks:
            try:
                fds.append(sock.detach())
            except OSError:
                pass
        try:
            self._selector._selector.close()    # the epoll object: close() of its fd only
        except Exception:
            pass
        for fd in fds:
            try:
                os.close(fd)
            except OSError:
                pass
        self._conns = {}
        self._peers = {}

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    # -- status ----------------------------------------------------------------

    def _updateStatusResponse(self, resp: Any) -> None:
        for peer in self._peers.values():
            waiting = list(peer.conn.unacked) if peer.conn else []
            for intent in waiting + list(peer.queue):
                resp.addPendingMessage(self.myAddress, intent.targetAddr, str(intent.message))
        for env in self._incomingEnvelopes:
            resp.addReceivedMessage(env.sender, self.myAddress, str(env.message))
        asyncTransportBase._updateStatusResponse(self, resp)
        wakeupTransportBase._updateStatusResponse(self, resp)
        for name, value in self.counters.items():
            resp.addKeyVal(f"transport {name}", str(value))

    def stats(self) -> TransportStats:
        return TransportStats(self.myAddress, os.getpid(),
                              dict(self.counters, pending=self._pending()), self.secret_set)

    # -- scheduling (any thread) --------------------------------------------------

    def _canSendNow(self) -> bool:
        # The global cap on sends in progress is replaced by per-peer limits.
        return True

    def serializer(self, intent: Any) -> bytes:
        # Only the payload: framing (and authentication, with its
        # per-connection counter) happens when the frame is written.
        return pickle.dumps((self.myAddress, intent.message))

    def _scheduleTransmitActual(self, intent: Any, has_exclusive_flag: bool = False) -> None:
        intent = self._forwardIfNeeded(intent)
        if not intent:
            return
        on_loop = threading.get_ident() == self._loop_thread
        if intent.targetAddr == self.myAddress:
            self._processReceivedEnvelope(_Envelope(intent.targetAddr, intent.message))
            self._finished.append((intent, SendStatus.Sent))
            if not on_loop:
                self.interrupt_wait()
            return
        if on_loop:
            self._enqueue(intent)
        else:
            self._inbox.append(intent)
            self.interrupt_wait()

    def _finishIntent(self, intent: Any, status: Any = SendStatus.Sent) -> bool:
        self._finished.append((intent, status))
        return False

    def interrupt_wait(self, signal_shutdown: bool = False, check_children: bool = False) -> None:
        # Safe in a signal handler: flags, then one byte down a pipe.
        self._shutdownSignalled |= signal_shutdown
        self._checkChildren |= check_children
        try:
            os.write(self._wake_w, b"!")
        except OSError:
            pass    # full (a wakeup is pending anyway) or closed

    def abort_run(self, drain: bool = False) -> None:
        if self._abort is None:
            self._abort_deadline = time.monotonic() + EXIT_DRAIN
        self._abort = drain

    def set_watch(self, watchlist: list[int]) -> None:
        self._watches = list(watchlist or [])

    # -- peers and queues (loop thread) ---------------------------------------------

    def _peer(self, address: ActorAddress) -> Peer:
        key = peer_key(address)
        peer = self._peers.get(key)
        if peer is None:
            inbound = isinstance(address.addressDetails, TXOnlyAdminTCPv4ActorAddress) and \
                address != self._adminAddr
            peer = self._peers[key] = Peer(key, address, inbound)
        return peer

    def _enqueue(self, intent: Any) -> None:
        if peer_key(intent.targetAddr) is None:
            log(LOGGER).warning("%s: cannot send to %s (not a TCP address)", self.myAddress,
                                intent.targetAddr)
            self._finished.append((intent, SendStatus.Failed))
            return
        peer = self._peer(intent.targetAddr)
        if peer.backlog >= PEER_LIMIT:
            self.counters["dropped"] += 1
            if self.counters["dropped"] % 1000 == 1:
                log(LOGGER).warning("%s: %d sends waiting for %s; dropping more "
                                    "(%d dropped so far)", self.myAddress, peer.backlog,
                                    peer.address, self.counters["dropped"])
            self._finished.append((intent, SendStatus.Failed))
            return
        peer.queue.append(intent)
        if peer.conn is None:
            self._connect(peer)
        elif peer.conn.state == OPEN:
            self._dirty.add(peer.conn)
        if peer.backlog >= PEER_HIGH and self._aTB_rx_pause_enabled and \
                threading.get_ident() == self._loop_thread:
            self._drain_peer(peer)

    def _absorb_inbox(self) -> None:
        # Stragglers left in the base class's queue by a thread that found
        # it busy are picked up here too.
        while self._aTB_queuedPendingTransmits and self._runQueued():
            pass
        while self._inbox:
            self._enqueue(self._inbox.popleft())

    def _pending(self) -> int:
        return len(self._inbox) + len(self._aTB_queuedPendingTransmits) + \
            sum(p.backlog for p in self._peers.values())

    # -- connections -------------------------------------------------------------

    def _register(self, conn: Connection, events: int) -> None:
        if events == conn.events:
            return
        if not conn.events:
            self._selector.register(conn.fd, events, conn)
        elif not events:
            self._selector.unregister(conn.fd)
        else:
            self._selector.modify(conn.fd, events, conn)
        conn.events = events

    def _interest(self, conn: Connection) -> int:
        events = 0
        if conn.state == CONNECTING or conn.wbuf:
            events |= selectors.EVENT_WRITE
        if conn.state != CONNECTING and (conn.outgoing or not self._rx_paused or conn.unacked):
            events |= selectors.EVENT_READ
        return events

    def _connect_target(self, address: ActorAddress) -> tuple[str, int]:
        host, port = address.addressDetails.connectArgs[0][:2]
        # Systems of our base on this machine listen on loopback; stock
        # ones on every interface, loopback included.
        if self._settings.loopback and (not host or thisSystem.isLocalAddr(host)):
            host = LOOPBACK
        return host, port

    def _connect(self, peer: Peer) -> None:
        if peer.wait_inbound or time.monotonic() < peer.retry_at:
            return
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        tune_socket(sock)
        target = self._connect_target(peer.address)
        err = sock.connect_ex(target)
        self.counters["connects"] += 1
        if err not in (0, errno.EINPROGRESS):
            sock.close()
            self._connect_failed(peer, err)
            return
        conn = Connection(sock, channel(self._settings.secret, initiator=True), True,
                          CONNECTING, "%s:%d" % target)
        conn.peer = peer
        peer.conn = conn
        self._conns[conn.fd] = conn
        self._register(conn, self._interest(conn))

    def _connected(self, conn: Connection) -> None:
        err = conn.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err:
            peer = conn.peer
            self._discard(conn)
            if peer is not None:
                peer.conn = None
                self._connect_failed(peer, err)
            return
        if conn.peer is not None:
            conn.peer.progress = time.monotonic()
        if conn.channel.authenticated:
            conn.state = HANDSHAKE
            conn.wbuf += conn.channel.hello
        else:
            conn.state = OPEN
        self._flush(conn)

    def _connect_failed(self, peer: Peer, err: int) -> None:
        if err == errno.ECONNREFUSED:
            # Nobody listens there any more: the peer is gone. Its sends
            # become dead letters (Thespian's DeadEnvelope path).
            dead = list(peer.queue)
            peer.queue.clear()
            self.counters["dead_letters"] += len(dead)
            for intent in dead:
                self._finished.append((intent, SendStatus.DeadTarget))
            peer.failures = 0
            self._peers.pop(peer.key, None)
            return
        log(LOGGER).info("%s: cannot connect to %s: %s", self.myAddress, peer.address,
                         os.strerror(err))
        self._backoff(peer)

    def _backoff(self, peer: Peer) -> None:
        peer.failures += 1
        if peer.failures > MAX_RETRIES:
            log(LOGGER).warning("%s: giving up on %s after %d connection failures; %d sends fail",
                                self.myAddress, peer.address, peer.failures - 1, len(peer.queue))
            for intent in peer.queue:
                self._finished.append((intent, SendStatus.Failed))
            peer.queue.clear()
            peer.failures = 0
            return
        delay = 0.0 if peer.failures == 1 else \
            min(MAX_BACKOFF, MIN_BACKOFF * 1.7 ** (peer.failures - 2))
        peer.retry_at = time.monotonic() + delay
        self._next_sweep = min(self._next_sweep, peer.retry_at)

    def _discard(self, conn: Connection) -> None:
        """Forget a connection: unregister it first (an epoll registration
        outlives a close while a fork still holds the socket), then close."""
        self._conns.pop(conn.fd, None)
        self._dirty.discard(conn)
        if conn.events:
            try:
                self._selector.unregister(conn.fd)
            except (KeyError, ValueError, OSError):
                pass
            conn.events = 0
        try:
            conn.sock.close()
        except OSError:
            pass

    def _lost(self, conn: Connection, why: Any) -> None:
        """A connection ended or failed: resend what it had not had
        acknowledged, in order, ahead of what waits."""
        if conn.fd not in self._conns:
            return
        self._discard(conn)
        peer = conn.peer
        if peer is None or peer.conn is not conn:
            return
        peer.conn = None
        if conn.unacked:
            self.counters["resent"] += len(conn.unacked)
            peer.queue.extendleft(reversed(conn.unacked))
            conn.unacked.clear()
            log(LOGGER).info("%s: connection to %s lost (%s); resending %d frames", self.myAddress,
                             peer.address, why, len(peer.queue))
        if peer.queue:
            self.counters["reconnects"] += 1
            self._backoff(peer)

    def _accept(self) -> None:
        for _ in range(ACCEPT_PER_PASS):
            try:
                sock, addr = self.socket.accept()
            except (BlockingIOError, InterruptedError):
                break
            except OSError as e:
                log(LOGGER).warning("%s: accept failed: %s", self.myAddress, e)
                break
            tune_socket(sock)
            self.counters["accepted"] += 1
            conn = Connection(sock, channel(self._settings.secret, initiator=False), False,
                              OPEN, "%s:%d" % addr[:2])
            self._conns[conn.fd] = conn
            if conn.channel.authenticated:
                conn.wbuf += conn.channel.hello
            self._register(conn, self._interest(conn))
            self._write(conn)
        # A SIGCHLD or shutdown signal may have woken us this way (stock
        # Thespian's wakeup, still used by its code).
        self._check_indicators()

    # -- writing ------------------------------------------------------------------

    def _flush(self, conn: Connection) -> None:
        """Frame what this connection owes (acknowledgements, then queued
        sends up to the window) and write it with one send()."""
        if conn.fd not in self._conns:
            return
        if conn.state != OPEN:
            self._write(conn)       # a hello, perhaps
            return
        parts = []
        if conn.acks_owed:
            parts.append(conn.channel.seal_acks(conn.acks_owed))
            conn.acks_owed = []
        peer = conn.peer
        if peer is not None and peer.conn is conn:
            room = WINDOW - len(conn.unacked)
            seal = conn.channel.seal
            queue, unacked = peer.queue, conn.unacked
            sent = 0
            while queue and sent < room:
                intent = queue.popleft()
                parts.append(seal(intent.serMsg))
                unacked.append(intent)
                sent += 1
            self.counters["frames_out"] += sent
        if parts:
            conn.wbuf += b"".join(parts)
        self._write(conn)

    def _write(self, conn: Connection) -> None:
        if conn.wbuf:
            try:
                sent = conn.sock.send(conn.wbuf)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError as e:
                self._lost(conn, e.strerror or e)
                return
            if sent:
                del conn.wbuf[:sent]
        self._register(conn, self._interest(conn))

    def _flush_dirty(self) -> None:
        while self._dirty:
            self._flush(self._dirty.pop())

    # -- reading ------------------------------------------------------------------

    def _readable(self, conn: Connection) -> None:
        total, eof = 0, None
        while total < READ_PER_PASS:
            try:
                chunk = conn.sock.recv(RECV_SIZE)
            except (BlockingIOError, InterruptedError):
                break
            except OSError as e:
                eof = e.strerror or str(e)
                break
            if not chunk:
                eof = "closed by peer"
                break
            conn.rbuf += chunk
            total += len(chunk)
            if len(chunk) < RECV_SIZE:
                break
        if conn.rbuf:
            try:
                frames = conn.channel.feed(conn.rbuf)
            except Refused as e:
                self._refuse(conn, str(e))
                return
            if conn.state == HANDSHAKE and conn.channel.ready:
                conn.state = OPEN
                self._dirty.add(conn)
            if frames:
                self._frames(conn, frames)
        if eof is not None:
            self._lost(conn, eof)

    def _refuse(self, conn: Connection, why: str) -> None:
        self.counters["refused"] += 1
        log(LOGGER).warning("%s: refused a frame from %s: %s; connection closed "
                            "(%d refused so far)",
                            self.myAddress, conn.label, why, self.counters["refused"])
        thesplog("groupy transport: refused a frame from %s: %s", conn.label, why,
                 level=logging.WARNING)
        self._lost(conn, "refused: " + why)

    def _frames(self, conn: Connection, frames: list[tuple[int, Any]]) -> None:
        for kind, value in frames:
            if kind == DATA:
                kind = self._data(conn, value)
                if kind == DATA:
                    continue
                value = 1
            if not self._acked(conn, value, ok=kind == ACK):
                return
        if conn.acks_owed:
            self._dirty.add(conn)

    def _data(self, conn: Connection, payload: bytes) -> int:
        """Handle one data frame. Returns DATA, or ACK / NAK for a stock
        acknowledgement pickled in an encoding other than ours."""
        try:
            obj = pickle.loads(payload)
        except Exception as e:
            log(LOGGER).warning("%s: cannot unpickle a frame from %s: %r", self.myAddress,
                                conn.label, e)
            conn.acks_owed.append(False)
            return DATA
        if isinstance(obj, str) and obj in (ACK_PAYLOAD, NAK_PAYLOAD):
            return ACK if obj == ACK_PAYLOAD else NAK
        self.counters["frames_in"] += 1
        if not (isinstance(obj, tuple) and len(obj) == 2):
            conn.acks_owed.append(False)
            return DATA
        conn.acks_owed.append(True)
        sender, msg = obj
        if isinstance(msg, (TransportStatsRequest, TransportControl)):
            self._transport_message(sender, msg)
            return DATA
        if not conn.outgoing and conn.peer is None and isinstance(
                getattr(sender, "addressDetails", None), TXOnlyAdminTCPv4ActorAddress):
            # An outbound-only admin can only be answered on its own connection.
            peer = self._peer(sender)
            if peer.wait_inbound and peer.conn is None:
                peer.conn, conn.peer = conn, peer
                peer.progress = time.monotonic()
                if peer.queue:
                    self._dirty.add(conn)
        self._processReceivedEnvelope(_Envelope(sender, msg))
        return DATA

    def _acked(self, conn: Connection, count: int, ok: bool) -> bool:
        if count > len(conn.unacked):
            self._refuse(conn, "acknowledgement of a frame never sent")
            return False
        now = time.monotonic()
        for _ in range(count):
            intent = conn.unacked.popleft()
            self._finished.append((intent, SendStatus.Sent if ok else SendStatus.BadPacket))
        peer = conn.peer
        if peer is not None:
            peer.progress = now
            peer.failures = 0
            if peer.queue and peer.conn is conn:
                self._dirty.add(conn)
        return True

    def _transport_message(self, sender: Any, msg: Any) -> None:
        if isinstance(msg, TransportStatsRequest):
            self.scheduleTransmit(None, TransmitIntent(sender, self.stats()))
        elif msg.token not in self._controls_seen:
            self._controls_seen.add(msg.token)
            self._drop_all = msg.drop_connections

    # -- completions, expiry, dead addresses ------------------------------------------

    def _complete(self) -> None:
        while self._finished:
            intent, status = self._finished.popleft()
            intent.tx_done(status)

    def _sweep(self, now: float) -> None:
        """Fail sends past their deadline (THESPIAN_TRANSMIT_TIMEOUT_PERIOD,
        5 minutes by default); a connection whose oldest unacknowledged
        frame is past it is dropped, its frames going back to the queue."""
        self._next_sweep = now + SWEEP
        for peer in list(self._peers.values()):
            conn = peer.conn
            if conn is not None and conn.unacked and conn.unacked[0].expired():
                self._lost(conn, "no acknowledgement before the send deadline")
            elif conn is not None and conn.outgoing and (
                    (conn.state != OPEN and now - conn.started > LIVENESS)
                    or (conn.unacked and now - max(peer.progress, conn.started) > LIVENESS)):
                self._lost(conn, f"no answer for {LIVENESS:g}s")
            # Sends share one deadline length, so the oldest expire first.
            while peer.queue and peer.queue[0].expired():
                self.counters["expired"] += 1
                self._finished.append((peer.queue.popleft(), SendStatus.Failed))
            if peer.conn is None and peer.queue and not peer.wait_inbound and \
                    now >= peer.retry_at:
                self._connect(peer)
            if peer.conn is None and not peer.queue:
                self._peers.pop(peer.key, None)

    def deadAddress(self, addressManager: Any, childAddr: Any) -> None:
        key = peer_key(childAddr) if childAddr else None
        peer = self._peers.pop(key, None) if key else None
        if peer is not None:
            conn = peer.conn
            waiting = list(conn.unacked) if conn else []
            waiting += list(peer.queue)
            peer.queue.clear()
            if conn is not None:
                conn.unacked.clear()
                if conn.outgoing:
                    self._discard(conn)
                else:
                    conn.peer = None
                peer.conn = None
            for intent in waiting:
                self._finished.append((intent, SendStatus.DeadTarget))
        asyncTransportBase.deadAddress(self, addressManager, childAddr)

    def lostRemote(self, rmtaddr: Any) -> None:
        """The convention lost a remote system: drop our connection to that
        admin (stock compares only hosts, which on one host drops every
        connection). What it carried is resent on a new connection or, if
        refused, becomes dead letters."""
        if isinstance(rmtaddr.addressDetails, TXOnlyAdminTCPv4ActorAddress):
            return
        key = peer_key(rmtaddr)
        peer = self._peers.get(key) if key else None
        if peer is not None and peer.conn is not None and peer.conn.outgoing:
            self._lost(peer.conn, "its system left the convention")

    # -- the loop -------------------------------------------------------------------

    def _runWithExpiry(self, incomingHandler: Any) -> Any:
        outer = self._loop_thread
        self._loop_thread = threading.get_ident()
        try:
            return self._loop(incomingHandler)
        finally:
            self._loop_thread = outer

    def _pump(self) -> None:
        """Queue what was scheduled, write what is owed, run completions
        (which may schedule more) until nothing is left to do at once."""
        for _ in range(100):
            self._absorb_inbox()
            self._flush_dirty()
            if not self._finished:
                break
            self._complete()

    def _set_rx_paused(self, paused: bool) -> None:
        """While only transmitting (an exiting actor draining its sends),
        accept and read nothing new: what we do not acknowledge, the sender
        still holds."""
        if paused == self._rx_paused:
            return
        self._rx_paused = paused
        if paused:
            self._selector.unregister(self.socket.fileno())
        else:
            self._selector.register(self.socket.fileno(), selectors.EVENT_READ, "listen")
        for conn in list(self._conns.values()):
            self._register(conn, self._interest(conn))

    def _loop(self, handler: Any) -> Any:
        xmit_only = handler is TransmitOnly or isinstance(handler, TransmitOnly)
        self._abort = None
        self._set_rx_paused(xmit_only)
        done_before = self._pending()
        while True:
            self._pump()
            if self._abort is not None:
                if not self._abort or not self._pending() or \
                        time.monotonic() > self._abort_deadline:
                    self._final_flush()
                    return Thespian__Run_Terminated()
            if xmit_only:
                pending = self._pending()
                if pending == 0 or pending < done_before:
                    return pending
            else:
                aborted = False
                while self._incomingEnvelopes:
                    env = self._incomingEnvelopes.popleft()
                    if handler is None:
                        return env
                    result = Thespian__Run_HandlerResult(handler(env))
                    self._pump()
                    if not result:
                        return result
                    if self._abort is not None:
                        aborted = True
                        break
                if aborted:
                    continue
            run_view = self.run_time.view()
            if run_view.expired():
                return Thespian__Run_Expired()
            timeout = run_view.remainingSeconds(forever=None)
            now = time.monotonic()
            if self._peers:
                if now >= self._next_sweep:
                    self._sweep(now)
                    continue
                timeout = self._next_sweep - now if timeout is None \
                    else min(timeout, self._next_sweep - now)
            if self._abort:
                timeout = min(timeout if timeout is not None else SWEEP, SWEEP)
            if self._incomingEnvelopes and not xmit_only or self._inbox or self._finished \
                    or self._dirty:
                timeout = 0
            self._poll(timeout)

    def _poll(self, timeout: Optional[float]) -> None:
        self._sync_watches()
        try:
            events = self._selector.select(timeout)
        except InterruptedError:
            events = []
        ready_watches = []
        for key, mask in events:
            what = key.data
            if what == "listen":
                self._accept()
            elif what == "wake":
                try:
                    while os.read(self._wake_r, 4096):
                        pass
                except OSError:
                    pass
                self._check_indicators()
            elif what == "watch":
                ready_watches.append(key.fd)
            elif key.fd in self._conns and what is self._conns[key.fd]:
                conn = what
                if conn.state == CONNECTING:
                    if mask & (selectors.EVENT_WRITE | selectors.EVENT_READ):
                        self._connected(conn)
                    continue
                if mask & selectors.EVENT_READ:
                    self._readable(conn)
                if mask & selectors.EVENT_WRITE and conn.fd in self._conns:
                    self._write(conn)
        if ready_watches:
            from thespian.actors import WatchMessage
            self._incomingEnvelopes.append(_Envelope(self.myAddress,
                                                     WatchMessage(ready_watches)))
        if self._drop_all:
            self._drop_all = False
            self._drop_connections()

    def _drop_connections(self) -> None:
        log(LOGGER).warning("%s: dropping every connection, as asked", self.myAddress)
        self._flush_dirty()     # the acknowledgement of the request itself
        for conn in list(self._conns.values()):
            self._lost(conn, "dropped on request")

    def _sync_watches(self) -> None:
        wanted = set(self._watches)
        if wanted == self._watching:
            return
        for fd in self._watching - wanted:
            try:
                self._selector.unregister(fd)
            except (KeyError, ValueError, OSError):
                pass
        for fd in wanted - self._watching:
            try:
                self._selector.register(fd, selectors.EVENT_READ, "watch")
            except (KeyError, ValueError, OSError) as e:
                log(LOGGER).warning("%s: cannot watch fd %s: %s", self.myAddress, fd, e)
                wanted.discard(fd)
        self._watching = wanted

    def _drain_peer(self, peer: Peer) -> None:
        """Backpressure, inside a send: wait while a peer that is still
        acknowledging has a long backlog (stock Thespian's tx-only mode, but
        for this peer only; one that stopped acknowledging is not waited for)."""
        while peer.backlog > PEER_LOW and time.monotonic() - peer.progress < STALL:
            conn = peer.conn
            if conn is None:
                self._connect(peer)
                conn = peer.conn
                if conn is None:
                    return
            if conn.state == OPEN:
                self._flush(conn)
            if conn.fd not in self._conns:
                continue
            poller = select.poll()
            mask = select.POLLIN | (select.POLLOUT if conn.wbuf or conn.state == CONNECTING
                                    else 0)
            poller.register(conn.fd, mask)
            ready = poller.poll(100)
            if not ready:
                continue
            if conn.state == CONNECTING:
                self._connected(conn)
                continue
            revents = ready[0][1]
            if revents & (select.POLLIN | select.POLLHUP | select.POLLERR):
                self._readable(conn)
            if revents & select.POLLOUT and conn.fd in self._conns:
                self._write(conn)

    def _final_flush(self) -> None:
        """The admin's process ends as soon as its loop returns, without
        draining: write out what is already framed or queued on open
        connections (best effort, briefly); acknowledgements are not awaited."""
        self._absorb_inbox()
        deadline = time.monotonic() + FINAL_FLUSH
        for conn in list(self._conns.values()):
            self._flush(conn)
        while time.monotonic() < deadline:
            waiting = [c for c in self._conns.values() if c.wbuf]
            if not waiting:
                break
            poller = select.poll()
            for conn in waiting:
                poller.register(conn.fd, select.POLLOUT)
            for fd, _ in poller.poll(50):
                conn = self._conns.get(fd)
                if conn is not None:
                    self._write(conn)

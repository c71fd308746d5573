"""Starting and stopping Thespian actor systems safely.

Lessons from ../shared/THESPIAN-NOTES.md are built in: always an explicit
admin port (without one, a TCP system attaches to whatever runs on 1900),
the admin's inherited stdout/stderr pointed at a log file (a pipe reading
our output would otherwise never close), logs to a file, and shutdown in
every exit path.
"""
from __future__ import annotations

import contextlib
import logging
import os
import socket
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Iterable, Iterator, Optional

from thespian.actors import ActorSystem

from . import reaper, transport

# "tcp" is our base (groupy_actors/transport: pipelined, loopback by
# default, frames authenticated when a cookie is set); "thespian-tcp" is
# stock multiprocTCPBase, which it interoperates with when no cookie is set.
BASES = {"simple": "simpleSystemBase", "tcp": transport.BASE_NAME,
         "thespian-tcp": "multiprocTCPBase", "udp": "multiprocUDPBase",
         "queue": "multiprocQueueBase"}
WITH_PROCESSES = {"tcp", "thespian-tcp", "udp", "queue"}
WITH_PORTS = {"tcp", "thespian-tcp", "udp"}


# Thespian caps an actor's submitted sends at 20 for all peers together, and
# a send to a peer that does not read (SIGSTOPped, or a connection a network
# cut left hanging) stays submitted for minutes: a few such peers stalled a
# leader's sends to everyone (measured, issue 4). The TCP transport still
# sends one message at a time per peer; the protocol bounds what it has
# unanswered per member. Set before the admin forks, so every actor has it.
PENDING_TRANSMITS = 1000


def _widen_pending_transmits() -> None:
    from thespian.system.transport import asyncTransportBase
    wanted = int(os.environ.get("THESPIAN_MAX_PENDING_TRANSMITS", PENDING_TRANSMITS))
    asyncTransportBase.MAX_PENDING_TRANSMITS = wanted


ADMIN_STARTUP = 30.0    # s: Thespian gives a new admin process 5 s to answer


def _patient_admin_start() -> None:
    # On a machine busy with other work the admin process (a fresh Python
    # importing Thespian) was measured to need more than Thespian's 5 s:
    # `Group.start` failed with "not a valid or useable ActorSystem Admin"
    # beside two CPU burners and a test run.
    from thespian.system import multiprocCommon
    multiprocCommon.MAX_ADMIN_STARTUP_DELAY = timedelta(seconds=ADMIN_STARTUP)


class StartError(Exception):
    """An actor system could not be started (the message says why)."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_in_use(port: int, host: str = "") -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


STDERR = "-"        # as a log file: standard error


def log_config(path: str, level: int = logging.INFO) -> dict[str, Any]:
    """A logging.config dict: everything to `path`, or to standard error if
    it is "-" (Thespian's `logDefs`)."""
    handler = {"class": "logging.StreamHandler", "stream": "ext://sys.stderr"} \
        if path == STDERR else {"class": "logging.FileHandler", "filename": path}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"plain": {"format": "%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s"}},
        "handlers": {"out": {**handler, "formatter": "plain"}},
        "root": {"handlers": ["out"], "level": level},
    }


@contextlib.contextmanager
def _stdio_to(path: str) -> Iterator[None]:
    """Point fds 1 and 2 at `path` while the admin forks off, then back."""
    saved = [os.dup(1), os.dup(2)]
    with open(path, "ab") as sink:
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved:
            os.close(fd)


@dataclass
class System:
    """A running actor system and how it was started."""

    asys: ActorSystem
    kind: str
    port: Optional[int]
    log_file: str

    forced: int = 0     # process groups that outlived the shutdown and were killed

    @property
    def processes(self) -> bool:
        return self.kind in WITH_PROCESSES

    def shutdown(self, pids: Iterable[int] = ()) -> None:
        """Stop the system; then kill whatever of it (its admin's process
        group, and those of `pids`) outlived that (see `reaper`)."""
        if self.asys is None:
            return
        asys, self.asys = self.asys, None
        groups = reaper.process_groups(self.port, self.kind == "udp", pids) \
            if self.processes else set()
        try:
            asys.shutdown()
        finally:
            self.forced += reaper.reap(groups)


def start(kind: str = "tcp", port: Optional[int] = None, log_file: Optional[str] = None,
          capabilities: Optional[dict[str, Any]] = None, level: int = logging.INFO,
          cookie: Optional[bytes] = None, bind: Optional[str] = None) -> System:
    """Start an actor system of `kind` (simple, tcp, thespian-tcp, udp, queue).
    For "tcp": `cookie` is the shared secret (default: $GROUPY_COOKIE, else
    none) and `bind` the listen address (default 127.0.0.1). `log_file` "-"
    logs to standard error (which the system's processes then share)."""
    if kind not in BASES:
        raise StartError(f"unknown system {kind!r}; choose one of {', '.join(BASES)}")
    if (cookie is not None or bind is not None) and kind != "tcp":
        raise StartError(f"a cookie and a bind address need --system tcp, not {kind}")
    if log_file is None:
        fd, log_file = tempfile.mkstemp(prefix="groupy-", suffix=".log")
        os.close(fd)
    os.environ.setdefault("THESPLOG_FILE", os.path.join(tempfile.gettempdir(), "thespian.log")
                          if log_file == STDERR else log_file + ".thespian")
    caps = dict(capabilities or {})
    if kind in WITH_PORTS:
        if port is None:
            port = free_port()
        elif not 0 < port < 65536:
            raise StartError(f"port {port} is not a TCP port number")
        elif port_in_use(port):
            raise StartError(f"port {port} is in use")
        caps["Admin Port"] = port
    else:
        port = None
    if kind == "tcp":
        transport.register()
        if cookie is not None:
            caps[transport.COOKIE_CAPABILITY] = cookie
        if bind is not None:
            caps[transport.BIND_CAPABILITY] = bind
    _widen_pending_transmits()
    _patient_admin_start()
    try:
        if kind in WITH_PROCESSES:
            with contextlib.nullcontext() if log_file == STDERR else _stdio_to(log_file):
                asys = ActorSystem(BASES[kind], caps, logDefs=log_config(log_file, level),
                                   transientUnique=True)
        else:
            asys = ActorSystem(BASES[kind], caps, transientUnique=True)
    except Exception as e:
        raise StartError(f"could not start a {kind} actor system: {e}") from None
    return System(asys, kind, port, log_file)

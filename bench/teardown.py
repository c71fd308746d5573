"""Stopping what a benchmark started, also when the actor system will not.

`Group.stop()` asks the admin to shut down. Measured here: an admin shut
down while its members are busy can fail to answer ("No response to Admin
shutdown request" in Thespian's log) and stay running with its actors,
and even after a clean shutdown the group's supervisor actor was seen to
outlive the admin by ~7 s. Such leftovers hold ports and (through
descriptors inherited when the admin forked) our stdout, so a pipe reading
the benchmark never closes. Thespian's admin runs in a session of its own
and every actor process it forks shares its process group, so we note that
group before the stop and, if anything of it is still there a moment
after, kill the whole group.
"""
from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import threading
import time
from typing import Iterable, Iterator, Optional

from groupy_actors import Group
from groupy_actors.system import System

log = logging.getLogger(__name__)

GRACE = 1.0     # seconds a stopped actor system's processes get to exit by themselves

# Systems whose leftovers had to be killed ("kind:port"), for the run's summary.
forced: list[str] = []


def stop_group(group: Group) -> None:
    """Stop `group`; then kill whatever of its actor system outlived that."""
    with deferred_interrupts():
        system = group.system
        groups = process_groups(system, [m.pid for m in group.members.values() if m.pid])
        try:
            group.stop()
        finally:
            reap(system, groups)


def stop_system(system: System) -> None:
    """Shut down a bare actor system (the `limit` runs), checked the same way."""
    with deferred_interrupts():
        groups = process_groups(system, [])
        try:
            system.shutdown()
        finally:
            reap(system, groups)


@contextlib.contextmanager
def deferred_interrupts() -> Iterator[None]:
    """Hold Ctrl-C (and SIGTERM) back while a system stops: one in the middle
    of a shutdown would leave its processes running. It is raised after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    held = (signal.SIGINT, signal.SIGTERM)
    previous = [signal.signal(s, lambda signum, frame: caught.append(signum)) for s in held]
    try:
        yield
    finally:
        for s, handler in zip(held, previous):
            signal.signal(s, handler)
    if caught:
        raise KeyboardInterrupt


def process_groups(system: System, pids: Iterable[int]) -> set[int]:
    """The process groups of a running system's admin and member processes."""
    if not system.processes:
        return set()
    found = {p for p in pids if _ours(p)}
    if system.port is not None:
        found |= _holders(system.port, "udp" if system.kind == "udp" else "tcp")
    return {g for g in map(_pgid, found) if g is not None and g != os.getpgrp()}


def reap(system: System, groups: set[int]) -> None:
    """Give `groups` GRACE seconds to be gone, then SIGKILL what is left."""
    end = time.monotonic() + GRACE
    left = groups
    while left:
        left = {g for g in left if _alive(g)}
        if not left or time.monotonic() >= end:
            break
        time.sleep(0.05)
    for g in left:
        # Frequent after a failover or a busy group (see the module's note),
        # so counted for the summary rather than shouted each time.
        log.debug("processes of the %s actor system (port %s) outlived its shutdown; "
                  "killing their process group %d", system.kind, system.port, g)
        forced.append(f"{system.kind}:{system.port}")
        try:
            os.killpg(g, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    multiprocessing.active_children()   # collect the zombies of our own forks


def _alive(pgid: int) -> bool:
    """Does a live process of ours remain in process group `pgid`?"""
    for entry in os.listdir("/proc"):
        if entry.isdigit() and _pgid(int(entry)) == pgid and _ours(int(entry)):
            return True
    return False


def _holders(port: int, proto: str) -> set[int]:
    """Our processes with a socket bound to `port` (listening, for TCP)."""
    inodes: set[str] = set()
    for table in (f"/proc/net/{proto}", f"/proc/net/{proto}6"):
        try:
            with open(table) as f:
                next(f, None)
                for line in f:
                    cols = line.split()
                    local, state, inode = cols[1], cols[3], cols[9]
                    if int(local.rsplit(":", 1)[1], 16) == port and \
                            (proto == "udp" or state == "0A"):
                        inodes.add(f"socket:[{inode}]")
        except OSError:
            continue
    if not inodes:
        return set()
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or not _ours(int(entry)):
            continue
        try:
            fds = os.listdir(f"/proc/{entry}/fd")
            if any(os.readlink(f"/proc/{entry}/fd/{fd}") in inodes for fd in fds):
                found.add(int(entry))
        except OSError:
            continue
    return found


_CMDLINE: Optional[bytes] = None


def _ours(pid: int) -> bool:
    """Is `pid` alive and one of ours? Actor processes are forks of this
    process, so they share its command line; that also keeps a recycled
    pid of somebody else's from being killed."""
    global _CMDLINE
    if pid == os.getpid():
        return False
    try:
        if _CMDLINE is None:
            with open("/proc/self/cmdline", "rb") as f:
                _CMDLINE = f.read()
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read() == _CMDLINE
    except OSError:
        return False


def _pgid(pid: int) -> Optional[int]:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None

"""Making sure a stopped actor system is gone, processes and ports.

Measured: an admin shut down while its members are busy can fail to answer
("No response to Admin shutdown request") and stay running with its actors,
and even after a clean shutdown a supervisor was seen to outlive its admin
by seconds. Such leftovers hold the admin port and - through descriptors
inherited when the admin forked - the starting process's stdout, so a pipe
reading it never closes. Thespian's admin runs in a session of its own and
every actor it forks shares its process group: note that group before the
shutdown and kill it if anything of it outlives a short grace.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import time
from typing import Iterable, Optional

log = logging.getLogger(__name__)


def process_groups(port: Optional[int], udp: bool, pids: Iterable[int] = ()) -> set[int]:
    """The process groups of the admin on `port` and of `pids` (ours only)."""
    found = {p for p in pids if _ours(p)}
    if port is not None:
        found |= _holders(port, "udp" if udp else "tcp")
    return {g for g in map(_pgid, found) if g is not None and g != os.getpgrp()}


def reap(groups: set[int], grace: float = 1.0) -> int:
    """Give `groups` `grace` seconds to be gone, then SIGKILL what is left;
    returns how many had to be killed."""
    end = time.monotonic() + grace
    left = set(groups)
    while left:
        left = {g for g in left if _alive(g)}
        if not left or time.monotonic() >= end:
            break
        time.sleep(0.05)
    for g in left:
        log.info("processes of process group %d outlived their actor system's shutdown; "
                 "killing them", g)
        try:
            os.killpg(g, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    multiprocessing.active_children()   # collect the zombies of our own forks
    return len(left)


def _alive(pgid: int) -> bool:
    """Does a live process of ours remain in process group `pgid`?"""
    return any(entry.isdigit() and _pgid(int(entry)) == pgid and _ours(int(entry))
               for entry in os.listdir("/proc"))


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

"""The processes of an actor system and the sockets they listen on, from
/proc (no psutil): the admin runs in a session of its own and every actor
it forks shares its process group."""
from __future__ import annotations

import os
import socket
import struct


def _inode_table(proto: str = "tcp") -> dict[str, tuple[str, int, str]]:
    """socket inode -> (local address, port, state) for IPv4 and IPv6."""
    table = {}
    for name in (proto, proto + "6"):
        try:
            with open(f"/proc/net/{name}") as f:
                next(f, None)
                for line in f:
                    cols = line.split()
                    addr_hex, port_hex = cols[1].rsplit(":", 1)
                    if len(addr_hex) == 8:
                        addr = socket.inet_ntoa(struct.pack("<I", int(addr_hex, 16)))
                    else:
                        addr = "ipv6:" + addr_hex
                    table[cols[9]] = (addr, int(port_hex, 16), cols[3])
        except OSError:
            continue
    return table


def _socket_inodes(pid: int) -> set[str]:
    found = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                found.add(target[8:-1])
    except OSError:
        pass
    return found


def listening(pids: set[int]) -> set[tuple[str, int, int]]:
    """(address, port, pid) of every TCP socket in LISTEN state held by `pids`."""
    table = _inode_table()
    out = set()
    for pid in pids:
        for inode in _socket_inodes(pid):
            entry = table.get(inode)
            if entry and entry[2] == "0A":
                out.add((entry[0], entry[1], pid))
    return out


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(") ", 1)[1][:1] != "Z"
    except (OSError, IndexError):
        return False


def system_pids(admin_port: int) -> set[int]:
    """Every live process of the actor system whose admin listens on
    `admin_port`: the admin's process group (it calls setsid)."""
    table = _inode_table()
    wanted = {inode for inode, (_, port, state) in table.items()
              if port == admin_port and state == "0A"}
    admins = set()
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != me and _socket_inodes(int(entry)) & wanted:
            admins.add(int(entry))
    groups = set()
    for pid in admins:
        try:
            groups.add(os.getpgid(pid))
        except ProcessLookupError:
            pass
    groups.discard(os.getpgrp())
    pids = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        try:
            if os.getpgid(pid) in groups and _alive(pid):
                pids.add(pid)
        except ProcessLookupError:
            continue
    return pids

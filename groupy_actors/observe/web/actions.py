"""What the page's buttons do in the demo (`run_group.py --web`), on the
thread that owns the group. Each returns a line for the page's timeline."""
from __future__ import annotations

import os
import signal
from typing import Any, Optional


def carry_out(demo: Any, action: str, member: Optional[str]) -> str:
    group = demo.group
    if action == "kill-leader":
        leader = group.leader()
        if leader is None:
            return "no leader to kill"
        demo.kill_leader()
        return f"killed leader {leader.name}"
    if action == "add-worker":
        name = f"w{demo.next_worker}"
        demo.add_worker(wait=False)
        return f"{name} joins"
    if action == "partition":
        live = sorted((m for m in group.members.values() if m.in_view), key=lambda m: m.name)
        leader = group.leader()
        if len(live) < 2:
            return "too few members to partition"
        if leader is not None:          # the leader's side is the larger one
            live.remove(leader)
            live.insert(0, leader)
        cut = (len(live) + 1) // 2
        a, b = [m.name for m in live[:cut]], [m.name for m in live[cut:]]
        group.partition(a, b)
        return f"partition: {', '.join(a)} | {', '.join(b)}"
    if action == "heal":
        group.heal()
        return "healed the partition"
    info = group.members.get(member or "")
    if info is None:
        return f"no member called {member!r}"
    if action == "kill":
        if not info.alive:
            return f"{member} is already gone"
        resume(group, member)
        group.kill(member)
        return f"killed {member}"
    if action in ("sigstop", "sigcont"):
        if not (group.system.processes and info.pid):
            return f"{member} has no process of its own to stop"
        stop = action == "sigstop"
        try:
            os.kill(info.pid, signal.SIGSTOP if stop else signal.SIGCONT)
        except ProcessLookupError:
            return f"{member}'s process is gone"
        if group.hub is not None:
            group.hub.set_stopped(member, "page" if stop else None)
        return f"{'SIGSTOP' if stop else 'SIGCONT'} {member} (pid {info.pid})"
    return f"unknown action {action}"


def resume(group: Any, name: str) -> None:
    """SIGCONT a member the page stopped (before killing or settling)."""
    hub = group.hub
    info = group.members.get(name)
    if hub is None or info is None or not info.pid:
        return
    m = hub.members.get(name)
    if m is not None and m.stopped_by is not None:
        try:
            os.kill(info.pid, signal.SIGCONT)
        except ProcessLookupError:
            pass
        hub.set_stopped(name, None)


def resume_all(group: Any) -> None:
    for name in list(group.members):
        resume(group, name)

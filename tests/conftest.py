"""Fixtures that always clean up: every group started here is stopped, its
member processes are gone and its admin port is free again, pass or fail."""
from __future__ import annotations

import os
import time

import pytest

from groupy_actors import Group
from groupy_actors.system import port_in_use


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[-1][:1] == "Z"
    except OSError:
        return True


def _wait(predicate, timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture
def make_group():
    """make_group(**Group.start arguments) -> a started Group, stopped after."""
    groups: list[Group] = []

    def make(**kwargs) -> Group:
        kwargs.setdefault("log_file", os.path.join(os.environ.get("TMPDIR", "/tmp"),
                                                   f"groupy-test-{os.getpid()}.log"))
        g = Group.start(**kwargs)
        groups.append(g)
        return g

    try:
        yield make
    finally:
        problems = []
        for g in groups:
            pids = [m.pid for m in g.members.values() if m.pid]
            g.stop()
            if g.system.processes:
                if not _wait(lambda: all(_gone(p) for p in pids)):
                    problems.append(f"member processes left: {[p for p in pids if not _gone(p)]}")
                port = g.system.port
                if port and not _wait(lambda: not port_in_use(port)):
                    problems.append(f"admin port {port} still busy")
        assert not problems, problems


@pytest.fixture
def simple(make_group):
    return make_group(system="simple")

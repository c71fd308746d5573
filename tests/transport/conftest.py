"""Fixtures for the transport tests: actor systems that are always shut
down and whose processes are always gone afterwards, pass or fail."""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import pytest

from groupy_actors import system as systems
from groupy_actors import transport

from .procs import system_pids


@pytest.fixture(autouse=True)
def _registered() -> None:
    transport.register()


class Systems:
    """start(...) -> a started groupy_actors.system.System; all are stopped
    (latest first) and checked gone by cleanup()."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.started: list[systems.System] = []
        self.stopped_pids: list[int] = []       # SIGSTOPped by a test: SIGCONT them first

    def start(self, kind: str = "tcp", port: Optional[int] = None,
              capabilities: Optional[dict[str, Any]] = None, **kw: Any) -> systems.System:
        port = port or systems.free_port()
        s = systems.start(kind, port=port, log_file=str(self.tmp / f"{kind}-{port}.log"),
                          capabilities=capabilities, **kw)
        self.started.append(s)
        return s

    def pids(self, s: systems.System) -> set[int]:
        return system_pids(s.port)

    def stop(self, s: systems.System) -> None:
        pids = self.pids(s)
        s.shutdown(pids)

    def cleanup(self) -> list[str]:
        problems = []
        for pid in self.stopped_pids:
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
        for s in reversed(self.started):
            pids = system_pids(s.port) if s.port else set()
            try:
                s.shutdown(pids)
            except Exception as e:          # keep stopping the others
                problems.append(f"shutdown of {s.kind}:{s.port} failed: {e!r}")
        end = time.monotonic() + 10
        for s in self.started:
            while s.port and (systems.port_in_use(s.port) or system_pids(s.port)) \
                    and time.monotonic() < end:
                time.sleep(0.1)
            if s.port and systems.port_in_use(s.port):
                problems.append(f"port {s.port} still in use")
        return problems


@pytest.fixture
def actor_systems(tmp_path: Path) -> Iterator[Systems]:
    made = Systems(tmp_path)
    try:
        yield made
    finally:
        problems = made.cleanup()
        assert not problems, problems


def wait_for(asys: Any, predicate: Callable[[Any], bool], timeout: float = 30.0) -> Any:
    """The first message `listen` returns that satisfies `predicate`."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        msg = asys.listen(max(0.01, min(1.0, end - time.monotonic())))
        if msg is not None and predicate(msg):
            return msg
    raise AssertionError(f"no matching message within {timeout:g}s")


def wait_type(asys: Any, kind: type, timeout: float = 30.0) -> Any:
    return wait_for(asys, lambda m: isinstance(m, kind), timeout)

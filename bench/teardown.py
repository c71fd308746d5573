"""Stopping what a benchmark started, also when a stop is interrupted.

`System.shutdown` (through `Group.stop`) already kills whatever of an actor
system outlives its shutdown (see `groupy_actors.reaper`); here we only
hold Ctrl-C back while a system stops, and count the systems that needed
killing, for the run's summary.
"""
from __future__ import annotations

import contextlib
import signal
import threading
from typing import Iterator

from groupy_actors import Group
from groupy_actors.system import System

# Systems whose leftovers had to be killed ("kind:port"), for the run's summary.
forced: list[str] = []


def stop_group(group: Group) -> None:
    """Stop `group` and its actor system, whole."""
    with deferred_interrupts():
        try:
            group.stop()
        finally:
            _count(group.system)


def stop_system(system: System) -> None:
    """Shut down a bare actor system (the `limit` runs), whole."""
    with deferred_interrupts():
        try:
            system.shutdown()
        finally:
            _count(system)


def _count(system: System) -> None:
    if system.forced:
        forced.append(f"{system.kind}:{system.port}")


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

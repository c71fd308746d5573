"""`FakeGroup`: `self.group` for plain unit tests of one handler.

    group = FakeGroup("m1")
    store = group.attach(KVStore())         # sets store.group, calls started()
    group.install(["m1", "m2"])             # view(GroupView(1, ("m1", "m2")))
    group.deliver(Put("a", 1), sender="m2") # deliver(Message(Put("a", 1), "m2", ...))
    store.put("b", 2)
    assert group.sent == [Put("b", 2)]      # what it multicast (not delivered)

Nothing runs by itself: multicasts are only recorded (deliver them back
with `group.deliver` if the test wants), timers wait for `advance`.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Optional, TypeVar

from ..application import Application, GroupView, Message
from .hosted import copy_payload

A = TypeVar("A", bound=Application)


@dataclass(frozen=True, slots=True)
class Timer:
    """A callback the application scheduled with `after`."""

    at: float           # due time, in the fake's seconds
    seconds: float      # as asked
    callback: Callable[[], None]


class FakeGroup:
    """Records what an application asks of its member (a `GroupContext`)."""

    def __init__(self, name: str = "m1", level: str = "gms4", seed: int = 0) -> None:
        self.name = name
        self.level = level
        self.random = random.Random(f"{seed}:{name}")
        self.sent: list[Any] = []               # payloads multicast, in order
        self.timers: list[Timer] = []           # scheduled, not yet run
        self.reports = 0                        # report() calls
        self.records: list[tuple[str, dict[str, Any]]] = []    # record(kind, **fields)
        self.left = False                       # leave() was called
        self.now = 0.0                          # seconds, moved by advance()
        self.app: Optional[Application] = None
        self.seq = 0                            # stream position of the last item
        self.view_id = 0
        self.numbers: dict[str, int] = {}       # sender -> its multicasts so far

    # -- what the application calls (GroupContext) -----------------------------------

    def mcast(self, payload: Any) -> None:
        self.sent.append(payload)

    def leave(self) -> None:
        self.left = True

    def after(self, seconds: float, callback: Callable[[], None]) -> None:
        self.timers.append(Timer(self.now + max(0.0, seconds), seconds, callback))

    def report(self) -> None:
        self.reports += 1

    def record(self, kind: str, **fields: Any) -> None:
        self.records.append((kind, fields))

    # -- what a test calls -------------------------------------------------------------

    def attach(self, app: A) -> A:
        """Make this the application's `group` and call its `started()`."""
        app.group = self
        self.app = app
        app.started()
        return app

    def message(self, payload: Any, sender: Optional[str] = None) -> Message:
        """The next `Message` of the stream (numbered as the group would)."""
        sender = sender or self.name
        self.seq += 1
        self.numbers[sender] = self.numbers.get(sender, 0) + 1
        return Message(payload, sender, f"{sender}:1.1:{self.numbers[sender]}", self.seq,
                       max(self.view_id, 1))

    def deliver(self, payload: Any, sender: Optional[str] = None) -> Message:
        """Deliver `payload` (or a whole `Message`) to the attached application,
        as a pickled copy, as across processes."""
        m = payload if isinstance(payload, Message) else self.message(payload, sender)
        m = Message(copy_payload(m.payload), m.sender, m.id, m.seq, m.view_id)
        self._app().deliver(m)
        return m

    def install(self, members: Iterable[str], restored: bool = False) -> GroupView:
        """Install the next view (its first member leads)."""
        self.view_id += 1
        if not restored:
            self.seq += 1
        view = GroupView(self.view_id, tuple(members), restored)
        self._app().view(view)
        return view

    def advance(self, seconds: float) -> int:
        """Move time on by `seconds` and run the timers due by then, in time
        order (those they schedule too, if due); returns how many ran."""
        end = self.now + seconds
        ran = 0
        while True:
            due = [t for t in self.timers if t.at <= end]
            if not due:
                break
            first = min(due, key=lambda t: t.at)
            self.timers.remove(first)
            self.now = max(self.now, first.at)
            first.callback()
            ran += 1
        self.now = end
        return ran

    def take(self) -> list[Any]:
        """What was multicast since the last `take` (and forget it)."""
        sent, self.sent = self.sent, []
        return sent

    def _app(self) -> Application:
        if self.app is None:
            raise RuntimeError("attach an application first: group.attach(App())")
        return self.app

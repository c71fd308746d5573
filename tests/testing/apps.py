"""Small applications that probe how the kit hosts an application."""
from __future__ import annotations

from typing import Any

from groupy_actors import Application, GroupView, Message


class Probe(Application):
    """Keeps everything the kit hands it, and uses every part of `self.group`."""

    def __init__(self, tick: float = 0.0) -> None:
        self.tick = tick
        self.calls: list[str] = []
        self.log: list[Any] = []
        self.messages: list[Message] = []
        self.views: list[GroupView] = []
        self.fired: list[float] = []
        self.draws: list[float] = []
        self.reason: Any = None
        self.quieted = False

    def started(self) -> None:
        self.calls.append("started")
        self.draws.append(self.group.random.random())
        if self.tick:
            self.group.after(self.tick, self.on_tick)

    def on_tick(self) -> None:
        self.fired.append(self.tick)

    def deliver(self, message: Message) -> None:
        self.calls.append("deliver")
        self.messages.append(message)
        self.log.append(message.payload)
        self.group.report()

    def view(self, view: GroupView) -> None:
        self.calls.append("view")
        self.views.append(view)

    def snapshot(self) -> Any:
        return self.log

    def restore(self, state: Any) -> None:
        self.calls.append("restore")
        self.log = state

    def stopped(self, reason: str) -> None:
        self.reason = reason

    def quiet(self) -> None:
        self.quieted = True

    def status(self) -> dict[str, Any]:
        return {"delivered": len(self.log)}


def send_step(app: Probe, k: int) -> None:
    app.group.mcast({"step": k, "by": app.group.name})


class Mutator(Probe):
    """Marks what it is delivered (a dict) as its own."""

    def deliver(self, message: Message) -> None:
        super().deliver(message)
        message.payload["seen_by"] = self.group.name


class Fragile(Probe):
    """Raises on the third delivery at m2."""

    def deliver(self, message: Message) -> None:
        super().deliver(message)
        if self.group.name == "m2" and len(self.log) == 3:
            raise ValueError("boom at m2")


def fragile_step(app: Probe, k: int) -> None:
    app.group.mcast(k)


class Unpicklable(Probe):
    def snapshot(self) -> Any:
        return lambda: None


class Leaver(Probe):
    """m3 leaves once it delivered two messages."""

    def deliver(self, message: Message) -> None:
        super().deliver(message)
        if self.group.name == "m3" and len(self.log) == 2:
            self.group.leave()

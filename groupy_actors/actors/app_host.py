"""The application actor (the Erlang *worker*): hosts one `Application`
(`app_runner.py`) apart from its group actor, as the classic assignment
splits worker and gms. Deliveries come in numbered batches from the group
actor and are acknowledged (flow control, see `app_link.py`); what the
application multicasts while handling one batch goes back as one message.
"""
from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from thespian.actors import Actor, WakeupMessage

from .app_runner import AppRunner, AppWake
from .fifo import Numbering, Reorder, Seq
from .messages import AppAck, Bundle


class AppHost(Actor):
    def __init__(self) -> None:
        super().__init__()
        self.runner = AppRunner(self.to_gms, self.send, self.wakeup_after,
                                lambda: self.myAddress)
        self.numbering = Numbering()
        self.reorder = Reorder()
        self.for_gms: list[Any] = []

    @property
    def app(self) -> Any:
        return self.runner.app

    def receiveMessage(self, msg: Any, sender: Any) -> None:
        numbered = type(msg) is Seq
        if type(msg) is WakeupMessage and isinstance(msg.payload, AppWake):
            msg = msg.payload
        batch = self.reorder.accept(sender, msg, time.monotonic()) if numbered else [msg]
        for one in batch:
            self.runner.handle(one, sender)
        gms = self.runner.gms
        if numbered and batch:
            # The group actor sends its next batch on this (see app_link);
            # it rides along with what the application multicast, if anything.
            ack = AppAck(self.reorder.expected[str(sender)] - 1)
            if self.for_gms and sender == gms:
                self.for_gms.append(ack)
            else:
                self.send(sender, ack)
        if self.for_gms:
            out, self.for_gms = self.for_gms, []
            self.send(gms, self.numbering.wrap(gms, out[0] if len(out) == 1
                                               else Bundle(tuple(out))))

    def dispatch(self, msg: Any) -> None:
        """One message as if it had arrived (for tests of the hosting)."""
        self.runner.handle(msg)

    def to_gms(self, msg: Any) -> None:
        # Sent once this actor message is handled: what the application
        # multicasts on one batch of deliveries reaches its member as one
        # actor message (Thespian's cost is per message, not per byte).
        self.for_gms.append(msg)

    def wakeup_after(self, seconds: float, payload: AppWake) -> None:
        self.wakeupAfter(timedelta(seconds=seconds), payload=payload)

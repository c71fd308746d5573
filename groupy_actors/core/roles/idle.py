"""Before Start: nothing to do yet."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from .base import ROLE_EVENTS, Handler, Role

if TYPE_CHECKING:
    from ..gms import Gms


class Idle(Role):
    name = "idle"
    HANDLERS: ClassVar[dict[type, Handler]] = {}
    IGNORES = ROLE_EVENTS

    def dispatch(self, g: "Gms", event: Any) -> None:
        g.note(f"not started: ignored {type(event).__name__}")

"""Before Start: nothing to do yet."""
from __future__ import annotations

from .base import Role


class Idle(Role):
    name = "idle"

    def dispatch(self, g, event) -> None:  # type: ignore[override]
        g.note(f"not started: ignored {type(event).__name__}")

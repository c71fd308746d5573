"""Member identity: a unique name, plus an opaque contact for the shell."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .wire import wire


@wire
@dataclass(frozen=True, slots=True)
class Member:
    """A group member as the protocol core sees it.

    Equality and hashing use the name only: Thespian addresses are not
    hashable, so the shell hides them in ``contact``, which the core carries
    around but never inspects (beyond telling two contacts apart when a name
    is claimed twice).
    """

    name: str
    contact: Any = field(default=None, compare=False, hash=False, repr=False)

    def __str__(self) -> str:
        return self.name

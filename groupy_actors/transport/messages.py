"""Messages the transport itself answers (they never reach an actor).

Any process of a system of our base - the admin, the logger, every actor -
answers `TransportStatsRequest` with its counters, so a test or an operator
can see e.g. refused frames go up on a given port. `TransportControl` asks a
process to drop its connections at once (as a network fault would): it
exists to test the resend path. With a secret set both arrive only from
holders of the secret, who can run any code on the node anyway.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TransportStatsRequest:
    pass


@dataclass(frozen=True)
class TransportStats:
    address: Any            # the answering process's ActorAddress
    pid: int
    counters: dict[str, int] = field(default_factory=dict)
    authenticated: bool = False

    @property
    def refused(self) -> int:
        return self.counters.get("refused", 0)


@dataclass(frozen=True)
class TransportControl:
    token: str                      # acted on once per process (a resend repeats it)
    drop_connections: bool = True

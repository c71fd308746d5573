"""State transfer in chunks, with flow control (JGroups' STATE protocol is
the model).

A `State` the leader sends a newcomer carries the application's snapshot,
which may be hundreds of megabytes. Sent as one actor message it is one
frame: the leader's connection to the newcomer is busy with it for seconds,
nothing else reaches the newcomer meanwhile, and both ends hold several
copies. So between processes the group actor encodes it once, sends it in
`CHUNK`-byte pieces with at most `WINDOW` unacknowledged, and the newcomer
rebuilds the `State` and hands it to its core as if it had come whole.
Broadcasts to everyone else leave between the pieces, so the group keeps
delivering; each end holds one encoded copy; the newcomer reports its
progress to the observer.

A transfer that stops (the newcomer went, or pieces were lost with a
connection) is dropped after `STALL`; the core asks for the state again
(`state_retry`) and a new transfer starts. Frames are authenticated by the
transport before anything is unpickled, the pieces included.
"""
from __future__ import annotations

import os
import pickle
import time
from dataclasses import dataclass
from typing import Any, Callable, Optional

CHUNK = 1 << 20         # bytes per piece ($GROUPY_STATE_CHUNK overrides it, for tests)
WINDOW = 8              # pieces sent and not acknowledged
STALL = 10.0            # s without an acknowledgement: the transfer is dropped


def chunk() -> int:
    """Bytes per piece; a State encoded in fewer than two goes whole."""
    return int(os.environ.get("GROUPY_STATE_CHUNK", CHUNK))


@dataclass(frozen=True, slots=True)
class StatePiece:
    """Sender -> newcomer: piece `index` of `count` of transfer `ref`."""

    ref: int
    index: int
    count: int
    size: int               # of the whole encoding, bytes
    data: bytes
    reply_to: Any           # where the acknowledgements go (the sender's group actor)


@dataclass(frozen=True, slots=True)
class PieceAck:
    """Newcomer -> sender: every piece of `ref` up to `index` arrived."""

    ref: int
    index: int


@dataclass(frozen=True, slots=True)
class StateProgress:
    """For the observer: how much of a state transfer has arrived."""

    received: int
    size: int


class _Outgoing:
    __slots__ = ("to", "blob", "piece", "count", "sent", "acked", "at")

    def __init__(self, to: Any, blob: bytes, piece: int) -> None:
        self.to, self.blob, self.piece = to, blob, piece
        self.count = (len(blob) + piece - 1) // piece
        self.sent = self.acked = -1
        self.at = time.monotonic()


class Sender:
    """The leader's side: transfers under way, by reference."""

    def __init__(self, send: Callable[[Any, Any], None], me: Callable[[], Any]) -> None:
        self.send, self.me = send, me
        self.out: dict[int, _Outgoing] = {}
        self.next_ref = 0

    def encode(self, state: Any) -> Optional[bytes]:
        """The encoding of `state` if it is big enough to go in pieces."""
        blob = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
        return blob if len(blob) >= 2 * chunk() else None

    def start(self, to: Any, blob: bytes) -> None:
        # A newer state for the same newcomer replaces the one under way.
        for ref in [r for r, t in self.out.items() if t.to == to]:
            del self.out[ref]
        self.next_ref += 1
        self.out[self.next_ref] = _Outgoing(to, blob, chunk())
        self.pump(self.next_ref)

    def pump(self, ref: int) -> None:
        t = self.out.get(ref)
        if t is None:
            return
        while t.sent < t.count - 1 and t.sent - t.acked < WINDOW:
            t.sent += 1
            data = t.blob[t.sent * t.piece:(t.sent + 1) * t.piece]
            self.send(t.to, StatePiece(ref, t.sent, t.count, len(t.blob), data, self.me()))

    def acked(self, ack: PieceAck) -> None:
        t = self.out.get(ack.ref)
        if t is None:
            return
        t.acked, t.at = max(t.acked, ack.index), time.monotonic()
        if t.acked >= t.count - 1:
            del self.out[ack.ref]
        else:
            self.pump(ack.ref)

    def expire(self) -> None:
        now = time.monotonic()
        for ref in [r for r, t in self.out.items() if now - t.at > STALL]:
            del self.out[ref]


class Receiver:
    """The newcomer's side: the pieces of one transfer at a time."""

    def __init__(self) -> None:
        self.key: Optional[tuple[str, int]] = None
        self.parts: list[bytes] = []
        self.received = 0

    def piece(self, p: StatePiece) -> tuple[Optional[PieceAck], Optional[Any], StateProgress]:
        """Take a piece: the ack to send (None for one out of order), the
        State once the last piece is in, and the progress so far."""
        key = (str(p.reply_to), p.ref)
        if key != self.key:
            if p.index != 0:                    # the middle of a transfer we do not follow
                return None, None, StateProgress(self.received, p.size)
            self.key, self.parts, self.received = key, [], 0
        if p.index != len(self.parts):          # a duplicate, or one after a lost piece
            ack = PieceAck(p.ref, len(self.parts) - 1) if self.parts else None
            return ack, None, StateProgress(self.received, p.size)
        self.parts.append(p.data)
        self.received += len(p.data)
        progress = StateProgress(self.received, p.size)
        ack = PieceAck(p.ref, p.index)
        if len(self.parts) < p.count:
            return ack, None, progress
        blob = b"".join(self.parts)
        self.key, self.parts = None, []
        return ack, pickle.loads(blob), progress

"""Wire framing: how the bytes of one connection split into frames.

Two codecs, one per connection ("channel"):

- `PlainChannel`: Thespian's own format, so that stock `multiprocTCPBase`
  nodes and ours interoperate both ways: a frame is ``b"%d>" % len(p) + p``
  with `p` a pickle; an acknowledgement is the frame of the pickled string
  ``'ACK'`` (or ``'ACK+DATAERR'``), one per data frame, matched to data
  frames by position on the connection. Nothing is authenticated: the
  receiver unpickles whatever arrives (as stock Thespian does).

- `AuthChannel`: used when a secret is set; only our base speaks it.
  Each side first sends a hello (magic + a fresh 16-byte random nonce).
  Each direction of the connection then has its own key,
  ``HMAC(secret, label(direction) + nonce_initiator + nonce_acceptor)``,
  and every frame carries an HMAC-SHA256 tag computed with it over an
  implicit per-direction frame counter and the frame's bytes:

      type (1) | length (4) | payload (length) | tag (32)
      tag = HMAC-SHA256(key, counter (8) | type | length | payload)

  A side's first frame is a PROOF frame with an empty payload; until it
  has been checked nothing else is accepted, not even a header that would
  make us buffer a long payload, so a peer without the secret cannot make
  us hold more than a hello and 37 bytes. Every later frame's tag is
  checked before its payload is unpickled.
  What that resists: a peer without the secret cannot get a frame accepted
  (so cannot make us unpickle anything); a captured frame cannot be
  replayed on another connection (the acceptor's nonce is fresh, so the
  keys differ), nor reflected back to its sender (each direction has its
  own key), nor replayed, reordered or dropped within its connection
  without the next tag failing (the counter).
  What it does not: frames are not encrypted (an eavesdropper reads them);
  a man in the middle can still cut a connection (frames are then resent,
  as after any connection loss) or, after the proof, announce a long frame
  that fails only once it has arrived (up to MAX_FRAME bytes). And a holder
  of the secret can run any code on every node (messages are pickles), as
  with Erlang's cookie. Acknowledgements are frames too (type ACK or NAK
  with a 4-byte count), so several ride in one frame.

Both parse greedily: `feed` consumes every complete frame in the buffer.
Anything malformed raises `Refused`; the caller drops the connection.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import pickle
import struct
from typing import Any, Optional, Union

DATA, ACK, NAK = 0, 1, 2
Frame = tuple[int, Union[bytes, int]]    # (DATA, payload) or (ACK|NAK, count)

# Stock acknowledgements, byte for byte (Thespian's streamBuffer.ackMsg).
ACK_PAYLOAD = "ACK"
NAK_PAYLOAD = "ACK+DATAERR"


def _plain(payload: bytes) -> bytes:
    return b"%d>" % len(payload) + payload


ACK_FRAME = _plain(pickle.dumps(ACK_PAYLOAD))
NAK_FRAME = _plain(pickle.dumps(NAK_PAYLOAD))
MAX_HEADER = 20     # digits before ">": stock gives up on a header after 20-40 bytes

MAGIC = b"GRPY\x01"
NONCE_LEN = 16
HELLO_LEN = len(MAGIC) + NONCE_LEN
PROOF = 3
_HDR = struct.Struct("!BI")
_COUNT = struct.Struct("!I")
_CTR = struct.Struct("!Q")
TAG_LEN = 32
# Largest frame an authenticated peer may send: Thespian's own tests send
# 50 MB messages.
MAX_FRAME = int(os.environ.get("GROUPY_MAX_FRAME", 512 * 1024 * 1024))


class Refused(Exception):
    """The bytes on a connection are not acceptable frames (the message
    says why); the connection must be dropped."""


class PlainChannel:
    """Thespian's wire format (no secret)."""

    authenticated = False
    hello = b""
    ready = True

    def seal(self, payload: bytes) -> bytes:
        return _plain(payload)

    def seal_acks(self, results: list[bool]) -> bytes:
        if all(results):
            return ACK_FRAME * len(results)
        return b"".join(ACK_FRAME if ok else NAK_FRAME for ok in results)

    def feed(self, buf: bytearray) -> list[Frame]:
        frames: list[Frame] = []
        pos, end = 0, len(buf)
        ack_len = len(ACK_FRAME)
        while pos < end:
            if buf.startswith(ACK_FRAME, pos):
                frames.append((ACK, 1))
                pos += ack_len
                continue
            gt = buf.find(b">", pos, pos + MAX_HEADER + 1)
            if gt < 0:
                if end - pos > MAX_HEADER:
                    raise Refused("no frame header (not a Thespian peer?)")
                break
            digits = bytes(buf[pos:gt])
            if not digits.isdigit():
                raise Refused("bad frame header %r" % digits[:MAX_HEADER])
            stop = gt + 1 + int(digits)
            if stop > end:
                break
            frames.append((DATA, bytes(buf[gt + 1:stop])))
            pos = stop
        if pos:
            del buf[:pos]
        return frames


def _keys(secret: bytes, initiator_nonce: bytes, acceptor_nonce: bytes) -> tuple[bytes, bytes]:
    """(initiator -> acceptor key, acceptor -> initiator key)."""
    both = initiator_nonce + acceptor_nonce
    return (hmac.new(secret, b"groupy-transport-1 i>a" + both, hashlib.sha256).digest(),
            hmac.new(secret, b"groupy-transport-1 a>i" + both, hashlib.sha256).digest())


class AuthChannel:
    """Authenticated frames (a secret is set); see the module docstring."""

    authenticated = True

    def __init__(self, secret: bytes, initiator: bool) -> None:
        self._secret = secret
        self._initiator = initiator
        self._nonce = os.urandom(NONCE_LEN)
        self.hello = MAGIC + self._nonce
        self.ready = False              # the peer's hello has arrived
        self._proven = False            # the peer's proof frame checked
        self._proof_due = False         # ours goes before our first frame
        self._send_mac: Any = None
        self._recv_mac: Any = None
        self._send_ctr = 0
        self._recv_ctr = 0

    def _start(self, peer_nonce: bytes) -> None:
        if self._initiator:
            mine, theirs = _keys(self._secret, self._nonce, peer_nonce)
        else:
            theirs, mine = _keys(self._secret, peer_nonce, self._nonce)
        # Keyed once; each frame copies the keyed state (cheaper than re-keying).
        self._send_mac = hmac.new(mine, digestmod=hashlib.sha256)
        self._recv_mac = hmac.new(theirs, digestmod=hashlib.sha256)
        self.ready = True
        self._proof_due = True

    def _frame(self, kind: int, payload: bytes) -> bytes:
        hdr = _HDR.pack(kind, len(payload))
        h = self._send_mac.copy()
        h.update(_CTR.pack(self._send_ctr) + hdr)
        h.update(payload)
        self._send_ctr += 1
        return b"".join((hdr, payload, h.digest()))

    def _proof(self) -> bytes:
        if not self._proof_due:
            return b""
        self._proof_due = False
        return self._frame(PROOF, b"")

    def seal(self, payload: bytes) -> bytes:
        if self._proof_due:
            return self._proof() + self._frame(DATA, payload)
        return self._frame(DATA, payload)

    def seal_acks(self, results: list[bool]) -> bytes:
        # Runs of equal results, one frame each (usually a single ACK frame).
        out = [self._proof()]
        run_ok, run = results[0], 0
        for ok in results:
            if ok != run_ok:
                out.append(self._frame(ACK if run_ok else NAK, _COUNT.pack(run)))
                run_ok, run = ok, 0
            run += 1
        out.append(self._frame(ACK if run_ok else NAK, _COUNT.pack(run)))
        return b"".join(out)

    def feed(self, buf: bytearray) -> list[Frame]:
        frames: list[Frame] = []
        pos, end = 0, len(buf)
        if not self.ready:
            head = bytes(buf[:len(MAGIC)])
            if not MAGIC.startswith(head):
                raise Refused("no authentication hello (a peer without the secret?)")
            if end < HELLO_LEN:
                return frames
            self._start(bytes(buf[len(MAGIC):HELLO_LEN]))
            pos = HELLO_LEN
        hdr_len = _HDR.size
        with memoryview(buf) as view:
            while end - pos >= hdr_len:
                kind, length = _HDR.unpack_from(buf, pos)
                if not self._proven:
                    if kind != PROOF or length:
                        raise Refused("no authentication proof (a peer without the secret?)")
                elif kind not in (DATA, ACK, NAK) or length > MAX_FRAME or \
                        (kind != DATA and length != _COUNT.size):
                    raise Refused(f"frame of bad type {kind} or length {length}")
                stop = pos + hdr_len + length + TAG_LEN
                if stop > end:
                    break
                h = self._recv_mac.copy()
                h.update(_CTR.pack(self._recv_ctr))
                h.update(view[pos:stop - TAG_LEN])
                if not hmac.compare_digest(h.digest(), view[stop - TAG_LEN:stop]):
                    raise Refused("wrong authentication proof (another secret?)"
                                  if not self._proven else "frame fails authentication")
                self._recv_ctr += 1
                if kind == DATA:
                    frames.append((DATA, bytes(view[pos + hdr_len:stop - TAG_LEN])))
                elif kind == PROOF:
                    self._proven = True
                else:
                    frames.append((kind, _COUNT.unpack_from(buf, pos + hdr_len)[0]))
                pos = stop
        if pos:
            del buf[:pos]
        return frames


def channel(secret: Optional[bytes], initiator: bool) -> Union[PlainChannel, AuthChannel]:
    return AuthChannel(secret, initiator) if secret else PlainChannel()

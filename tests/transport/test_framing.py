"""The wire formats, without sockets."""
from __future__ import annotations

import pickle

import pytest
from thespian.system.transport.streamBuffer import ackDataErrMsg, ackMsg, toSendBuffer

from groupy_actors.transport.framing import (ACK, DATA, NAK, AuthChannel, PlainChannel,
                                             Refused)


def pair(secret=b"k", other=None):
    a, b = AuthChannel(secret, True), AuthChannel(other or secret, False)
    a.feed(bytearray(b.hello))
    b.feed(bytearray(a.hello))
    return a, b


def test_plain_is_stock_thespian_byte_for_byte():
    p = PlainChannel()
    payload = pickle.dumps(("addr", "msg"))
    assert p.seal(payload) == toSendBuffer(("addr", "msg"))
    assert p.seal_acks([True, False]) == ackMsg + ackDataErrMsg


def test_plain_parses_greedily_and_keeps_a_partial_frame():
    p = PlainChannel()
    stream = p.seal(b"one") + p.seal_acks([True]) + p.seal(b"two") + p.seal(b"three")
    buf = bytearray(stream[:-2])
    assert p.feed(buf) == [(DATA, b"one"), (ACK, 1), (DATA, b"two")]
    buf += stream[-2:]
    assert p.feed(buf) == [(DATA, b"three")] and not buf


@pytest.mark.parametrize("junk", [b"x" * 30, b"12a>hello", b"GRPY\x01" + b"n" * 30])
def test_plain_refuses_junk(junk):
    with pytest.raises(Refused):
        PlainChannel().feed(bytearray(junk))


def test_auth_round_trip_in_both_directions_with_batched_acks():
    a, b = pair()
    buf = bytearray(a.seal(b"p1") + a.seal(b"p2"))
    assert b.feed(buf) == [(DATA, b"p1"), (DATA, b"p2")]
    buf = bytearray(b.seal_acks([True, True, False, True]) + b.seal(b"back"))
    assert a.feed(buf) == [(ACK, 2), (NAK, 1), (ACK, 1), (DATA, b"back")]


def test_auth_byte_by_byte():
    a, b = pair()
    stream = a.seal(b"x" * 100) + a.seal(b"y")
    buf, got = bytearray(), []
    for i in range(len(stream)):
        buf += stream[i:i + 1]
        got += b.feed(buf)
    assert got == [(DATA, b"x" * 100), (DATA, b"y")]


def test_auth_refuses_another_secret_a_plain_peer_and_tampering():
    a, b = pair(b"k", b"other")
    with pytest.raises(Refused, match="proof"):
        b.feed(bytearray(a.seal(b"p")))
    with pytest.raises(Refused, match="hello"):
        AuthChannel(b"k", False).feed(bytearray(PlainChannel().seal(b"p")))
    a, b = pair()
    frame = bytearray(a.seal(b"payload"))
    frame[-40] ^= 1
    with pytest.raises(Refused):
        b.feed(frame)


def test_auth_refuses_replay_reflection_and_frames_from_another_connection():
    a, b = pair()
    first = a.seal(b"p")
    assert b.feed(bytearray(first)) == [(DATA, b"p")]
    with pytest.raises(Refused):                # the same frame again
        b.feed(bytearray(first))
    a, b = pair()
    with pytest.raises(Refused):                # our own frame sent back to us
        a.feed(bytearray(a.seal(b"p")))
    a1, b1 = pair()
    a2, b2 = pair()
    with pytest.raises(Refused):                # captured on connection 1, replayed on 2
        b2.feed(bytearray(a1.seal(b"p")))


def test_auth_refuses_a_long_frame_before_the_proof():
    a, b = pair()
    with pytest.raises(Refused, match="proof"):
        b.feed(bytearray(b"\x00\x7f\xff\xff\xff"))     # a 2 GiB data frame, unproven

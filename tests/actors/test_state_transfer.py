"""A big state reaches a newcomer in pieces (actors/transfer.py) while the
group keeps delivering; the newcomer reports its progress."""
import pickle

from groupy_actors.actors.transfer import PieceAck, Receiver, StatePiece
from groupy_actors.checker import check

PIECE = 64 * 1024


def test_a_state_of_many_pieces_arrives_whole_while_the_others_deliver(make_group, monkeypatch):
    monkeypatch.setenv("GROUPY_STATE_CHUNK", str(PIECE))    # inherited by the processes
    g = make_group(system="tcp")
    a, b = g.join("a"), g.join("b")
    blobs = [bytes([i]) * (300 * 1024) for i in range(8)]   # 2.4 MB of Recorder state
    for x in blobs:
        a.mcast(x)
    assert g.wait(lambda: b.info.delivered == 8, 30)
    c = g.join("c")
    for i in range(20):                 # the group goes on while c receives
        b.mcast(i)
    assert g.wait(lambda: c.info.delivered >= 20 and a.info.delivered == 28, 30)
    progress = [r for r in g.records if r["member"] == "c" and r["kind"] == "state-progress"]
    assert len(progress) >= 2400 * 1024 // PIECE                # one per piece, at least
    assert progress[-1]["received"] == progress[-1]["size"] > 8 * 300 * 1024
    # (a report is a snapshot, sent when the member gets round to it)
    assert g.wait_reports(lambda: c.status.get("delivered") == 28, 30), c.status
    assert c.status["last"] == 19                               # 8 restored, then 20
    assert check(g.records).ok


def test_the_receiver_rebuilds_in_order_and_ignores_what_it_does_not_follow():
    r = Receiver()
    blob = pickle.dumps("the state" * 5)
    parts = [blob[i:i + 10] for i in range(0, len(blob), 10)]
    n = len(parts)
    ack, state, _ = r.piece(StatePiece(1, 1, n, len(blob), parts[1], "x"))
    assert ack is None and state is None                     # the middle of a transfer
    for i, part in enumerate(parts[:-1]):
        ack, state, progress = r.piece(StatePiece(1, i, n, len(blob), part, "x"))
        assert ack == PieceAck(1, i) and state is None
    ack, state, _ = r.piece(StatePiece(1, 1, n, len(blob), parts[1], "x"))  # a duplicate
    assert ack == PieceAck(1, n - 2) and state is None
    ack, state, progress = r.piece(StatePiece(1, n - 1, n, len(blob), parts[-1], "x"))
    assert ack == PieceAck(1, n - 1) and state == "the state" * 5
    assert progress.received == progress.size == len(blob)

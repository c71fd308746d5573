"""Flow control in the core (gms4): what a member or the leader holds back
so that a slow peer slows its senders instead of growing queues."""
from groupy_actors.core import (Ack, AppMcast, Broadcast, Mcast, Msg, Nack, Send, Tick)

from .net import A, B, C, Net

INC_B = (1, 2)


def sends(effects, kind):
    return [e.msg for e in effects if isinstance(e, Send) and isinstance(e.msg, kind)]


def test_a_slave_keeps_few_multicasts_in_flight_and_sends_the_rest_together():
    b = Net("gms4", "abc", mcast_inflight=2)["b"]
    sent = [sends(b.handle(AppMcast(i), 1.0), Mcast) for i in range(5)]
    assert [len(s) for s in sent] == [1, 1, 0, 0, 0]
    assert len(b.backlog) == 3
    # The leader sequenced our first one: room for one more...
    first = Msg(4, B, INC_B, 1, 0)
    out = sends(b.handle(Broadcast(A, 1, (first,), 4, 0), 1.1), Mcast)
    assert [m.n for m in out] == [3]
    # ...and when the rest show up, everything waiting leaves at once.
    rest = (Msg(5, B, INC_B, 2, 1), Msg(6, B, INC_B, 3, 2))
    out = sends(b.handle(Broadcast(A, 1, rest, 6, 0), 1.2), Mcast)
    assert [m.n for m in out] == [4, 5]
    assert not b.backlog


def test_multicasts_handled_together_leave_as_one_batch_and_batches_are_bounded():
    b = Net("gms4", "abc", mcast_inflight=100, mcast_batches=2)["b"]
    together = [sends(b.handle_all([AppMcast((k, i)) for i in range(3)], 1.0), Mcast)
                for k in range(3)]
    # Two batches of three are on their way; the third waits, however many
    # multicasts are still allowed in flight.
    assert [len(s) for s in together] == [3, 3, 0]
    assert len(b.backlog) == 3
    # The first batch shows up sequenced: the waiting three leave together.
    first = tuple(Msg(4 + i, B, INC_B, 1 + i, (0, i)) for i in range(3))
    out = sends(b.handle(Broadcast(A, 1, first, 6, 0), 1.1), Mcast)
    assert [m.n for m in out] == [7, 8, 9]
    assert not b.backlog


def test_own_multicasts_seen_beyond_a_gap_count_as_sequenced():
    b = Net("gms4", "abc", mcast_inflight=1)["b"]
    b.handle(AppMcast("x"), 1.0)
    b.handle(AppMcast("y"), 1.0)
    held = Msg(5, B, INC_B, 1, "x")         # entry 4 is missing: not delivered yet
    out = b.handle(Broadcast(A, 1, (held,), 5, 0), 1.1)
    assert [m.n for m in sends(out, Mcast)] == [2]
    assert sends(out, Nack) == [Nack(B, 1, 4, 4)]


def test_a_retry_resends_only_the_oldest_few_not_yet_sequenced():
    b = Net("gms4", "abc", mcast_inflight=10, retry_batch=2, mcast_retry=0.5)["b"]
    for i in range(5):
        b.handle(AppMcast(i), 1.0)
    b.handle(Broadcast(A, 1, (Msg(5, B, INC_B, 2, 1),), 5, 0), 1.1)   # n=2 seen (held)
    retried = sends(b.handle(Tick(), 1.6), Mcast)
    assert [m.n for m in retried] == [3, 4]
    assert sends(b.handle(Tick(), 1.7), Mcast) == []                 # not again at once


def test_a_gap_asked_for_again_and_again_is_asked_for_less_often():
    b = Net("gms4", "abc", nack_retry=0.1)["b"]
    asked = []
    t = 1.0
    while t < 3.0:
        if sends(b.handle(Broadcast(A, 1, (), 6, 0), t), Nack):
            asked.append(round(t, 2))
        t += 0.05
    gaps = [round(y - x, 2) for x, y in zip(asked, asked[1:])]
    assert gaps == sorted(gaps) and gaps[0] <= 0.15 and gaps[-1] >= 0.4


def test_the_leader_sends_a_member_at_most_inflight_broadcasts_between_answers():
    net = Net("gms4", "abc", inflight=2)
    a = net["a"]
    had = net["b"].got_from_leader()        # what b has had from a (numbered)
    assert had > 0
    a.handle(Ack(B, 1, 3, had), 0.9)        # both have everything so far
    a.handle(Ack(C, 1, 3, net["c"].got_from_leader()), 0.9)
    counts = [len([m for m in sends(a.handle(Mcast(A, (1, 1), i, i), 1.0), Broadcast)
                   if m.entries]) for i in range(1, 5)]
    assert counts == [2, 2, 0, 0]           # to b and c, twice; then both wait
    # An answer that does not say our sends arrived opens nothing: they may
    # still wait in our transport, and sending more would only pile on.
    assert sends(a.handle(Ack(B, 1, 4, had), 1.05), Broadcast) == []
    out = a.handle(Ack(B, 1, 4, had + 1), 1.1)  # b has had the first: what waited goes, in one
    [batch] = sends(out, Broadcast)
    assert [e.seq for e in batch.entries] == [6, 7]
    assert batch.n == had + 3               # numbered, for b's next answer
    assert Send(C, batch) not in out


def test_a_window_whose_sends_were_all_lost_opens_again():
    net = Net("gms4", "abc", inflight=2, heartbeat=0.1, suspect_after=1.6, lost_after=0.2)
    a = net["a"]
    had = net["b"].got_from_leader()
    a.handle(Ack(B, 1, 3, had), 1.0)
    a.handle(Ack(C, 1, 3, net["c"].got_from_leader()), 1.0)
    lost = [m for i in (1, 2) for m in sends(a.handle(Mcast(A, (1, 1), i, i), 1.0), Broadcast)
            if m.entries]
    assert len(lost) == 4                   # two each to b and c; say all are lost
    # b keeps answering (its tick's keep-alive) but has had nothing new.
    quiet = [sends(a.handle(Ack(B, 1, 3, had), t), Broadcast) for t in (1.05, 1.1, 1.15)]
    to_b = [m for out in quiet for m in out]
    assert to_b == []
    # Once b's answers come lost_after later than those sends and still
    # lack them, they count as lost: the window is free for a heartbeat.
    a.handle(Ack(C, 1, 5, net["c"].got_from_leader() + 2), 1.25)
    a.handle(Ack(B, 1, 3, had), 1.25)
    probe = [m for m in sends(a.handle(Tick(), 1.25), Broadcast) if m.n > had + 2]
    assert len(probe) == 1 and probe[0].n == had + 3
    assert probe[0].top == 5                # b learns it misses 4 and 5
    a.handle(Ack(B, 1, 3, probe[0].n), 1.3)
    [refill] = [m for m in sends(a.handle(Nack(B, 1, 4, 5), 1.3), Broadcast) if m.entries]
    assert [e.seq for e in refill.entries] == [4, 5]    # what was lost, sent again in one


def test_entries_waiting_for_room_in_a_window_are_not_asked_for():
    """The leader's `top` to a member is the last entry sent to it, not the
    last it holds: what waits for room in the window is not missing there
    (asking for it had it resent on top of the queue, a storm under load)."""
    net = Net("gms4", "abc", inflight=2)
    a, b = net["a"], net["b"]
    had = b.got_from_leader()
    a.handle(Ack(B, 1, 3, had), 0.9)
    a.handle(Ack(C, 1, 3, net["c"].got_from_leader()), 0.9)
    out = [a.handle(Mcast(A, (1, 1), i, i), 1.0) for i in range(1, 5)]
    to_b = [e.msg for effects in out for e in effects
            if isinstance(e, Send) and e.to == B and isinstance(e.msg, Broadcast)]
    assert [[x.seq for x in m.entries] for m in to_b] == [[4], [5]]     # 6 and 7 wait
    assert [m.top for m in to_b] == [4, 5]
    beat = [e.msg for e in a.handle(Tick(), 1.2)
            if isinstance(e, Send) and e.to == B and isinstance(e.msg, Broadcast)]
    assert all(m.top == 5 for m in beat)
    for m in to_b + beat:
        assert sends(b.handle(m, 1.25), Nack) == []     # b misses nothing it was sent
    assert b.stream.received == 5 and a.stream.received == 7

"""Slave: following the stream, forwarding requests, electing a successor."""
import logging

from groupy_actors.core import (Gms, Start, Ack, AppLeave, AppMcast, Accepted, Broadcast, Deliver,
                                Down, Expelled, Inquiry, InstallView, Join, Leave, Mcast,
                                Msg, Nack, Note, Promise, Reject, Rejoining, Send,
                                StartTimer, StateRequest, Stop, Tick, Unwatch, View, Watch)

from .net import A, B, C, D, Net

INC = {"a": (1, 1), "b": (1, 2), "c": (1, 3)}


def msg(seq, payload, sender=A):
    return Msg(seq, sender, INC[sender.name], seq, payload)


def test_gms2_delivers_whatever_arrives():
    b = Net("gms2", "abc")["b"]
    m = msg(4, "x")
    assert b.handle(Broadcast(A, 1, (m,), 4, 0), 1.0) == [Deliver(m, 3)]
    assert b.handle(Broadcast(A, 1, (m,), 4, 0), 1.1) == [Deliver(m, 3)]   # twice: no checks


def test_gms3_drops_what_is_below_the_next_expected_number():
    b = Net("gms3", "abc")["b"]
    m4, m5 = msg(4, "x"), msg(5, "y")
    assert b.handle(Broadcast(A, 1, (m4,), 4, 0), 1.0) == [Deliver(m4, 3)]
    assert b.handle(Broadcast(A, 1, (m5,), 5, 0), 1.1) == [Deliver(m5, 3)]
    assert b.handle(Broadcast(A, 1, (m4,), 5, 0), 1.2) == []


def test_gms3_stops_when_a_new_leader_resends_a_different_entry_where_it_processed_one():
    # The first successor (b, here a) crashed right after sending its view
    # 4 to b alone; the next (c) resends what it had at 4, a message. Only
    # views were compared once: b went on and delivered a second view 4.
    b = Net("gms3", "abc")["b"]
    v4 = View(4, 4, (A, B, C), (INC["a"], INC["b"], INC["c"]))
    b.handle(Broadcast(A, 1, (v4,), 4, 0), 1.0)
    effects = b.handle(Broadcast(C, 1, (msg(4, "x", C),), 4, 0), 1.1)
    assert Stop("processed entries up to 4 that the new leader never had "
                "(it sends another entry at 4)") in effects
    assert not [e for e in effects if isinstance(e, Deliver)]


def test_gms3_takes_a_resent_entry_it_processed_already_in_its_stride():
    b = Net("gms3", "abc")["b"]
    b.handle(Broadcast(A, 1, (msg(4, "x"),), 4, 0), 1.0)
    assert b.handle(Broadcast(C, 1, (msg(4, "x"),), 4, 0), 1.1) == []
    assert b.stopped is None


def test_gms3_stops_at_a_gap_rather_than_deliver_past_it():
    # A crashed leader's queued sends are lost on Thespian (a suffix of each
    # link): delivering past the hole would leave b apart from the others.
    b = Net("gms3", "abc")["b"]
    effects = b.handle(Broadcast(A, 1, (msg(5, "y"),), 5, 0), 1.0)
    assert Stop("entries 4-4 were lost; gms3 cannot recover them") in effects
    assert not [e for e in effects if isinstance(e, Deliver)]


def test_gms4_holds_back_what_comes_early_and_asks_for_the_gap():
    b = Net("gms4", "abc")["b"]
    m4, m5 = msg(4, "x"), msg(5, "y")
    early = b.handle(Broadcast(A, 1, (m5,), 5, 1), 1.0)
    assert Send(A, Nack(B, 1, 4, 4)) in early
    assert not [e for e in early if isinstance(e, Deliver)]
    assert b.handle(Broadcast(A, 1, (m4,), 5, 1), 1.1) == [Deliver(m4, 3), Deliver(m5, 3)]


def test_gms4_notices_a_lost_tail_from_a_heartbeat():
    b = Net("gms4", "abc")["b"]
    assert b.handle(Broadcast(A, 1, (), 6, 1), 1.0) == [Send(A, Nack(B, 1, 4, 6))]
    assert b.handle(Broadcast(A, 1, (), 6, 1), 1.01) == []     # not again at once


def test_requests_for_the_leader_are_passed_on():
    b = Net("gms4", "abc")["b"]
    mc, j, lv, sr = Mcast(C, INC["c"], 1, "x"), Join(D, (0, 0)), Leave(C), StateRequest(C, 1)
    for request in (mc, j, lv, sr):
        assert b.handle(request, 1.0) == [Send(A, request)]


def test_own_multicast_goes_to_the_leader():
    b = Net("gms4", "abc")["b"]
    assert b.handle(AppMcast("x"), 1.0) == [Accepted("b:1.2:1"), Send(A, Mcast(B, INC["b"], 1, "x"))]


def test_gms2_the_first_survivor_takes_over_with_a_plain_view():
    net = Net("gms2", "abc")
    v = View(4, 4, (B, C), (INC["b"], INC["c"]))
    effects = net["b"].handle(Down(A), 1.0)
    assert effects == [Send(C, Broadcast(B, 1, (v,), 4, 0)), InstallView(v), Unwatch(A), Watch(C)]
    assert net["b"].role_name == "leader"
    # c tells its new leader it follows it (see the greeting tests below).
    assert net["c"].handle(Down(A), 1.0) == [Unwatch(A), Watch(B), Send(B, Ack(C, 1, 3))]


def test_gms3_a_slave_greets_its_new_leader_each_tick_until_it_speaks():
    # A crashed leader may have admitted c in a view its successor never
    # had (Thespian loses what a killed actor had queued): unknown to the
    # new leader, c would wait for ever in a view the group never had.
    net = Net("gms3", "abc")
    c = net["c"]
    assert c.handle(Down(A), 1.0)[-1] == Send(B, Ack(C, 1, 3))
    sends = lambda effects: [e for e in effects if isinstance(e, Send)]
    assert sends(c.handle(Tick(), 1.5)) == [Send(B, Ack(C, 1, 3))]    # b may not have led yet
    v = View(4, 4, (B, C), (INC["b"], INC["c"]))
    c.handle(Broadcast(B, 1, (v,), 4, 0), 1.6)
    assert sends(c.handle(Tick(), 2.0)) == []


def test_a_classic_leader_expels_a_stranger_that_greets_it_and_ignores_a_member():
    net = Net("gms3", "abc")
    a = net["a"]
    assert a.handle(Ack(D, 1, 5), 1.0) == [Send(D, Expelled(A, 1, 3, "not a member of view 3"))]
    assert a.handle(Ack(B, 1, 3), 1.1) == []


def test_gms3_a_member_its_new_leader_never_knew_stops():
    # End to end: d joined through a view that never reached b.
    net = Net("gms3", "abc")
    d = net.cores["d"] = Gms(net.config)
    net.run("d", Start(D, A))
    net.settle(drop=lambda s, dst, m: dst in "bc")    # a's view 4 reaches d alone
    assert d.view.members == (A, B, C, D)
    net.crash("a")
    net.settle()
    net.tick(0.5)
    assert d.stopped == "expelled by b: not a member of view 4"
    assert net["b"].view.members == (B, C)


def test_gms3_the_new_leader_first_resends_what_it_had_since_the_last_view():
    # Erlang's gms3 resends the last message; a killed Thespian actor loses
    # what it had queued, which can be more than the last one.
    net = Net("gms3", "abc")
    b = net["b"]
    m4 = msg(4, "x")
    b.handle(Broadcast(A, 1, (m4,), 4, 0), 1.0)
    effects = b.handle(Down(A), 1.1)
    v3 = View(3, 3, (A, B, C), (INC["a"], INC["b"], INC["c"]))
    v = View(5, 4, (B, C), (INC["b"], INC["c"]))
    assert effects[:3] == [Send(C, Broadcast(B, 1, (v3, m4), 4, 0)),
                           Send(C, Broadcast(B, 1, (v,), 5, 0)), InstallView(v)]


def test_a_non_leader_going_down_is_not_our_business():
    b = Net("gms3", "abc")["b"]
    effects = b.handle(Down(C), 1.0)
    assert [type(e) for e in effects] == [Note] and b.leader == A


def test_the_new_leaders_view_may_arrive_before_the_down():
    net = Net("gms3", "abc")
    c = net["c"]
    v = View(4, 4, (B, C), (INC["b"], INC["c"]))
    assert c.handle(Broadcast(B, 1, (v,), 4, 0), 1.0) == [InstallView(v), Unwatch(A), Watch(B)]
    assert [type(e) for e in c.handle(Down(A), 1.1)] == [Note]     # old news
    assert c.leader == B and c.view == v


def test_gms4_the_successor_starts_a_takeover():
    net = Net("gms4", "abc")
    effects = net["b"].handle(Down(A), 1.0)
    assert effects[:3] == [Note(logging.INFO, "taking over as leader, epoch 2"),
                           Unwatch(A), Watch(C)]
    assert effects[3] == Send(C, Inquiry(B, 2, 3, 3))
    assert net["b"].role_name == "electing"


def test_gms4_drops_a_forged_broadcast_from_a_non_leader():
    b = Net("gms4", "abc")["b"]
    v = View(4, 4, (C, B), (INC["c"], INC["b"]))
    effects = b.handle(Broadcast(C, 1, (v,), 4, 0), 1.0)
    assert [type(e) for e in effects] == [Note] and b.view.view_id == 3


def test_gms4_rejects_a_broadcast_from_an_old_epoch():
    b = Net("gms4", "abc")["b"]
    b.handle(Inquiry(C, 2, 3, 3), 1.0)
    assert b.handle(Broadcast(A, 1, (msg(4, "late"),), 4, 0), 1.1) == [
        Send(A, Reject(B, 2, 3, C))]


def test_an_ack_sent_to_a_slave_is_redirected():
    b = Net("gms4", "abc")["b"]
    b.ballot = (1, 3, "a")
    assert b.handle(Ack(C, 1, 3), 1.0) == [Send(C, Reject(B, 1, 3, A))]
    assert b.handle(Nack(C, 1, 3, 4), 1.0) == [Send(C, Reject(B, 1, 3, A))]


def test_a_silent_leader_is_suspected():
    net = Net("gms4", "abc", suspect_after=1.0)
    b = net["b"]
    effects = b.handle(Tick(), 1.5)
    assert effects[0] == Note(logging.WARNING, "no word from a for 1s: suspecting it")
    assert b.role_name == "electing" and A in b.suspects


def test_an_undelivered_multicast_is_sent_again():
    net = Net("gms4", "abc", mcast_retry=0.5)
    b = net["b"]
    b.handle(AppMcast("x"), 1.0)
    b.handle(Broadcast(A, 1, (), 3, 1), 1.4)
    assert Send(A, Mcast(B, INC["b"], 1, "x")) not in b.handle(Tick(), 1.4)
    assert Send(A, Mcast(B, INC["b"], 1, "x")) in b.handle(Tick(), 1.6)


def test_gms4_a_member_removed_without_asking_joins_again():
    b = Net("gms4", "abc")["b"]
    v = View(4, 4, (A, C), (INC["a"], INC["c"]))
    effects = b.handle(Broadcast(A, 1, (v,), 4, 1), 1.0)
    assert Rejoining("removed from the group in view 4", 0) in effects
    assert effects[-1] == Send(A, Join(B, INC["b"]))
    assert b.role_name == "joining"


def test_gms3_a_member_removed_without_asking_stops():
    b = Net("gms3", "abc")["b"]
    v = View(4, 4, (A, C), (INC["a"], INC["c"]))
    assert b.handle(Broadcast(A, 1, (v,), 4, 0), 1.0)[-1] == Stop("removed from the group in view 4")


def test_a_leaving_member_asks_and_stops_once_out():
    net = Net("gms4", "abc")
    b = net["b"]
    assert b.handle(AppLeave(), 1.0) == [Send(A, Leave(B))]
    v = View(4, 4, (A, C), (INC["a"], INC["c"]))
    assert b.handle(Broadcast(A, 1, (v,), 4, 1), 1.1)[-1] == Stop("left the group")


def test_a_leaving_member_waits_for_its_own_multicasts():
    net = Net("gms4", "abc")
    b = net["b"]
    b.handle(AppMcast("last words"), 1.0)
    assert b.handle(AppLeave(), 1.0) == []
    m = Msg(4, B, INC["b"], 1, "last words")
    effects = b.handle(Broadcast(A, 1, (m,), 4, 1), 1.1)
    assert Deliver(m, 3) in effects
    assert Send(A, Leave(B)) in b.handle(Tick(), 1.2)


def test_an_inquiry_is_answered_with_what_we_hold_beyond_its_base():
    b = Net("gms4", "abc")["b"]
    m4 = msg(4, "x")
    b.handle(Broadcast(A, 1, (m4,), 4, 1), 1.0)
    effects = b.handle(Inquiry(C, 2, 3, 3), 1.1)
    view3 = View(3, 3, (A, B, C), (INC["a"], INC["b"], INC["c"]))
    assert effects == [Unwatch(A), Watch(C), Send(C, Promise(B, 2, 1, 4, 4, (m4,), True,
                                                             INC["b"], view3))]
    assert b.leader == C


def test_an_inquiry_below_our_promise_is_rejected():
    b = Net("gms4", "abc")["b"]
    b.handle(Inquiry(C, 3, 3, 3), 1.0)
    assert b.handle(Inquiry(A, 2, 3, 3), 1.1) == [Send(A, Reject(B, 3, 3, C))]


def test_expelled_by_the_leader_joins_again():
    b = Net("gms4", "abc")["b"]
    effects = b.handle(Expelled(A, 1, 3, "silent for 3s"), 1.0)
    assert Rejoining("expelled by a: silent for 3s", 0) in effects
    assert effects[-1] == Send(A, Join(B, INC["b"]))


def test_an_expulsion_from_a_non_leader_is_ignored():
    b = Net("gms4", "abc")["b"]
    assert [type(e) for e in b.handle(Expelled(C, 1, 3, "forged"), 1.0)] == [Note]
    assert b.role_name == "slave"


def test_a_view_naming_us_leader_makes_us_take_over():
    net = Net("gms4", "abc")
    v = View(4, 4, (B, C), (INC["b"], INC["c"]))
    effects = net["b"].handle(Broadcast(A, 1, (v,), 4, 1), 1.0)
    assert InstallView(v) in effects and Send(C, Inquiry(B, 2, 4, 4)) in effects


def test_an_expulsion_older_than_our_current_admission_is_ignored():
    b = Net("gms4", "abc")["b"]     # b is in view 3; an expulsion from view 2 is stale
    effects = b.handle(Expelled(A, 1, 2, "fell too far behind"), 1.0)
    assert b.role_name == "slave" and not [e for e in effects if isinstance(e, Rejoining)]


def test_gms4_multicasts_lost_with_the_old_leader_go_to_the_new_one_with_its_view():
    # No timer runs: the resend must come with the new leader's first view,
    # not mcast_retry later (the failover benchmark's first fix).
    net = Net("gms4", "abc")
    net.run("c", AppMcast("x"))                 # on its way to a, which dies
    net.crash("a")
    net.settle()
    assert net["b"].role_name == "leader"
    delivered = [e.msg.payload for e in net.effects["c"] if isinstance(e, Deliver)]
    assert "x" in delivered


def test_a_slave_trims_its_history_below_the_stable_point():
    b = Net("gms4", "abc")["b"]
    m4, m5 = msg(4, "x"), msg(5, "y")
    b.handle(Broadcast(A, 1, (m4, m5), 5, 1), 1.0)
    assert b.stream.get(4) == m4            # kept for a flush while not stable
    b.handle(Broadcast(A, 1, (), 5, 4), 1.1)    # everyone has 4 now
    assert b.stream.get(4) is None and b.stream.get(5) == m5
    assert b.stream.trimmed == 4


def test_a_slave_the_leader_counts_past_what_it_holds_joins_again():
    # The leader's stable point says every member has delivered 6; this one
    # lacks 4, which the leader no longer keeps (it took an old Join of ours
    # for a newcomer's after we missed being put out): asking for it would
    # go unanswered for ever.
    b = Net("gms4", "abc")["b"]
    effects = b.handle(Broadcast(A, 1, (msg(5, "x"), msg(6, "y")), 6, 6), 1.0)
    assert Rejoining("a counts this member as holding up to 6; it has 3", 0) in effects
    assert effects[-1] == Send(A, Join(B, INC["b"]))
    assert b.role_name == "joining"


def test_a_slave_behind_a_stable_point_it_holds_stays():
    b = Net("gms4", "abc")["b"]
    effects = b.handle(Broadcast(A, 1, (msg(4, "x"), msg(5, "y")), 5, 4), 1.0)
    assert not [e for e in effects if isinstance(e, Rejoining)]
    assert b.role_name == "slave" and b.stream.trimmed == 4 and b.stream.delivered == 5


def test_a_member_that_did_not_run_reads_the_news_before_suspecting_anyone():
    # Its own timer fired long after the last one (SIGSTOP, a starved
    # machine): the silence it sees is its own.
    net = Net("gms4", "abc", suspect_after=1.0)
    b = net["b"]
    b.handle(Tick(), 0.5)
    effects = b.handle(Tick(), 5.0)
    assert b.role_name == "slave" and b.leader == A
    assert not [e for e in effects if isinstance(e, Send) and isinstance(e.msg, Inquiry)]
    b.handle(Tick(), 5.5)
    b.handle(Tick(), 6.1)                   # a second later, still nothing from a
    assert b.role_name != "slave" or b.leader != A

"""Joining: asking to be admitted until a view naming us arrives."""
import logging

from groupy_actors.core import (Broadcast, Config, Deliver, Gms, InstallView, Join,
                                JoinRefused, Msg, Promise, Restore, Send, StartTimer,
                                State, Stop, Tick, View, Watch, AppMcast, AppLeave, Start,
                                Inquiry, Note)

from .net import A, B, C, Net

T = Config().timing


def joiner(level="gms4", **timing):
    g = Gms(Config(level).with_timing(**timing) if timing else Config(level))
    effects = g.handle(Start(B, A), 0.0)
    return g, effects


def view(seq, vid, *members, epoch=1):
    """A view admitting its last member (whose incarnation is named for it)."""
    incs = tuple((epoch, i + 1) for i in range(len(members) - 1)) + ((epoch, vid),)
    return View(seq, vid, members, incs)


def test_the_first_member_founds_view_one():
    g = Gms()
    assert g.handle(Start(A, None), 0.0) == [
        StartTimer(T.tick), InstallView(View(1, 1, (A,), ((1, 1),)))]
    assert g.role_name == "leader"


def test_a_newcomer_asks_its_contact():
    g, effects = joiner()
    assert effects == [StartTimer(T.tick), Send(A, Join(B, (0, 0)))]
    assert g.role_name == "joining"


def test_the_first_view_naming_us_makes_us_a_slave():
    g, _ = joiner("gms3")
    v = view(2, 2, A, B)
    m = Msg(3, A, (1, 1), 1, "x")
    effects = g.handle(Broadcast(A, 1, (v, m), 3, 0), 0.1)
    assert effects == [Watch(A), InstallView(v), Deliver(m, 2)]
    assert g.role_name == "slave" and g.view == v and g.leader == A


def test_a_broadcast_without_our_view_is_ignored():
    g, _ = joiner("gms3")
    assert g.handle(Broadcast(A, 1, (Msg(3, A, (1, 1), 1, "x"),), 3, 0), 0.1) == []
    assert g.role_name == "joining"


def test_gms4_drops_a_view_not_sent_by_its_leader():
    g, _ = joiner("gms4")
    effects = g.handle(Broadcast(C, 1, (view(2, 2, A, B),), 2, 0), 0.1)
    assert [type(e) for e in effects] == [Note] and effects[0].level == logging.WARNING
    assert g.role_name == "joining"


def test_a_join_to_a_dead_leader_ends_in_a_clear_error():
    g, _ = joiner("gms3", join_timeout=2.0)
    assert g.handle(Tick(), 1.0) == [StartTimer(T.tick)]
    effects = g.handle(Tick(), 2.0)
    assert effects == [Stop("could not join: no answer from the group through a within 2s")]
    assert g.handle(Tick(), 3.0) == []          # stopped for good


def test_gms4_retries_the_join_before_giving_up():
    g, _ = joiner("gms4", join_retry=0.5, join_timeout=2.0)
    assert g.handle(Tick(), 0.5) == [Send(A, Join(B, (0, 0))), StartTimer(T.tick)]
    assert g.handle(Tick(), 0.7) == [StartTimer(T.tick)]
    assert isinstance(g.handle(Tick(), 2.0)[0], Stop)


def test_a_refused_join_stops_with_the_reason():
    g, _ = joiner()
    assert g.handle(JoinRefused(A, "the name 'b' is taken"), 0.1) == [
        Stop("join refused by a: the name 'b' is taken")]


def test_a_newcomer_answers_an_inquiry_as_not_yet_joined():
    g, _ = joiner()
    assert g.handle(Inquiry(C, 2, 3, 5), 0.1) == [Send(C, Promise(B, 2, 0, 0, 0, (), False))]


def test_leaving_before_joining_stops():
    g, _ = joiner()
    assert g.handle(AppLeave(), 0.1) == [Stop("left before joining")]


def test_multicasts_wait_until_admitted():
    g, _ = joiner("gms3")
    assert g.handle(AppMcast("early"), 0.1) == []
    effects = g.handle(Broadcast(A, 1, (view(2, 2, A, B),), 2, 0), 0.2)
    assert effects[-1] == Send(A, __import__("groupy_actors.core", fromlist=["Mcast"]).Mcast(
        B, (1, 2), 1, "early"))


def test_gms4_holds_deliveries_until_the_state_arrives():
    g, _ = joiner("gms4")
    v = view(2, 2, A, B)
    m3, m4 = Msg(3, A, (1, 1), 1, "x"), Msg(4, A, (1, 1), 2, "y")
    effects = g.handle(Broadcast(A, 1, (v, m3, m4), 4, 1), 0.1)
    assert not [e for e in effects if isinstance(e, (Deliver, InstallView))]
    assert not g.has_state
    state = State(A, 1, 3, v, "colour", ((A, (1, 1), 1), (B, (1, 2), 0)), "m:a:1.1:1", (m3,))
    assert g.handle(state, 0.2) == [Restore("colour", 3, "m:a:1.1:1", A),
                                    InstallView(v, restored=True), Deliver(m4, 2)]
    assert g.has_state


def test_a_state_older_than_our_start_is_asked_for_again():
    g, _ = joiner("gms4")
    v = view(5, 3, A, B)
    g.handle(Broadcast(A, 1, (v,), 5, 1), 0.1)
    old = State(A, 1, 2, view(2, 2, A, C), "old", (), "v:2", ())
    from groupy_actors.core import StateRequest
    assert g.handle(old, 0.2) == [Send(A, StateRequest(B, 1))]
    assert not g.has_state


def test_a_joiner_in_a_real_group_gets_the_leaders_state():
    net = Net("gms4", "ab")
    restores = [e for e in net.effects["b"] if isinstance(e, Restore)]
    assert restores == [Restore("state of a", 2, "v:2", A)]


def test_a_newcomer_ignores_rejects_and_expulsions_meant_for_a_former_life():
    from groupy_actors.core import Expelled, Reject
    g, _ = joiner("gms4")
    assert g.handle(Reject(A, 5, 3, C), 0.1) == []
    assert g.handle(Expelled(A, 5, 9, "old news"), 0.1) == []
    assert g.role_name == "joining"


def test_a_later_view_without_our_admission_makes_us_ask_again():
    g, _ = joiner("gms4")
    later = View(5, 5, (A, B, C), ((1, 1), (1, 4), (1, 5)))   # admitted in view 4, missed
    effects = g.handle(Broadcast(A, 1, (later,), 5, 0), 0.1)
    assert effects == [Send(A, Join(B, (0, 0)))]
    assert g.role_name == "joining" and g.view is None
    assert g.handle(Broadcast(A, 1, (later,), 5, 0), 0.2) == []   # not again at once

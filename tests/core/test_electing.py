"""Electing: the flush a new leader runs before its first view (gms4)."""
from groupy_actors.core import (Ack, Broadcast, Deliver, Down, Expelled, Inquiry,
                                InstallView, Join, Msg, Promise, Reject, Rejoining, Send,
                                Stop, Tick, View, Watch)

from .net import A, B, C, D, Net

INC = {"a": (1, 1), "b": (1, 2), "c": (1, 3), "d": (1, 4)}
VIEW4 = View(4, 4, (A, B, C, D), tuple(INC.values()))


def electing(names="abcd", **timing):
    net = Net("gms4", names, **timing)
    net["b"].handle(Down(A), 1.0)
    return net, net["b"]


def promise(src, delivered, entries=(), epoch=2, log_epoch=1):
    received = entries[-1].seq if entries else delivered
    return Promise(src, epoch, log_epoch, delivered, received, tuple(entries), True,
                   INC[src.name], VIEW4)


def test_it_asks_every_survivor_for_a_promise():
    net = Net("gms4", "abcd")
    effects = net["b"].handle(Down(A), 1.0)
    q = Inquiry(B, 2, 4, 4)
    assert [e for e in effects if isinstance(e, Send)] == [Send(C, q), Send(D, q)]


def test_it_adopts_the_longest_history_fills_everyone_then_installs_the_view():
    net, b = electing()
    m5 = Msg(5, A, INC["a"], 1, "only c got this")
    assert b.handle(promise(C, 4, [m5]), 1.1) == []
    effects = b.handle(promise(D, 4), 1.2)
    v = View(6, 5, (B, C, D), (INC["b"], INC["c"], INC["d"]))
    assert effects[:2] == [Send(C, Broadcast(B, 2, (m5, v), 6, 4)),
                           Send(D, Broadcast(B, 2, (m5, v), 6, 4))]
    assert Deliver(m5, 4) in effects and InstallView(v) in effects
    assert b.role_name == "leader" and b.epoch == 2


def test_each_survivor_is_filled_from_where_it_stands():
    net, b = electing()
    m5 = Msg(5, A, INC["a"], 1, "x")
    b.handle(promise(C, 5, [m5]), 1.1)
    effects = b.handle(promise(D, 4), 1.2)
    v = View(6, 5, (B, C, D), (INC["b"], INC["c"], INC["d"]))
    assert Send(C, Broadcast(B, 2, (v,), 6, 4)) in effects
    assert Send(D, Broadcast(B, 2, (m5, v), 6, 4)) in effects


def test_members_found_in_a_promised_view_are_asked_too():
    net, b = electing()
    v5 = View(5, 5, (A, B, C, D, Member("e")), INC_E := (INC["a"], INC["b"], INC["c"], INC["d"], (1, 5)))
    effects = b.handle(promise(C, 4, [v5]), 1.1)
    e = v5.members[4]
    assert Watch(e) in effects and Send(e, Inquiry(B, 2, 4, 4)) in effects


def test_a_survivor_that_goes_down_meanwhile_is_left_out():
    net, b = electing()
    b.handle(promise(C, 4), 1.1)
    effects = b.handle(Down(D), 1.2)
    v = View(5, 5, (B, C), (INC["b"], INC["c"]))
    assert InstallView(v) in effects


def test_survivors_silent_past_the_timeout_are_left_out_and_told():
    net, b = electing(takeover_timeout=0.5)
    b.handle(promise(C, 4), 1.1)
    effects = b.handle(Tick(), 1.6)
    assert Send(D, Expelled(B, 2, 5, "did not answer the new leader in time")) in effects
    assert b.view.members == (B, C)


def test_a_join_during_the_election_is_handled_once_it_is_over():
    net, b = electing()
    assert b.handle(Join(Member("e"), (0, 0)), 1.1) == []
    b.handle(promise(C, 4), 1.2)
    effects = b.handle(promise(D, 4), 1.3)
    views = [e.view for e in effects if isinstance(e, InstallView)]
    assert [v.view_id for v in views] == [5, 6] and views[-1].members[-1].name == "e"


def test_a_rival_that_died_is_outbid():
    net, b = electing()
    b.dead.add(C)
    effects = b.handle(Reject(D, 2, 4, C), 1.1)
    assert Send(D, Inquiry(B, 3, 4, 4)) in effects and b.epoch == 3


def test_a_rival_that_knows_a_newer_view_wins_and_we_join_again():
    net, b = electing()
    effects = b.handle(Reject(D, 2, 5, D), 1.1)
    assert any(isinstance(e, Rejoining) for e in effects) and b.role_name == "joining"


def test_a_broadcast_from_the_old_regime_is_rejected():
    net, b = electing()
    assert b.handle(Broadcast(A, 1, (), 4, 0), 1.1) == [Send(A, Reject(B, 2, 4, B))]


def test_a_member_without_the_group_state_joins_again_instead_of_taking_over():
    net = Net("gms4", "abc")
    b = net["b"]
    b.has_state = False
    effects = b.handle(Down(A), 1.0)
    assert b.role_name == "joining" and Send(C, Join(B, b.inc)) in effects
    assert not any(isinstance(e, Stop) for e in effects)
    c = net["c"]
    c.handle(Down(A), 1.0)
    [join] = [e.msg for e in effects if isinstance(e, Send) and isinstance(e.msg, Join)]
    c.handle(join, 1.1)                     # its would-be leader asks to join:
    assert c.role_name == "leader"          # c takes over (no one else to ask)
    effects = c.handle(Join(B, b.inc), 1.2)
    assert any(isinstance(e, Send) and e.to == B and isinstance(e.msg, Broadcast)
               and any(isinstance(x, View) and B in x.members for x in e.msg.entries)
               for e in effects), effects


from groupy_actors.core import Member  # noqa: E402


def test_a_promise_for_another_epoch_does_not_count():
    net, b = electing()
    b.handle(promise(C, 4, epoch=1), 1.1)        # left over from an earlier takeover
    b.handle(promise(D, 4), 1.2)
    assert b.role_name == "electing", "c's stale promise was taken for an answer"
    assert C not in b.role.promises


def test_a_leader_that_did_not_run_expels_nobody_on_its_first_tick_back():
    net = Net("gms4", "abc", suspect_after=1.0)
    a = net["a"]
    a.handle(Tick(), 0.5)
    effects = a.handle(Tick(), 5.0)
    assert not [e for e in effects if isinstance(e, Send) and isinstance(e.msg, Expelled)]
    assert a.view.members == (A, B, C)


def test_only_the_newest_regimes_history_is_adopted():
    """A history written under an older regime (last normal epoch 0) may
    hold an entry the newer regime (epoch 1) replaced: the newer wins,
    whichever promise comes first (review item 9: `<=` for `==` survived)."""
    net, b = electing()
    old = Msg(5, A, INC["a"], 1, "written under epoch 0")
    new = Msg(5, D, INC["d"], 1, "written under epoch 1")
    b.handle(promise(C, 4, [old], log_epoch=0), 1.1)
    effects = b.handle(promise(D, 4, [new]), 1.2)
    assert Deliver(new, 4) in effects and Deliver(old, 4) not in effects


# -- survey(): the history a takeover would adopt, computed without touching our stream

from groupy_actors.core.roles.electing import survey  # noqa: E402


def test_survey_joins_the_newest_regimes_histories():
    net, b = electing()
    m5, m7 = Msg(5, A, INC["a"], 1, "5"), Msg(7, A, INC["a"], 3, "7")
    v6 = View(6, 5, (B, C, D), (INC["b"], INC["c"], INC["d"]))
    stale = Msg(4, A, INC["a"], 9, "at what b delivered: not taken")
    h = survey(b, [promise(C, 4, [stale, m5, v6]), promise(D, 4, [m5, m7])])
    assert (h.log_epoch, h.top, h.latest) == (1, 7, v6)
    assert h.entries == {5: m5, 6: v6, 7: m7}       # c's and d's parts, joined
    assert b.stream.received == 4 and b.log_epoch == 1      # our stream untouched


def test_survey_stops_at_a_hole_and_keeps_our_view_when_none_is_newer():
    net, b = electing()
    m5, m7 = Msg(5, A, INC["a"], 1, "5"), Msg(7, A, INC["a"], 3, "7")
    h = survey(b, [promise(C, 4, [m5]), promise(D, 4, [m7])])
    assert (h.top, h.entries, h.latest) == (5, {5: m5}, VIEW4)


def test_survey_leaves_out_our_own_entries_when_a_newer_regime_exists():
    net, b = electing()
    mine = Msg(5, A, INC["a"], 1, "ours, from regime 1")
    b.stream.add(mine)
    theirs = Msg(5, C, INC["c"], 1, "regime 2's")
    v6 = View(6, 6, (C, D), (INC["c"], INC["d"]))
    h = survey(b, [promise(C, 4, [theirs, v6], epoch=3, log_epoch=2)])
    assert (h.log_epoch, h.entries, h.latest) == (2, {5: theirs, 6: v6}, v6)
    h = survey(b, [promise(D, 4, [], epoch=3, log_epoch=2)])
    assert (h.entries, h.top, h.latest) == ({}, 4, VIEW4)   # the promise's own view


# -- finish(): what a takeover does with the promises

def test_a_candidate_the_newest_view_left_out_joins_again_through_a_live_member():
    net, b = electing()
    v5 = View(5, 5, (A, C, D), (INC["a"], INC["c"], INC["d"]))     # b removed meanwhile
    effects = b.handle(Promise(C, 2, 1, 4, 5, (v5,), True, INC["c"], v5), 1.1)
    effects += b.handle(promise(D, 4), 1.2)
    [rejoin] = [e for e in effects if isinstance(e, Rejoining)]
    assert rejoin.reason == "the group removed this member before its leader failed"
    assert [e.to for e in effects if isinstance(e, Send) and isinstance(e.msg, Join)] == [C]
    assert b.role_name == "joining"


def test_a_newest_view_beyond_every_history_is_not_led_over_a_gap():
    net, b = electing()
    v6 = View(6, 5, (B, C, D), (INC["b"], INC["c"], INC["d"]))     # nobody holds 5 and 6
    effects = b.handle(Promise(C, 2, 1, 4, 4, (), True, INC["c"], v6), 1.1)
    effects += b.handle(promise(D, 4), 1.2)
    [rejoin] = [e for e in effects if isinstance(e, Rejoining)]
    assert rejoin.reason == ("view 5 lies beyond the history the survivors could hand over "
                             "(up to 4)")
    assert b.role_name == "joining" and not [e for e in effects if isinstance(e, InstallView)]


def test_a_promiser_under_another_incarnation_is_left_out_of_the_new_view():
    net, b = electing()
    b.handle(promise(C, 4), 1.1)
    renewed = Promise(D, 2, 1, 4, 4, (), True, (2, 9), VIEW4)     # not the d of view 4
    effects = b.handle(renewed, 1.2)
    v = View(5, 5, (B, C), (INC["b"], INC["c"]))
    assert InstallView(v) in effects
    assert [e.to for e in effects if isinstance(e, Send) and isinstance(e.msg, Broadcast)] == [C]
    assert b.role.peers[C].next_seq == 6            # what c is sent next: after the view


def test_a_rival_of_the_same_view_wins_by_name_and_we_follow_it():
    net, b = electing()
    effects = b.handle(Reject(D, 2, 4, D), 1.1)        # ballot (2, 4, "d") beats (2, 4, "b")
    assert b.role_name == "slave" and b.leader == D and list(b.watching) == [D]
    assert not [e for e in effects if isinstance(e, Rejoining)]
    b.handle(Tick(), 1.2)                               # it waits for d's word from now on
    assert b.role_name == "slave" and b.leader == D


def test_a_reject_of_our_own_ballot_changes_nothing():
    net, b = electing()
    assert b.handle(Reject(D, 2, 4, B), 1.1) == []
    assert b.role_name == "electing" and b.leader == B


def test_a_rival_that_knows_a_newer_view_is_asked_to_let_us_in():
    net, b = electing()
    effects = b.handle(Reject(D, 2, 5, D), 1.1)
    [again] = [e for e in effects if isinstance(e, Rejoining)]
    assert again.reason == "d leads the group (epoch 2)"
    assert Send(D, Join(B, b.inc)) in effects


def test_in_quorum_mode_a_rival_makes_the_candidate_halt():
    from groupy_actors.core import Halt
    net = Net("gms4", "abcd", quorum=True)
    b = net["b"]
    b.handle(Down(A), 1.0)
    effects = b.handle(Reject(D, 2, b.ballot[1], D), 1.1)
    assert [e.reason for e in effects if isinstance(e, Halt)] == ["d takes over instead (epoch 2)"]
    assert b.role_name == "minority"


def test_a_broadcast_of_our_epoch_or_a_newer_one_that_does_not_keep_us_is_ignored():
    net, b = electing()
    assert b.handle(Broadcast(D, 2, (), 4, 0), 1.1) == []
    assert b.handle(Broadcast(D, 3, (), 4, 0), 1.1) == []
    assert b.role_name == "electing" and b.epoch == 2


def test_a_candidate_kept_by_a_newer_leaders_first_view_follows_it():
    # Quorum mode: e, trying to take over (epoch 2), gets b's first view of
    # epoch 3, which keeps it: it follows b and takes the view in.
    net = Net("gms4", "abcde", quorum=True, takeover_timeout=1.0)
    b, e = net["b"], net["e"]
    e.passed.update((B, C, D))      # (they pass the lead on: e is next)
    e.handle(Down(A), 1.0)
    assert e.role_name == "electing" and e.epoch == 2
    b.ballot = (2, 0, "b")
    b.handle(Down(A), 1.0)
    assert b.epoch == 3
    for m in (C, D):
        b.handle(Promise(m, 3, 1, 5, 5, (), True, net[m.name].inc, net[m.name].view), 1.1)
    effects = b.handle(Tick(), 2.5)
    [fill] = [x.msg for x in effects if isinstance(x, Send) and x.to.name == "e"
              and isinstance(x.msg, Broadcast)]
    e.handle(fill, 2.6)
    assert e.role_name == "slave" and e.leader == B and e.epoch == 3
    assert e.latest_view() == b.latest_view()


def test_survey_takes_the_newest_view_from_the_newest_regime_only():
    # d's history follows an older regime: a view it reports, however far
    # on, may be one the newer regime replaced.
    net, b = electing()
    m5 = Msg(5, A, INC["a"], 1, "5")
    old_regime_view = View(9, 9, (A, D), (INC["a"], INC["d"]))
    older = Promise(D, 2, 0, 4, 4, (), True, INC["d"], old_regime_view)
    h = survey(b, [promise(C, 4, [m5]), older])
    assert h.latest == VIEW4 and h.top == 5


def test_survey_reaches_a_view_that_ends_the_history():
    net, b = electing()
    v5 = View(5, 5, (B, C, D), (INC["b"], INC["c"], INC["d"]))
    h = survey(b, [promise(C, 4, [v5])])
    assert (h.top, h.latest, h.within) == (5, v5, v5)


def test_promises_from_strangers_and_second_promises_are_ignored():
    net, b = electing()
    stranger = Promise(Member("x"), 2, 1, 4, 4, (), True, (1, 9), VIEW4)
    assert b.handle(stranger, 1.1) == []
    b.handle(promise(C, 4), 1.1)
    m5 = Msg(5, A, INC["a"], 1, "a second promise, not taken")
    b.handle(promise(C, 4, [m5]), 1.15)
    effects = b.handle(promise(D, 4), 1.2)
    assert b.role_name == "leader" and Deliver(m5, 4) not in effects
    assert b.stream.get(5) != m5


def test_a_promised_view_brings_in_only_members_not_yet_asked_and_alive():
    net, b = electing()
    e, f = Member("e"), Member("f")
    b.dead.add(f)
    v5 = View(5, 5, (B, C, D, e, f), (INC["b"], INC["c"], INC["d"], (1, 5), (1, 6)))
    effects = b.handle(promise(C, 4, [v5]), 1.1)
    asked = [x.to for x in effects if isinstance(x, Send) and isinstance(x.msg, Inquiry)]
    assert asked == [e]


def test_a_same_epoch_rivals_view_does_not_make_a_candidate_follow():
    # Only a newer epoch unseats a candidate (see Gms.follow); a rival of
    # the same epoch number is settled by the ballot (Reject).
    net = Net("gms4", "abcd", quorum=True)
    b = net["b"]
    b.handle(Down(A), 1.0)
    v = View(8, 8, (D, B, C), (net["d"].inc, b.inc, net["c"].inc))
    assert b.handle(Broadcast(D, 2, (v,), 8, 0, start=8), 1.1) == []
    assert b.role_name == "electing" and b.leader == B


def test_an_old_join_copy_after_a_takeover_brings_no_new_view():
    # The members of a takeover's first view have no admission of their
    # own in the new leader's records: an old Join of theirs is answered
    # from what they acknowledged, and changes nothing.
    net, b = electing()
    m5 = Msg(5, A, INC["a"], 1, "what d alone had")
    b.handle(promise(C, 4), 1.1)
    b.handle(promise(D, 4, [m5]), 1.2)
    assert b.role_name == "leader" and b.role.peers[C].admitted is None
    assert b.stream.get(5) == m5         # c's next entry is a message, not a view
    view = b.view
    effects = b.handle(Join(C, (0, 0)), 1.3)
    assert b.view == view and b.latest_view() == view
    assert not [e for e in effects if isinstance(e, InstallView)]

"""Leader: sequencing multicasts and views, serving resends and state."""
from groupy_actors.core import (Ack, Accepted, Assent, AppLeave, AppMcast, Broadcast, Deliver,
                                Down, Expelled, InstallView, Join, JoinRefused, Leave,
                                Mcast, Member, Msg, Nack, Note, Reject, Send, SnapshotReady,
                                State, StateRequest, Stop, TakeSnapshot, Tick, StartTimer,
                                View, Unwatch, Watch)

from .net import A, B, C, D, Net

INC = {"a": (1, 1), "b": (1, 2), "c": (1, 3)}


def test_own_multicast_goes_to_every_member_then_to_us():
    net = Net("gms4", "abc")
    a = net["a"]
    effects = a.handle(AppMcast("hi"), 1.0)
    m = Msg(4, A, INC["a"], 1, "hi")
    b = Broadcast(A, 1, (m,), 4, 1)     # b joined at entry 2: nothing above 1 is stable
    assert effects == [Accepted("a:1.1:1"), Send(B, b), Send(C, b), Deliver(m, 3)]


def test_multicasts_that_arrive_together_are_handled_in_one_step():
    net = Net("gms4", "abc", inflight=4)    # room in the send window (see test_flow)
    a = net["a"]
    effects = a.handle_all([Mcast(B, INC["b"], 1, "x"), Mcast(C, INC["c"], 1, "y")], 1.0)
    to_b = [e.msg for e in effects if isinstance(e, Send) and e.to == B]
    assert [(x.sender, x.payload) for b in to_b for x in b.entries] == [(B, "x"), (C, "y")]


def test_a_members_multicast_is_sequenced_next():
    net = Net("gms3", "abc")
    effects = net["a"].handle(Mcast(B, INC["b"], 1, "x"), 1.0)
    m = Msg(4, B, INC["b"], 1, "x")
    assert effects == [Send(B, Broadcast(A, 1, (m,), 4, 0)), Send(C, Broadcast(A, 1, (m,), 4, 0)),
                       Deliver(m, 3)]


def test_a_retried_multicast_is_not_sequenced_twice():
    net = Net("gms4", "abc")
    a = net["a"]
    a.handle(Mcast(B, INC["b"], 1, "x"), 1.0)
    assert a.handle(Mcast(B, INC["b"], 1, "x"), 1.1) == []
    assert a.stream.received == 4


def test_a_multicast_ahead_of_its_predecessor_waits_for_it():
    net = Net("gms4", "abc")
    a = net["a"]
    assert a.handle(Mcast(B, INC["b"], 2, "second"), 1.0) == []
    effects = a.handle(Mcast(B, INC["b"], 1, "first"), 1.1)
    assert [e.msg.payload for e in effects if isinstance(e, Deliver)] == ["first", "second"]


def test_a_multicast_of_an_old_incarnation_is_dropped():
    net = Net("gms4", "abc")
    effects = net["a"].handle(Mcast(B, (1, 1), 1, "stale"), 1.0)
    assert [type(e) for e in effects] == [Note]


def test_a_non_member_that_multicasts_is_told_it_is_out():
    net = Net("gms4", "abc")
    effects = net["a"].handle(Mcast(D, (1, 9), 1, "x"), 1.0)
    assert effects[0] == Send(D, Expelled(A, 1, 3, "not a member of view 3"))


def test_a_join_adds_the_newcomer_in_a_new_view():
    net = Net("gms4", "abc")
    effects = net["a"].handle(Join(D, (0, 0)), 1.0)
    v = View(4, 4, (A, B, C, D), (INC["a"], INC["b"], INC["c"], (1, 4)))
    b = Broadcast(A, 1, (v,), 4, 1)
    assert effects == [Send(B, b), Send(C, b), Send(D, b), InstallView(v), Watch(D),
                       TakeSnapshot(3)]


def test_a_repeated_join_gets_the_current_view_again():
    net = Net("gms4", "abc")
    a = net["a"]
    assert a.handle(Join(C, (0, 0)), 1.0) == [Send(C, Broadcast(A, 1, (a.view,), 3, 1))]


def test_a_join_with_a_taken_name_is_refused():
    net = Net("gms4", "abc")
    impostor = Member("c", contact="elsewhere")
    assert net["a"].handle(Join(impostor, (0, 0)), 1.0) == [
        Send(impostor, JoinRefused(A, "the name 'c' is taken in this group"))]


def test_a_member_that_lost_its_place_gets_a_new_incarnation():
    net = Net("gms4", "abc")
    a = net["a"]
    a.handle(Join(C, INC["c"]), 1.0)
    assert a.view.members == (A, B, C) and a.view.inc_of(C) == (1, 4)


def test_a_leave_removes_the_member():
    net = Net("gms3", "abc")
    effects = net["a"].handle(Leave(B), 1.0)
    v = View(4, 4, (A, C), (INC["a"], INC["c"]))
    assert effects[:3] == [Send(C, Broadcast(A, 1, (v,), 4, 0)),
                           Send(B, Broadcast(A, 1, (v,), 4, 0)), InstallView(v)]
    assert Unwatch(B) in effects


def test_a_non_leader_that_goes_down_is_removed_in_the_next_view():
    net = Net("gms2", "abc")
    effects = net["a"].handle(Down(B), 1.0)
    v = View(4, 4, (A, C), (INC["a"], INC["c"]))
    assert effects == [Send(C, Broadcast(A, 1, (v,), 4, 0)), InstallView(v), Unwatch(B)]
    assert net["a"].handle(Down(B), 1.1) == []      # a second notice changes nothing


def test_gms1_ignores_failures():
    net = Net("gms1", "abc")
    assert net["a"].handle(Down(B), 1.0) == []
    assert net["a"].view.members == (A, B, C)


def test_acks_advance_the_stable_point_and_trim_the_history():
    net = Net("gms4", "abc")
    a = net["a"]
    for i in range(3):
        a.handle(AppMcast(i), 1.0)      # entries 4, 5, 6
    assert a.role.stable == 1 and sorted(a.stream.entries) == [2, 3, 4, 5, 6]
    a.handle(Ack(B, 1, 6), 1.1)
    assert a.role.stable == 2           # c still has only up to its view, entry 2
    a.handle(Ack(C, 1, 5), 1.2)
    assert a.role.stable == 5 and sorted(a.stream.entries) == [6]


def test_a_nack_is_answered_with_the_missing_entries():
    net = Net("gms4", "abc")
    a = net["a"]
    a.handle(AppMcast("x"), 1.0)
    a.handle(AppMcast("y"), 1.0)
    effects = a.handle(Nack(B, 1, 4, 5), 1.1)
    assert effects == [Send(B, Broadcast(A, 1, (a.stream.get(4), a.stream.get(5)), 5, 1))]


def test_a_nack_below_what_the_member_acknowledged_is_stale_and_ignored():
    # Thespian may deliver a Nack after an Ack the member sent later.
    net = Net("gms4", "abc")
    a = net["a"]
    a.handle(Ack(B, 1, 3), 1.0)
    a.stream.trim(3)
    effects = a.handle(Nack(B, 1, 1, 2), 1.1)
    assert not [e for e in effects if isinstance(e, Send) and e.to == B
                and isinstance(e.msg, (Broadcast, Expelled)) and getattr(e.msg, "entries", 1)]
    assert B in a.view.members


def test_a_nack_for_trimmed_entries_expels_the_member():
    net = Net("gms4", "abc")
    a = net["a"]
    a.stream.trim(3)
    a.role.peers[B].acked = 0               # a member it believes behind the trim
    effects = a.handle(Nack(B, 1, 1, 2), 1.0)
    assert Send(B, Expelled(A, 1, 4, "asked for entries the group no longer keeps")) in effects
    assert a.view.members == (A, C)


def test_a_state_request_is_answered_with_a_snapshot():
    net = Net("gms4", "abc")
    a = net["a"]
    a.handle(AppMcast("x"), 1.0)
    assert a.handle(StateRequest(C, 1), 1.1) == [TakeSnapshot(3)]
    effects = a.handle(SnapshotReady(3, "colour"), 1.2)
    table = ((A, INC["a"], 1), (B, INC["b"], 0), (C, INC["c"], 0))
    [state] = [e.msg for e in effects if isinstance(e, Send)]
    assert state == State(A, 1, 4, a.view, "colour", table, "m:a:1.1:1", state.entries)
    # What not every member acknowledged yet, for c to hand on should a fail.
    assert [e.seq for e in state.entries] == [2, 3, 4]


def test_heartbeats_go_to_members_not_sent_to_lately():
    net = Net("gms4", "abc", heartbeat=0.1)
    a = net["a"]
    a.handle(Ack(B, 1, 3), 0.5)
    a.handle(Ack(C, 1, 3), 0.5)
    effects = a.handle(Tick(), 0.5)
    assert effects == [Send(B, Broadcast(A, 1, (), 3, 3)), Send(C, Broadcast(A, 1, (), 3, 3)),
                       StartTimer(a.t.tick)]


def test_a_silent_member_is_expelled():
    net = Net("gms4", "abc", suspect_after=1.0)
    a = net["a"]
    a.handle(Ack(B, 1, 3), 1.5)
    effects = a.handle(Tick(), 1.5)
    assert Send(C, Expelled(A, 1, 4, "silent for 1s")) in effects
    assert a.view.members == (A, B)


def test_a_stale_leaders_broadcast_is_rejected():
    net = Net("gms4", "abc")
    a = net["a"]
    a.epoch, a.ballot = 3, (3, 3, "a")
    assert a.handle(Broadcast(B, 2, (), 3, 0), 1.0) == [Send(B, Reject(A, 3, 3, A))]


def test_a_leader_that_leaves_hands_over_and_stops():
    net = Net("gms3", "abc")
    effects = net["a"].handle(AppLeave(), 1.0)
    v = View(4, 4, (B, C), (INC["b"], INC["c"]))
    assert effects[:3] == [Send(B, Broadcast(A, 1, (v,), 4, 0)),
                           Send(C, Broadcast(A, 1, (v,), 4, 0)), InstallView(v)]
    assert effects[-1] == Stop("left the group")


def test_a_full_window_holds_multicasts_until_acks_make_room():
    net = Net("gms4", "abc", window=3)
    a = net["a"]
    assert a.role.stable == 1               # b and c acknowledged view 1 only
    a.handle(AppMcast(1), 1.0)              # 3 - 1 = 2 unstable < 3: seq 4
    assert a.stream.received == 4
    a.handle(Mcast(B, INC["b"], 1, 2), 1.0)     # 4 - 1 = 3 unstable: full, held
    assert a.stream.received == 4
    a.handle(Mcast(B, INC["b"], 2, 3), 1.0)
    assert a.stream.received == 4
    a.handle(Ack(B, 1, 4), 1.1)              # stable 4: room for both held ones
    a.handle(Ack(C, 1, 4), 1.1)
    assert a.stream.received == 6


def test_a_member_too_far_behind_is_expelled_rather_than_kept_waiting_for():
    net = Net("gms4", "abc", max_lag=5, suspect_after=100.0)
    a = net["a"]
    for i in range(6):
        a.handle(AppMcast(i), 1.0)
    a.handle(Ack(C, 1, a.stream.received), 1.0)
    a.handle(Ack(B, 1, 3), 1.0)                 # b still stands at entry 3 of 9
    effects = a.handle(Tick(), 1.1)
    assert Send(B, Expelled(A, 1, 4, "fell too far behind")) in effects
    assert a.view.members == (A, C) and a.role.stable == a.stream.received - 1


def test_a_member_that_stops_acknowledging_is_expelled():
    net = Net("gms4", "abc", ack_timeout=2.0, suspect_after=100.0)
    a = net["a"]
    a.handle(Ack(B, 1, 3), 0.5)
    a.handle(AppMcast("x"), 1.0)
    a.handle(Ack(C, 1, 4), 2.5)
    a.handle(Ack(B, 1, 3), 2.5)                 # alive, but not moving since 0.5
    assert Send(B, Expelled(A, 1, 4, "fell too far behind")) in a.handle(Tick(), 3.1)


def test_a_leader_told_of_a_newer_leader_joins_again():
    from groupy_actors.core import Rejoining
    net = Net("gms4", "abc")
    a = net["a"]
    effects = a.handle(Reject(B, 2, 3, B), 1.0)
    assert Rejoining("a newer leader took over (epoch 2)", 0) in effects
    assert effects[-1] == Send(B, Join(A, (1, 1))) and a.role_name == "joining"


def test_a_join_under_a_lost_admission_gets_that_admission_again():
    net = Net("gms4", "abc")
    a = net["a"]
    a.handle(Join(D, (0, 0)), 1.0)          # view 4 admits d, which does not hear of it
    admission = a.stream.get(4)
    effects = a.handle(Join(D, (0, 0)), 1.5)
    [again] = [e.msg for e in effects if isinstance(e, Send) and e.to == D]
    assert again.entries[0] == admission and a.view == admission


def test_a_join_copy_from_an_older_life_changes_nothing():
    net = Net("gms4", "abc")
    a = net["a"]
    a.handle(Ack(C, 1, 3), 0.9)             # c has acknowledged what followed its admission
    before = a.view
    assert a.handle(Join(C, (1, 99)), 1.0) == []        # neither c's incarnation nor its admission
    assert a.view == before


def test_a_leaving_leader_hands_over_to_a_member_that_showed_it_is_in():
    """A newcomer whose admission has not reached it (it never answered)
    is not made the next leader: it would lead nobody while still joining."""
    net = Net("gms4", "a")
    a = net["a"]
    a.handle(Join(B, (0, 0)), 1.0)              # admitted; its admission is lost
    a.handle(Join(C, (0, 0)), 1.1)
    a.handle(Ack(C, 1, 3, 1), 1.2)              # c delivered its admission (entry 3)
    effects = a.handle(AppLeave(), 1.3)
    [view] = [e.view for e in effects if isinstance(e, InstallView)]
    assert view.members == (C, B) and view.leader == C


def test_a_nack_is_answered_with_what_it_asks_for_one_batch_at_a_time():
    net = Net("gms4", "abc", resend_batch=3, inflight=1)
    a = net["a"]
    for i in range(5):
        a.handle(AppMcast(i), 1.0)          # entries 4-8: b's window is full, all wait
    assert a.role.peers[B].next_seq == 4
    out = a.handle(Nack(B, 1, 4, 4), 1.1)
    [again] = [e.msg for e in out if isinstance(e, Send) and e.to == B and e.msg.entries]
    assert [e.seq for e in again.entries] == [4] and again.top == 4
    out = a.handle(Nack(B, 1, 5, 9), 1.2)   # more than a batch: the first three
    [batch] = [e.msg for e in out if isinstance(e, Send) and e.to == B and e.msg.entries]
    assert [e.seq for e in batch.entries] == [5, 6, 7] and batch.top == 7
    assert a.role.peers[B].next_seq == 8 and a.stats["resent"] == 4


def test_answers_of_another_epoch_count_for_nothing():
    net = Net("gms4", "abc")
    a = net["a"]
    a.handle(AppMcast("x"), 1.0)            # entry 4
    out = a.handle(Nack(B, 2, 4, 4), 1.1)
    assert not [e for e in out if isinstance(e, Send) and isinstance(e.msg, Broadcast)
                and e.msg.entries]
    a.handle(Ack(B, 2, 4, 99), 1.2)
    a.handle(Ack(C, 2, 4, 99), 1.2)
    assert a.role.stable == 1
    assert {m: p.acked for m, p in a.role.peers.items()} == {B: 1, C: 2}


def test_a_joiner_that_missed_its_admission_is_sent_the_stream_again_from_it():
    net = Net("gms4", "a")
    a = net["a"]
    a.handle(Join(B, (0, 0)), 1.0)          # view 2 admits b; say it is lost
    a.handle(AppMcast("x"), 1.1)            # entry 3
    out = a.handle(Join(B, (0, 0)), 1.2)    # b asks again: it has nothing
    [again] = [e.msg for e in out if isinstance(e, Send) and e.to == B
               and isinstance(e.msg, Broadcast)]
    assert [type(e).__name__ for e in again.entries] == ["View", "Msg"]
    assert [e.seq for e in again.entries] == [2, 3] and again.entries[0].members == (A, B)
    assert a.role.peers[B].next_seq == 4 and a.view.view_id == 2    # no new view for it


def test_an_old_copy_of_a_join_from_a_member_that_is_in_changes_nothing():
    net = Net("gms4", "a")
    a = net["a"]
    a.handle(Join(B, (0, 0)), 1.0)
    a.handle(Ack(B, 1, 2, 1), 1.1)          # b delivered its admission
    out = a.handle(Join(B, (0, 0)), 1.2)
    assert not [e for e in out if isinstance(e, Send) and isinstance(e.msg, Broadcast)
                and e.msg.entries]
    assert a.view.view_id == 2


def test_a_leaving_leaders_last_word_brings_each_member_up_to_its_last_view():
    net = Net("gms4", "abc", inflight=1)
    a = net["a"]
    a.handle(AppMcast("x"), 1.0)            # entry 4: b's window is full, it waits
    out = a.handle(AppLeave(), 1.1)
    v = View(5, 4, (B, C), (INC["b"], INC["c"]))
    to_b = [e.msg for e in out if isinstance(e, Send) and e.to == B]
    last = to_b[-1]
    assert isinstance(last, Broadcast) and [e.seq for e in last.entries] == [4, 5]
    assert last.entries[-1] == v and last.top == 5 and last.commit == 0   # (plain mode)
    assert last.start == 1                  # the regime began at view 1
    assert out[-1] == Stop("left the group") and InstallView(v) in out


def test_the_leader_sends_an_idle_member_a_heartbeat_every_heartbeat_period():
    net = Net("gms4", "abc", heartbeat=0.5)     # everyone was last sent something at 0
    a = net["a"]

    def beats(t):
        return [(e.to, e.msg.entries, e.msg.top) for e in a.handle(Tick(), t)
                if isinstance(e, Send) and isinstance(e.msg, Broadcast)]
    assert beats(0.4) == []
    assert beats(0.5) == [(B, (), 3), (C, (), 3)]      # exactly one period later
    assert beats(0.7) == []
    assert beats(1.0) == [(B, (), 3), (C, (), 3)]


def test_a_member_exactly_max_lag_behind_is_kept_and_one_more_is_expelled():
    net = Net("gms4", "abc", max_lag=5, suspect_after=100.0, ack_timeout=100.0)
    a = net["a"]
    for i in range(5):
        a.handle(AppMcast(i), 1.0)              # entries 4-8
    a.handle(Ack(C, 1, 8), 1.0)
    a.handle(Ack(B, 1, 3), 1.0)                 # b: 8 - 3 = 5 behind
    assert not [e for e in a.handle(Tick(), 1.1) if isinstance(e, Send)
                and isinstance(e.msg, Expelled)]
    a.handle(AppMcast(5), 1.2)                  # entry 9: now 6 behind
    a.handle(Ack(C, 1, 9), 1.2)
    assert Send(B, Expelled(A, 1, 4, "fell too far behind")) in a.handle(Tick(), 1.3)


def test_what_a_member_acknowledged_is_not_sent_to_it_again():
    net = Net("gms4", "abc", inflight=1)
    a = net["a"]
    for i in range(3):
        a.handle(AppMcast(i), 1.0)          # entries 4-6; b's window is full: all wait
    assert a.role.peers[B].next_seq == 4
    # b has them anyway (a resend, say) and says so; the window opens too.
    out = a.handle(Ack(B, 1, 6, a.role.peers[B].serial), 1.1)
    assert a.role.peers[B].next_seq == 7 and a.role.peers[B].acked == 6
    assert not [e for e in out if isinstance(e, Send) and e.to == B
                and isinstance(e.msg, Broadcast) and e.msg.entries]


def test_a_proposal_is_numbered_in_each_members_send_window():
    # Assent's `got` answers the number: an unnumbered Propose stayed
    # outstanding, filling the window.
    from groupy_actors.core import Propose
    net = Net("gms4", "abc", quorum=True)
    a = net["a"]
    effects = a.handle(Join(D, (0, 0)), 1.0)
    proposes = {e.to: e.msg for e in effects if isinstance(e, Send) and isinstance(e.msg, Propose)}
    assert set(proposes) == {B, C}
    for m, msg in proposes.items():
        assert msg.n == a.role.peers[m].serial and msg.n in a.role.peers[m].unacked


def test_a_push_sends_one_batch_of_what_is_owed_and_nothing_when_nothing_is():
    net = Net("gms4", "abc", resend_batch=2, inflight=10)
    a = net["a"]
    r, p = a.role, a.role.peers[B]
    assert p.next_seq == 0 or p.next_seq == a.stream.received + 1
    p.next_seq = 0                                  # nothing due
    a.out.clear()
    assert r.push(a, B, p) is False and not [e for e in a.out if isinstance(e, Send)]
    assert r.sent_top(a, p) == a.stream.received
    for i in range(5):
        a.handle(AppMcast(i), 1.0)                  # entries 4-8
    p.next_seq, p.acked = 4, 3
    a.out.clear()
    assert r.push(a, B, p) is True
    [sent] = [e.msg for e in a.out if isinstance(e, Send)]
    assert [e.seq for e in sent.entries] == [4, 5] and sent.top == 5 and p.next_seq == 6


def test_a_tick_that_pushes_owed_entries_sends_no_heartbeat_beside_them():
    net = Net("gms4", "abc", heartbeat=0.5, inflight=1)
    a = net["a"]
    a.handle(AppMcast("x"), 1.0)                    # entry 4, out to b and c
    a.handle(Ack(B, 1, 4, a.role.peers[B].serial), 1.1)
    a.handle(Ack(C, 1, 4, a.role.peers[C].serial), 1.1)
    a.handle(AppMcast("y"), 1.2)                    # entry 5, out at once
    a.role.peers[B].next_seq = 5                    # as if it could not go then
    a.role.peers[B].unacked.clear()
    sends = [e for e in a.handle(Tick(), 2.0) if isinstance(e, Send) and e.to == B]
    assert len(sends) == 1 and [e.seq for e in sends[0].msg.entries] == [5]


def test_an_outsiders_window_is_kept_in_one_record():
    net = Net("gms4", "abc")
    a = net["a"]
    r = a.role
    x = Member("x")
    first = r.record(x)
    assert r.record(x) is first and r.outsiders == {x: first}
    assert r.heard_from(x) < 0 and r.heard_from(B) == r.peers[B].heard_at


def test_a_member_whose_window_is_full_still_gets_a_heartbeat():
    # The heartbeat may use one send beyond the window: without it a
    # member that lost our last sends would never learn what it lacks.
    net = Net("gms4", "abc", heartbeat=0.5, inflight=1, lost_after=100.0,
              suspect_after=100.0, ack_timeout=100.0)
    a = net["a"]
    assert len(a.role.peers[B].unacked) == 1         # (the state transfer's send)
    a.handle(AppMcast("x"), 1.0)                    # entry 4 waits: b's window is full
    assert a.role.peers[B].next_seq == 4
    sends = [e.msg for e in a.handle(Tick(), 2.0) if isinstance(e, Send) and e.to == B]
    assert [(m.entries, m.top) for m in sends] == [((), 3)]


def test_a_leaving_member_gets_the_view_without_it_past_a_full_window():
    net = Net("gms4", "abc", inflight=1)
    a = net["a"]
    assert len(a.role.peers[B].unacked) == 1        # b's window is full
    effects = a.handle(Leave(B), 1.0)
    [last] = [e.msg for e in effects if isinstance(e, Send) and e.to == B]
    [view] = last.entries
    assert isinstance(view, View) and B not in view.members


def test_a_send_counts_as_under_way_until_the_member_has_answered_lost_after_past_it():
    net = Net("gms4", "abc")
    a = net["a"]
    r, p = a.role, a.role.peers[B]
    p.unacked.clear()
    p.unacked[p.serial] = 1.0
    p.heard_at = 1.0 + a.t.lost_after
    assert r.unanswered(a, p) == 1
    p.heard_at += 0.01
    assert r.unanswered(a, p) == 0 and not p.unacked


def test_a_multicast_is_word_from_its_sender():
    net = Net("gms4", "abc")
    a = net["a"]
    a.handle(Mcast(B, INC["b"], 1, "x"), 7.0)
    assert a.role.peers[B].heard_at == 7.0


def test_multicasts_ahead_are_parked_up_to_twice_the_senders_window():
    net = Net("gms4", "abc", sender_window=2)
    a = net["a"]
    assert a.role.last_of(B) == (INC["b"], 0)
    a.handle(Mcast(B, INC["b"], 4, "4 ahead: parked"), 1.0)
    a.handle(Mcast(B, INC["b"], 5, "5 ahead: dropped"), 1.0)
    assert sorted(a.role.parked[B]) == [4]


def test_a_silent_member_with_a_full_window_is_still_told_it_is_out():
    net = Net("gms4", "abc", inflight=1, suspect_after=3.0)
    a = net["a"]
    a.handle(AppMcast("x"), 0.1)
    assert len(a.role.peers[C].unacked) == 1        # c's window is full
    a.handle(Ack(B, 1, 4, a.role.peers[B].serial), 3.5)
    effects = a.handle(Tick(), 3.5)
    assert Send(C, Expelled(A, 1, 4, "silent for 3s")) in effects


def test_quorum_mode_a_newcomer_is_recorded_as_holding_what_comes_before_its_view():
    net = Net("gms4", "abc", quorum=True)
    a = net["a"]
    before = {m: a.role.peers[m].admitted for m in (B, C)}
    a.handle(Join(D, (0, 0)), 1.0)
    for m in (B, C):
        a.handle(Assent(m, 1, a.view.view_id + 1, a.role.peers[m].serial), 1.1)
    view = a.latest_view()
    assert D in view.members and D in view.learners
    d = a.role.peers[D]
    assert (d.acked, d.received, d.admitted) == (view.seq - 1, view.seq - 1, view.seq)
    assert {m: a.role.peers[m].admitted for m in (B, C)} == before


def test_release_drops_parked_multicasts_already_placed_or_of_a_replaced_life():
    net = Net("gms4", "abc")
    a = net["a"]
    r = a.role
    r.order[B] = (INC["b"], 5)
    r.parked[B] = {5: Mcast(B, INC["b"], 5, "placed already"),
                   7: Mcast(B, INC["b"], 7, "waits for 6")}
    r.parked[C] = {9: Mcast(C, (0, 9), 9, "an old life's")}
    r.release(a)
    assert r.parked == {B: {7: Mcast(B, INC["b"], 7, "waits for 6")}}


def test_a_leave_from_a_non_member_changes_nothing():
    net = Net("gms4", "abc")
    a = net["a"]
    view = a.view
    a.handle(Leave(D), 1.0)
    assert a.view == view and a.latest_view() == view


def test_a_lone_leader_that_leaves_stops():
    net = Net("gms4", "a")
    a = net["a"]
    assert Stop("left the group") in a.handle(AppLeave(), 1.0)
    assert a.stopped == "left the group"


def test_a_leader_that_leaves_on_a_tick_sends_nothing_after_it_stopped():
    net = Net("gms4", "ab")
    a = net["a"]
    a.leaving = True                                # (its leave waited for its outbox)
    effects = a.handle(Tick(), 1.0)
    assert Stop("left the group") in effects
    after = effects[effects.index(Stop("left the group")) + 1:]
    assert not [e for e in after if isinstance(e, Send)]


def test_pending_expulsions_stay_for_members_still_in_the_view():
    net = Net("gms4", "abc")
    a = net["a"]
    a.role.to_expel = {C: "told once its removal commits"}
    a.role.on_view(a, a.view, a.view)
    assert a.role.to_expel == {C: "told once its removal commits"}


def test_a_nack_from_a_stranger_is_told_it_is_out():
    net = Net("gms4", "abc")
    a = net["a"]
    assert a.handle(Nack(D, 1, 1, 2), 1.0) == [Send(D, Expelled(A, 1, 3, "not a member of view 3"))]


def test_a_nack_for_exactly_the_trimmed_point_expels_the_member():
    net = Net("gms4", "abc")
    a = net["a"]
    a.stream.trim(3)
    a.role.peers[B].acked = 2
    effects = a.handle(Nack(B, 1, 3, 3), 1.0)
    assert Send(B, Expelled(A, 1, 4, "asked for entries the group no longer keeps")) in effects


def test_after_a_nack_what_is_owed_goes_to_the_member_that_asked():
    net = Net("gms4", "abc", resend_batch=1, inflight=10)
    a = net["a"]
    a.handle(AppMcast("x"), 1.0)
    a.handle(AppMcast("y"), 1.0)                   # entries 4, 5
    a.role.peers[B].next_seq = 5                   # 5 not sent to b yet
    effects = a.handle(Nack(B, 1, 4, 4), 1.1)
    to_b = [[e.seq for e in x.msg.entries] for x in effects
            if isinstance(x, Send) and isinstance(x.msg, Broadcast)]
    assert to_b == [[4], [5]] and all(x.to == B for x in effects if isinstance(x, Send))


def test_state_requests_at_one_point_share_one_snapshot():
    net = Net("gms4", "abcd")
    a = net["a"]
    assert a.handle(StateRequest(C, 1), 1.0) == [TakeSnapshot(a.snap_token)]
    assert a.handle(StateRequest(D, 1), 1.0) == []
    effects = a.handle(SnapshotReady(a.snap_token, "colour"), 1.1)
    assert sorted(e.to.name for e in effects if isinstance(e, Send)) == ["c", "d"]
    assert a.handle(SnapshotReady(99, "unknown"), 1.2) == []


def test_an_idle_member_that_keeps_up_is_not_taken_for_one_falling_behind():
    net = Net("gms4", "abc", ack_timeout=2.0, suspect_after=100.0, heartbeat=0.5)
    a = net["a"]
    for t in range(1, 8):                          # nothing new; b and c answer each beat
        for m in (B, C):
            a.handle(Ack(m, 1, a.stream.received, a.role.peers[m].serial), float(t))
        effects = a.handle(Tick(), float(t))
        assert not [e for e in effects if isinstance(e, Send) and isinstance(e.msg, Expelled)]
    assert a.view.members == (A, B, C)


def test_a_plain_leader_ignores_an_assent():
    from groupy_actors.core import Assent
    net = Net("gms4", "abc")
    a = net["a"]
    assert a.handle(Assent(B, 1, 4, 0), 1.0) == []

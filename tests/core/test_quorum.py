"""Quorum mode: majority views, halting in a minority, and how it ends."""
from groupy_actors.core import (Stop, Ack, AppLeave, AppMcast, Assent, Broadcast, Config, Deliver,
                                Down, Expelled, Halt, Inquiry, InstallView, Join, Promise,
                                Propose, Reject, Rejoining, Send, Tick, View)
from groupy_actors.core.roles.halted import Halted
from groupy_actors.core.roles.leader import Leader

from .net import A, B, C, D, E, Net


def proposals(effects):
    return [e for e in effects if isinstance(e, Send) and isinstance(e.msg, Propose)]


def test_quorum_mode_needs_gms4():
    try:
        Config("gms3", quorum=True)
    except ValueError as e:
        assert "gms4" in str(e)
    else:
        raise AssertionError("gms3 with quorum was accepted")


# In quorum mode a newcomer enters as a learner (a view of its own) and
# votes once it holds the state (another view): a group of n formed one
# member at a time is at view 2n - 1, and the k-th member's incarnation is
# (1, 2k - 2), the view that admitted it.
INC5 = {"a": (1, 1), "b": (1, 2), "c": (1, 4), "d": (1, 6), "e": (1, 8)}
VIEW9 = View(9, 9, (A, B, C, D, E), tuple(INC5.values()))


def test_a_formed_group_has_only_voters():
    a = Net("gms4", "abcde", quorum=True)["a"]
    assert a.view == VIEW9 and a.view.voters == (A, B, C, D, E)


def test_a_newcomer_is_a_learner_until_it_holds_the_state():
    net = Net("gms4", "ab", quorum=True)
    a = net["a"]
    a.handle(Join(C, (0, 0)), 1.0)
    a.handle(Assent(B, 1, 4), 1.0)
    hold(a, B, t=1.0)
    assert a.view.members == (A, B, C) and a.view.learners == (C,) and a.view.view_id == 4
    a.handle(Ack(C, 1, a.view.seq, a.role.peers[C].serial, a.view.seq, False), 1.1)
    assert a.view.learners == (C,), "promoted without the state"
    a.handle(Ack(C, 1, a.view.seq, a.role.peers[C].serial, a.view.seq, True), 1.2)
    assert {(p.to, p.msg.members) for p in proposals(a.out)} == {(B, (A, B, C)), (C, (A, B, C))}
    a.handle(Assent(B, 1, 5), 1.3)
    assert a.latest_view().learners == () and a.latest_view().view_id == 5
    assert a.latest_view().voters == (A, B, C)


def test_a_view_change_is_proposed_not_installed():
    net = Net("gms4", "abcd", quorum=True)
    a = net["a"]
    top = a.stream.received
    effects = a.handle(Down(D), 0.1)
    assert a.stream.received == top, "the view entered the stream without assent"
    sent = proposals(effects)
    assert {s.to for s in sent} == {B, C}
    assert all(s.msg == Propose(A, 1, 8, (A, B, C)) for s in sent)


def promise(m, delivered=5):
    """m's promise to b's takeover (epoch 2) in the group of five."""
    return Promise(m, 2, 1, delivered, delivered, (), True, INC5[m.name], VIEW9)


def hold(core, *members, t=0.2):
    """Those members say everything the leader sent so far has arrived."""
    for m in members:
        core.handle(Ack(m, core.epoch, core.stream.delivered, core.role.peers[m].serial,
                        core.stream.received), t)


def test_the_view_commits_once_a_majority_of_the_old_view_assents():
    net = Net("gms4", "abcd", quorum=True)
    a = net["a"]
    a.handle(Down(D), 0.1)
    a.handle(Assent(B, 1, 8), 0.1)      # a + b: 2 of 4, not a majority
    assert a.latest_view().view_id == 7
    a.handle(Assent(C, 1, 8), 0.1)      # 3 of 4: the view enters the stream
    assert a.latest_view().view_id == 8 and a.latest_view().members == (A, B, C)
    # It is delivered once a majority holds it (delivery is uniform), a
    # majority of the newest view (as Raft counts its latest configuration,
    # committed or not): a + b are 2 of the 3 of view 8.
    assert a.view.view_id == 7
    hold(a, B)
    assert a.view.view_id == 8 and a.view.members == (A, B, C)


def test_the_leader_delivers_only_what_a_majority_holds():
    net = Net("gms4", "abcde", quorum=True)
    a = net["a"]
    a.handle(AppMcast("x"), 1.0)
    assert not [e for e in a.out if isinstance(e, Deliver)]
    hold(a, B, t=1.1)
    assert not [e for e in a.out if isinstance(e, Deliver)]
    effects = a.handle(Ack(C, 1, a.stream.delivered, a.role.peers[C].serial, a.stream.received),
                       1.2)
    assert [e.msg.payload for e in effects if isinstance(e, Deliver)] == ["x"]   # a, b, c: 3 of 5
    # The members that hold it learn it may be delivered.
    told = [e for e in effects if isinstance(e, Send) and isinstance(e.msg, Broadcast)]
    assert {e.to for e in told} >= {B, C} and all(e.msg.commit == a.commit for e in told)


def test_one_member_changes_per_view():
    net = Net("gms4", "abcde", quorum=True)
    a = net["a"]
    a.handle(Down(D), 0.1)
    a.handle(Down(E), 0.1)
    a.handle(Assent(B, 1, 10), 0.1)
    a.handle(Assent(C, 1, 10), 0.1)
    hold(a, B, C)
    assert a.view.members == (A, B, C, E)   # d out first, alone
    assert proposals(a.out)[0].msg == Propose(A, 1, 11, (A, B, C))


def test_a_slave_assents_to_its_leaders_proposal_only():
    net = Net("gms4", "abc", quorum=True)
    b = net["b"]
    assert b.handle(Propose(A, 1, 4, (A, B)), 1.0) == [Send(A, Assent(B, 1, 4))]
    assert b.handle(Propose(C, 1, 4, (C, B)), 1.0) == []


def test_a_leader_that_hears_from_a_minority_halts():
    net = Net("gms4", "abcde", quorum=True, suspect_after=1.0)
    a = net["a"]
    net.now = 0.5
    for m in (B, C, D, E):
        a.handle(Assent(m, 1, 99), 0.5)     # any answer counts as a sign of life
    a.handle(Assent(B, 1, 99), 1.4)
    effects = a.handle(Tick(), 1.8)         # only b (and a) heard within 1 s: 2 of 5
    assert any(isinstance(e, Halt) for e in effects)
    assert a.role_name == "minority"
    assert a.stream.received > 0, "a halted member keeps its history"


def test_a_candidate_without_a_majority_halts():
    net = Net("gms4", "abcde", quorum=True, takeover_timeout=1.0)
    b = net["b"]
    b.handle(Down(A), 1.0)                   # b takes over and asks c, d, e
    assert b.role_name == "electing"
    b.handle(promise(C), 1.1)
    b.handle(Tick(), 2.5)                    # b + c: 2 of 5
    assert b.role_name == "minority"


def test_a_candidate_with_a_majority_leads():
    # Who votes does not change with the leader: a, known dead, is removed
    # by the next view, as any member is (see the next test for why).
    net = Net("gms4", "abcde", quorum=True)
    b = net["b"]
    b.handle(Down(A), 1.0)
    for m in (C, D, E):
        b.handle(promise(m), 1.1)
    assert b.role_name == "leader" and b.latest_view().members == (B, A, C, D, E)
    hold(b, C, D, t=1.2)
    assert b.view.members == (B, A, C, D, E)
    assert {(p.to, p.msg.members) for p in proposals(b.out)} == {
        (m, (B, C, D, E)) for m in (C, D, E)}
    b.handle(Assent(C, 2, 11), 1.3)
    b.handle(Assent(D, 2, 11), 1.3)
    hold(b, C, D, t=1.4)
    assert b.view.members == (B, C, D, E)


def test_a_takeovers_first_view_keeps_the_voters_that_gave_no_promise():
    # b takes over with the promises of c and d. A first view of b, c, d
    # alone would change two voters at once: b and c, a majority of it, are
    # no majority of a, b, c, d, e, and a candidate promised by a, e and d
    # (before d received that view) took over as if it never was (walk
    # quorum-five 1445). a and e stay, voters, until views remove them.
    net = Net("gms4", "abcde", quorum=True, takeover_timeout=1.0)
    b = net["b"]
    b.handle(Down(A), 1.0)
    b.handle(promise(C), 1.1)
    b.handle(promise(D), 1.1)
    b.handle(Tick(), 2.5)                               # e never answers
    first = b.latest_view()
    assert b.role_name == "leader" and first.members == (B, A, C, D, E)
    assert first.voters == (B, A, C, D, E)
    hold(b, C, t=2.6)
    assert b.commit < first.seq and b.view.view_id == 9, "committed by 2 of 5 voters"
    hold(b, D, t=2.7)
    assert b.commit >= first.seq and b.view == first


def test_a_voter_kept_without_its_promise_follows_the_new_leader():
    # e missed b's inquiry; b's first view names it: it follows b rather
    # than giving up its history and vote to join again.
    net = Net("gms4", "abcde", quorum=True, takeover_timeout=1.0)
    b, e = net["b"], net["e"]
    b.handle(Down(A), 1.0)
    b.handle(promise(C), 1.1)
    b.handle(promise(D), 1.1)
    effects = b.handle(Tick(), 2.5)
    [fill] = [x.msg for x in effects if isinstance(x, Send) and x.to == E
              and isinstance(x.msg, Broadcast)]
    effects = e.handle(fill, 2.6)
    assert e.role_name == "slave" and e.leader == B and e.epoch == 2
    assert not [x for x in effects if isinstance(x, Rejoining)]
    assert e.latest_view() == b.latest_view()


def test_a_newcomer_without_its_view_does_not_count_for_the_majority():
    net = Net("gms4", "abcde", quorum=True, takeover_timeout=1.0)
    b = net["b"]
    b.handle(Down(A), 1.0)
    b.handle(promise(C), 1.1)
    b.handle(Promise(D, 2, 0, 0, 0, (), False), 1.1)
    b.handle(Promise(E, 2, 0, 0, 0, (), False), 1.1)
    assert b.role_name == "minority"


def test_no_promise_to_a_candidate_the_group_removed():
    net = Net("gms4", "abc", quorum=True)
    b = net["b"]
    effects = b.handle(Inquiry(D, 5, 3, 0), 1.0)
    assert not [e for e in effects if isinstance(e, Send) and isinstance(e.msg, Promise)]
    assert b.leader == A and b.epoch == 1 and b.role_name == "slave"


def test_a_halted_member_tries_a_takeover_after_the_suspicion_time_staggered_by_rank():
    net = Net("gms4", "abc", quorum=True, suspect_after=1.0, takeover_timeout=2.0)
    b = net["b"]
    b.now = 1.0
    b.out = []
    b.halt("test")
    assert isinstance(b.role, Halted)
    b.handle(Tick(), 3.9)           # b is second among the voters: 1 + 1 x 2 s after halting
    assert b.role_name == "minority"
    effects = b.handle(Tick(), 4.0)
    assert b.role_name == "electing"
    assert any(isinstance(e, Send) and isinstance(e.msg, Inquiry) and e.to == C for e in effects)
    c_view = net["c"].view
    b.handle(Promise(C, b.epoch, 1, c_view.seq, c_view.seq, (), True, INC5["c"], c_view), 4.1)
    b.handle(Tick(), 6.1)                         # a never answers: the takeover concludes
    assert b.role_name == "leader", "b and c are a majority of a, b, c"


def test_a_halted_members_takeover_without_a_majority_halts_it_again_history_and_all():
    net = Net("gms4", "abc", quorum=True, suspect_after=1.0, takeover_timeout=2.0)
    b = net["b"]
    b.now = 1.0
    b.out = []
    b.halt("test")
    held = b.stream.received
    b.handle(Tick(), 4.0)                         # tries
    b.handle(Promise(C, b.epoch, 0, 0, 0, (), False, (0, 0), None), 4.1)  # a newcomer: no vote
    b.handle(Tick(), 6.5)                         # the takeover times out
    assert b.role_name == "minority" and b.stream.received == held


def test_a_halted_member_takes_its_admission_from_a_lower_epoch():
    net = Net("gms4", "abc", quorum=True)
    b = net["b"]
    b.out = []
    b.halt("test")
    b.epoch = 7                                     # grown in failed takeovers
    view = View(9, 6, (C, B), ((2, 5), (2, 6)))
    b.handle(Broadcast(C, 2, (view,), 9, 8), 3.0)
    assert b.role_name == "slave" and b.epoch == 2 and b.view == view


def test_a_slave_ignores_a_reject_from_its_own_epoch():
    net = Net("gms4", "abc")
    b = net["b"]
    b.handle(Reject(C, 1, 0, A), 1.0)
    assert b.role_name == "slave" and b.leader == A


def test_the_leader_sends_a_silent_member_a_few_messages_in_all():
    # Thespian holds every send to a hung peer, and an actor's pending sends
    # are capped for all peers together: the window bounds them until the
    # member is expelled (sends count as lost only when the member's later
    # answers lack them, and a silent member gives none).
    net = Net("gms4", "abc", heartbeat=0.1, suspect_after=5.0)
    a = net["a"]
    sent = 0
    for k in range(1, 41):                          # 4 s; b never answers
        a.handle(Ack(C, a.epoch, a.stream.received), k * 0.1 - 0.01)
        effects = a.handle(Tick(), k * 0.1)
        effects += a.handle(AppMcast(k), k * 0.1)
        sent += sum(1 for e in effects if isinstance(e, Send) and e.to == B)
    t = a.config.timing
    assert sent <= t.inflight + 1, f"{sent} sends to a silent member in 4 s"
    effects = a.handle(Tick(), 5.2)                  # b is expelled: its last word
    assert sum(1 for e in effects if isinstance(e, Send) and e.to == B) <= 2
    assert B not in a.view.members


def test_a_silent_member_is_told_it_is_out_only_once_the_view_without_it_commits():
    # Told sooner, it would rejoin and give up its history and vote while
    # the view might still die with its leader.
    net = Net("gms4", "abcd", quorum=True, heartbeat=0.1, suspect_after=1.0)
    a = net["a"]

    def expelled(effects):
        return [e.to for e in effects if isinstance(e, Send) and isinstance(e.msg, Expelled)]

    effects, t = [], 0.0
    while not proposals(effects):                   # d says nothing; b and c do
        t = round(t + 0.1, 1)
        hold(a, B, C, t=t)
        effects = a.handle(Tick(), t)
    assert t == 1.1 and {p.msg.members for p in proposals(effects)} == {(A, B, C)}
    assert not expelled(effects)
    effects = a.handle(Assent(B, 1, 8), t) + a.handle(Assent(C, 1, 8), t)
    assert a.latest_view().members == (A, B, C) and a.view.view_id == 7
    assert not expelled(effects), "told before a majority holds the view"
    effects = a.handle(Ack(B, a.epoch, a.stream.delivered, a.role.peers[B].serial,
                           a.stream.received), t + 0.05)
    assert a.view.view_id == 8 and expelled(effects) == [D]


def candidate_hearing_of_view_10():
    """b takes over from a (epoch 2) in the group of five, having delivered
    up to 9; view 10 (at seq 11) removes a."""
    net = Net("gms4", "abcde", quorum=True)
    b = net["b"]
    b.handle(Down(A), 1.0)
    return b, View(11, 10, (B, C, D, E), (INC5["b"], INC5["c"], INC5["d"], INC5["e"]))


def test_a_candidate_short_of_a_majority_whose_newest_view_lies_beyond_every_history_halts():
    # Plain mode rejoins (test_electing); here a member that gave up its
    # history would take its vote with it: it halts, keeping both.
    b, v11 = candidate_hearing_of_view_10()
    effects = b.handle(Promise(C, 2, 1, 9, 9, (), True, INC5["c"], v11), 1.1)
    effects += b.handle(Tick(), 1.0 + b.t.takeover_timeout)     # d and e never answer
    assert b.role_name == "minority" and b.stopped is None
    [halt] = [e for e in effects if isinstance(e, Halt)]
    assert halt.reason == "in a minority: 2 of the 4 voting members of view 10 promised to the takeover"
    assert not [e for e in effects if isinstance(e, (InstallView, Rejoining))]
    assert b.stream.delivered == 9 and b.ballot[0] == 2, "halted without its history or vote"


def test_a_candidate_behind_voters_that_trimmed_what_it_lacks_halts_and_does_not_skip_their_view():
    # c, d and e delivered up to view 10 and trimmed it: their promises
    # carry no entries, but their `received` says they hold it, so it may
    # be committed (sweep gms4-even 954: skipping it, the candidate led
    # from view 5 with a commit point far beyond its stream).
    b, v11 = candidate_hearing_of_view_10()
    effects = []
    for m in (C, D, E):
        effects += b.handle(Promise(m, 2, 1, 11, 11, (), True, INC5[m.name], v11), 1.1)
    assert b.role_name == "minority"
    [halt] = [e for e in effects if isinstance(e, Halt)]
    assert halt.reason == "view 10 lies beyond the history the survivors could hand over (up to 9)"
    assert b.stream.delivered == 9 and b.ballot[0] == 2, "halted without its history or vote"


def test_a_candidate_with_a_majority_leads_on_past_a_view_beyond_every_history():
    # c has view 10 beyond a gap; no promiser holds the way to it, and the
    # promisers are a majority of its voters, of whom a majority holds
    # anything committed: view 10 never was, and nobody delivered it.
    # Halting there, the candidate tried again for ever (walk quorum-five
    # 891: the view's only whole copy was a learner's, admitted by it).
    b, v11 = candidate_hearing_of_view_10()
    effects = b.handle(Promise(C, 2, 1, 9, 9, (), True, INC5["c"], v11), 1.1)
    for m in (D, E):
        effects += b.handle(promise(m, 9), 1.1)
    assert b.role_name == "leader"
    assert not [e for e in effects if isinstance(e, (Halt, Rejoining))]
    first = b.role.latest
    # After view 9, at the next seq, and under an id view 10 never had.
    assert (first.seq, first.view_id) == (10, 11)
    assert set(first.voters) >= {B, C, D, E}


def test_a_leaving_leader_delivers_the_view_without_it_only_once_a_member_of_it_holds_it():
    # Not a voter of its last view, it does not count for that view's
    # majority: counting itself, it stopped with the view delivered and
    # b, which never got it, halted for ever short of a majority of view 3.
    net = Net("gms4", "ab", quorum=True)
    a = net["a"]
    a.handle(AppLeave(), 1.0)
    a.handle(Assent(B, 1, 4), 1.1)
    assert a.latest_view().members == (B,) and a.latest_view().view_id == 4
    assert a.view.view_id == 3 and a.stopped is None
    hold(a, B, t=1.2)
    assert a.view.view_id == 4 and a.stopped == "left the group"


def test_a_voter_leaving_and_a_learner_ready_to_vote_change_the_voters_in_two_views():
    # Both wait while another proposal is out. Changed together, the old
    # voters (a, b, c) and the new (a, b, d) have majorities that share no
    # member ({b, c} and {a, d}): cut apart, each side went on alone.
    net = Net("gms4", "abc", quorum=True)
    a = net["a"]
    a.handle(Join(D, (0, 0)), 1.0)
    a.handle(Assent(B, 1, 6), 1.0)
    hold(a, B, t=1.0)
    assert a.view.view_id == 6 and a.view.learners == (D,)
    a.handle(Join(E, (0, 0)), 1.1)                  # view 7 is proposed
    a.handle(Ack(D, 1, a.view.seq, a.role.peers[D].serial, a.view.seq, True), 1.2)  # d is ready
    a.handle(Down(C), 1.2)                          # and c is gone
    a.handle(Assent(B, 1, 7), 1.3)
    hold(a, B, t=1.4)
    a.handle(Assent(B, 1, 8), 1.5)
    v8 = a.latest_view()
    assert v8.view_id == 8 and v8.members == (A, B, D, E)
    assert v8.voters == (A, B) and v8.learners == (D, E), "two voters changed in one view"


def test_a_leaving_leader_that_hears_from_a_minority_of_its_last_view_halts():
    # Its last view (b, c) is not ours to vote in: hearing from b alone is
    # one of two. Counting itself, such a leader went on leading a learner
    # of its old regime for ever after a cut.
    net = Net("gms4", "abc", quorum=True, heartbeat=0.1, suspect_after=1.0)
    a = net["a"]
    a.handle(AppLeave(), 0.1)
    a.handle(Assent(B, 1, 6), 0.1)
    assert a.latest_view().members == (B, C) and a.role_name == "leader"
    t = 0.1
    while a.role_name == "leader" and t < 3.0:
        t = round(t + 0.1, 1)
        a.handle(Ack(B, a.epoch, a.stream.delivered, a.role.peers[B].serial, 0), t)
        a.handle(Tick(), t)
    assert a.role_name == "minority" and 1.0 < t <= 1.3, t


def test_a_view_beyond_the_history_is_not_skipped_without_a_majority_of_the_view_before_it():
    # View 8 (a, b, c: d removed) lies beyond every history; b and c are a
    # majority of view 8's voters but not of view 7's (a, b, c, d), whose
    # majority committed what view 8 may have followed: b must not lead on
    # from view 7 with half of it.
    net = Net("gms4", "abcd", quorum=True)
    b = net["b"]
    assert (b.view.view_id, b.view.seq, b.view.learners) == (7, 7, ())
    b.handle(Down(A), 1.0)
    b.handle(Down(D), 1.0)
    v8 = View(9, 8, (A, B, C), (net["a"].inc, b.inc, net["c"].inc))
    effects = b.handle(Promise(C, 2, 1, 7, 7, (), True, net["c"].inc, v8), 1.1)
    assert b.role_name == "minority"
    assert [e.reason for e in effects if isinstance(e, Halt)] == [
        "view 8 lies beyond the history the survivors could hand over (up to 7)"]


def test_a_takeovers_first_view_keeps_learners_learners():
    net = Net("gms4", "abcd", quorum=True)
    net.add("e", "a")
    net.settle(drop=lambda src, dst, msg: src == "e" and isinstance(msg, Ack))  # never ready
    assert net["b"].view.learners == (E,)
    net.crash("a")
    net.settle(drop=lambda src, dst, msg: src == "e" and not isinstance(msg, Promise))
    b = net["b"]
    assert b.role_name == "leader"
    first = next(e for s, e in sorted(b.stream.entries.items())
                 if isinstance(e, View) and e.members[0] == B)
    assert E in first.members and first.learners == (E,)


def test_a_leaving_leader_hands_joins_to_the_next_and_tells_it_the_commit_point():
    net = Net("gms4", "abc", quorum=True)
    a = net["a"]
    a.handle(AppLeave(), 1.0)
    assert a.handle(Join(D, (0, 0)), 1.05) == []        # kept for the next leader
    vid = a.view.view_id + 1
    a.handle(Assent(B, 1, vid, a.role.peers[B].serial), 1.1)
    a.handle(Assent(C, 1, vid, a.role.peers[C].serial), 1.1)
    out = []
    for m in (B, C):
        out += a.handle(Ack(m, a.epoch, a.stream.delivered, a.role.peers[m].serial,
                            a.stream.received), 1.2)
    assert a.stopped == "left the group"
    stop = out.index(Stop("left the group"))
    assert not [e for e in out[stop + 1:] if isinstance(e, Send)], "sent after it stopped"
    assert Send(B, Join(D, (0, 0))) in out                # b leads next
    [last] = [e.msg for e in out if isinstance(e, Send) and e.to == B
              and isinstance(e.msg, Broadcast)][-1:]
    assert last.commit == a.commit == a.stream.received   # it delivers our last view


def test_a_join_repeated_while_its_admission_waits_for_a_majority_changes_nothing():
    net = Net("gms4", "abc", quorum=True)
    a = net["a"]
    a.handle(Join(D, (0, 0)), 1.0)
    vid = a.view.view_id + 1
    for m in (B, C):
        a.handle(Assent(m, 1, vid, a.role.peers[m].serial), 1.1)
    pending = a.latest_view()
    assert D in pending.members and D not in a.view.members     # sequenced, not delivered
    effects = a.handle(Join(D, (0, 0)), 1.2)
    assert a.latest_view() == pending
    assert not [e for e in effects if isinstance(e, Send) and isinstance(e.msg, Propose)]


def test_when_the_commit_point_moves_a_member_owed_entries_is_sent_them():
    net = Net("gms4", "abc", quorum=True)
    a = net["a"]
    a.handle(AppMcast("x"), 1.0)
    s = a.stream.received
    c = a.role.peers[C]
    c.next_seq, c.unacked = s, {}           # as if its copy had gone with a lost send
    effects = a.handle(Ack(B, 1, a.stream.delivered, a.role.peers[B].serial, s), 1.1)
    assert a.commit == s
    to_c = [e.msg for e in effects if isinstance(e, Send) and e.to == C
            and isinstance(e.msg, Broadcast)]
    assert [[x.seq for x in b.entries] for b in to_c] == [[s]]


def test_an_assent_from_a_stranger_is_ignored():
    net = Net("gms4", "abc", quorum=True)
    a = net["a"]
    assert a.handle(Assent(D, 1, a.view.view_id + 1, 3), 1.0) == []

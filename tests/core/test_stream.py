"""The stream a member holds: arrival, hold-back, delivery, trimming."""
from groupy_actors.core import Member, Msg
from groupy_actors.core.stream import Stream

A = Member("a")


def m(seq):
    return Msg(seq, A, (1, 1), seq, seq)


def test_entries_are_delivered_in_order_once_contiguous():
    s = Stream("gapless", keep=True)
    assert s.add(m(2)) and list(s.deliverable(10)) == [] and s.received == 0
    assert s.held_beyond() == 2
    assert s.add(m(1))
    assert [e.seq for e in s.deliverable(10)] == [1, 2]
    assert not s.add(m(1)) and s.delivered == 2


def test_delivery_stops_where_the_caller_says():
    s = Stream("gapless", keep=True)
    for i in (1, 2, 3):
        s.add(m(i))
    assert [e.seq for e in s.deliverable(2)] == [1, 2] and s.delivered == 2


def test_trim_keeps_what_is_not_delivered():
    s = Stream("gapless", keep=True)
    for i in (1, 2, 3):
        s.add(m(i))
    list(s.deliverable(2))
    s.trim(3)
    assert sorted(s.entries) == [3] and s.trimmed == 2
    assert s.range(1, 3) == [m(3)]


def test_truncate_never_cuts_below_delivered():
    s = Stream("gapless", keep=True)
    for i in (1, 2, 3, 5):
        s.add(m(i))
    list(s.deliverable(2))
    s.truncate_after(0)
    assert sorted(s.entries) == [1, 2] and s.received == 2


def test_cover_counts_a_state_transfer_as_delivered():
    s = Stream("gapless", keep=True)
    s.reset(1)
    s.add(m(5))
    s.cover([m(2), m(3), m(4)], 4)
    assert s.delivered == 4 and s.received == 5 and s.range(2, 5) == [m(2), m(3), m(4), m(5)]


def test_cover_trims_what_the_state_did_not_carry():
    s = Stream("gapless", keep=True)
    s.reset(1)
    s.cover([m(4)], 4)
    assert s.trimmed == 3 and s.range(1, 4) == [m(4)]


def test_drop_old_admits_only_what_is_new():
    s = Stream("drop_old", keep=False)
    assert s.admit(m(3)) and not s.admit(m(2)) and not s.admit(m(3)) and s.admit(m(4))
    assert s.received == s.delivered == 4


def test_none_admits_everything():
    s = Stream("none", keep=False)
    assert s.admit(m(3)) and s.admit(m(3)) and s.admit(m(1))


def test_without_keep_delivered_entries_are_dropped():
    s = Stream("gapless", keep=False)
    s.add(m(1))
    list(s.deliverable(1))
    assert len(s) == 0 and s.delivered == 1


def test_a_range_is_exactly_what_was_asked_and_stops_at_a_hole():
    s = Stream("gapless", keep=True)
    for i in (1, 2, 3, 5, 6):
        s.add(m(i))
    assert s.range(2, 3) == [m(2), m(3)]            # not 4 or 5 along with them
    assert s.range(1, 6) == [m(1), m(2), m(3)]      # 4 is missing: nothing beyond it
    assert s.range(5, 6) == [m(5), m(6)]


def test_a_state_transfer_keeps_the_unstable_entries_it_came_with():
    s = Stream("gapless", keep=True)
    s.reset(2)                                      # a newcomer: its stream starts at 3
    s.add(m(3))
    s.cover([m(3), m(4), m(5)], 5)                  # the state stands for up to 5
    assert s.delivered == s.received == 5 and s.trimmed == 2
    assert sorted(s.entries) == [3, 4, 5], "kept for a flush should the leader fail"


def test_a_state_transfer_without_the_first_entries_trims_through_them():
    s = Stream("gapless", keep=True)
    s.reset(2)
    s.cover([m(5)], 5)                              # the sender no longer kept 3 and 4
    assert s.trimmed == 4 and sorted(s.entries) == [5]
    assert s.delivered == s.received == 5


def test_an_entry_already_had_is_refused_even_once_trimmed():
    s = Stream("gapless", keep=True)
    for i in (1, 2, 3):
        s.add(m(i))
    list(s.deliverable(3))
    s.trim(3)
    assert not s.add(m(3)) and not s.add(m(2))
    assert sorted(s.entries) == [] and s.received == 3


def test_entries_too_far_ahead_are_refused():
    s = Stream("gapless", keep=True, holdback=3)
    assert s.add(m(3))                      # received 0 + 3: at the edge, kept
    assert not s.add(m(4)) and 4 not in s.entries


def test_a_state_transfer_missing_only_its_first_entry_trims_through_it():
    s = Stream("gapless", keep=True)
    s.reset(1)
    s.cover([m(3), m(4)], 4)                        # 2 was no longer kept by the sender
    assert s.trimmed == 2 and s.range(1, 4) == [m(3), m(4)]


def test_by_default_a_hundred_thousand_entries_may_wait_beyond_a_gap():
    s = Stream("gapless", keep=True)
    assert s.add(m(100_000))
    assert not s.add(m(100_001)) and 100_001 not in s.entries

"""FIFO channels over a transport that may reorder."""
from groupy_actors.actors.fifo import Numbering, Reorder, Seq


def test_numbers_count_per_destination():
    n = Numbering()
    assert [n.wrap("a", x).n for x in "xyz"] == [1, 2, 3]
    assert n.wrap("b", "w") == Seq(1, "w")


def test_early_messages_wait_for_the_missing_one():
    r = Reorder()
    assert r.accept("s", Seq(2, "second"), 0.0) == []
    assert r.accept("s", Seq(3, "third"), 0.0) == []
    assert r.accept("s", Seq(1, "first"), 0.1) == ["first", "second", "third"]
    assert r.accept("s", Seq(2, "again"), 0.2) == []          # duplicate dropped


def test_sources_are_independent():
    r = Reorder()
    assert r.accept("s", Seq(2, "s2"), 0.0) == []
    assert r.accept("t", Seq(1, "t1"), 0.0) == ["t1"]


def test_a_gap_that_never_fills_is_skipped_after_a_while():
    r = Reorder(patience=1.0)
    r.accept("s", Seq(3, "c"), 0.0)
    assert r.expire(0.5) == []
    assert r.expire(1.0) == ["c"] and r.skipped == 2
    assert r.accept("s", Seq(4, "d"), 1.1) == ["d"]

"""Bad input is recognised before any handler runs."""
from groupy_actors.core import Broadcast, Member, Mcast, Msg, Nack, View
from groupy_actors.core.validate import problem

A = Member("a")


def test_well_formed_messages_pass():
    v = View(1, 1, (A,), ((1, 1),))
    assert problem(Broadcast(A, 1, (v, Msg(2, A, (1, 1), 1, {"any": "payload"})), 2, 0)) is None


def test_an_unknown_type_is_named():
    assert problem("hello") == "unknown message type str"


def test_wrong_field_types_are_caught():
    assert "epoch" in problem(Broadcast(A, "1", (), 0, 0))
    assert "seq" in problem(Broadcast(A, 1, (Msg("2", A, (1, 1), 1, None),), 2, 0))
    assert "n" in problem(Mcast(A, (1, 1), True, "x"))          # a bool is not a count
    assert "src" in problem(Nack("a", 1, 1, 2))


def test_values_out_of_range_are_caught():
    assert problem(Nack(A, 1, 5, 2)) is not None
    assert problem(View(1, 1, (A, A), ((1, 1), (1, 2)))) is not None     # duplicate member
    assert problem(View(1, 1, (A,), ())) is not None                     # incarnations missing
    assert problem(Mcast(A, (1, 1), 0, "x")) is not None

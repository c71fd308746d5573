"""The actor shell and the API, in one process (simpleSystemBase).

These check the wiring - messages reach the right actors, effects are
carried out, failures are noticed - not the protocol logic, which the core
tests and the simulator cover.
"""
import pytest

from groupy_actors import Application, GroupError, Recorder, Timing
from groupy_actors.checker import check
from groupy_actors.colour import ColourWorker, colours_agree
from groupy_actors.core import Broadcast, Member, Msg, View


def collect(group, names):
    logs = {n: [] for n in names}
    handles = [group.join(n, on_deliver=lambda m, n=n: logs[n].append(m.payload)) for n in names]
    return handles, logs


def test_every_member_delivers_the_same_messages_in_the_same_order(simple):
    (a, b, c), logs = collect(simple, "abc")
    for i in range(20):
        (a, b, c)[i % 3].mcast(i)
    assert simple.wait(lambda: all(len(x) == 20 for x in logs.values()))
    assert logs["a"] == logs["b"] == logs["c"] and sorted(logs["a"]) == list(range(20))
    assert check(simple.records).ok


def test_a_newcomer_receives_the_state_then_the_rest(simple):
    a, b = simple.join("a"), simple.join("b")
    for i in range(5):
        a.mcast(i)
    assert simple.wait(lambda: b.info.delivered == 5)
    c = simple.join("c")
    a.mcast("after")
    assert simple.wait(lambda: c.status.get("last") == "after")
    assert c.status["delivered"] == 6        # 5 by state transfer, 1 delivered
    assert [r["after"] for r in simple.records if r["kind"] == "state" and r["member"] == "c"]


def test_a_member_leaves_gracefully(simple):
    a, b, c = (simple.join(n) for n in "abc")
    b.leave()
    assert simple.wait(lambda: not b.alive and a.info.members == ("a", "c"))
    assert b.info.fate == "left the group"


def test_the_leader_crashing_gives_a_new_view_and_traffic_goes_on(simple):
    (a, b, c), logs = collect(simple, "abc")
    a.kill()
    assert simple.wait(lambda: b.info.members == ("b", "c") and c.info.members == ("b", "c"))
    c.mcast("still here")
    assert simple.wait(lambda: logs["b"][-1:] == ["still here"] == logs["c"][-1:])


def test_colour_workers_agree_through_leader_crashes(simple):
    workers = [simple.join(f"w{i}", ColourWorker, args=(0.01,)) for i in range(4)]
    for _ in range(2):
        simple.run(0.3)
        simple.kill(simple.leader().name)
        assert simple.wait(lambda: simple.leader() is not None)
    simple.quiet()
    alive = [w for w in workers if w.alive]
    assert simple.wait_reports(lambda: colours_agree(w.status for w in alive), 10)
    assert alive[0].status["applied"] > 10


def test_bad_input_to_a_member_is_dropped_and_it_keeps_working(simple, caplog):
    (a, b, c), logs = collect(simple, "abc")
    tell = simple.system.asys.tell
    forged = View(99, 99, (Member("c", c.info), Member("b")), ((1, 3), (1, 2)))
    tell(b.info.gms, "not a protocol message")
    tell(b.info.gms, Broadcast(Member("a"), "one", (), 0, 0))           # wrong field type
    tell(b.info.gms, Broadcast(Member("c"), 1, (forged,), 99, 0))      # a view not from the leader
    tell(b.info.gms, Broadcast(Member("a"), 0, (Msg(50, Member("a"), (1, 1), 9, "old"),), 50, 0))
    a.mcast("after the junk")
    assert simple.wait(lambda: logs["b"] == ["after the junk"])
    assert b.info.members == ("a", "b", "c")
    text = caplog.text
    assert "unknown message type str" in text and "is not <class 'int'>" in text
    assert "dropped broadcast from c" in text


def test_a_join_that_nobody_answers_fails_with_a_reason(make_group):
    g = make_group(system="simple", protocol="gms1", timing=Timing(join_timeout=0.5))
    a, b = g.join("a"), g.join("b")
    a.kill()                        # gms1: nobody takes over
    with pytest.raises(GroupError, match="did not join: could not join: no answer from the group"):
        g.join("c", via="b")


def test_api_mistakes_are_clear_errors(simple):
    simple.join("a")
    with pytest.raises(GroupError, match="already a member called 'a'"):
        simple.join("a")
    with pytest.raises(GroupError, match="non-empty word"):
        simple.join("two words")
    with pytest.raises(GroupError, match="no live member called 'zed'"):
        simple.join("b", via="zed")
    with pytest.raises(GroupError, match="Application subclass"):
        simple.join("b", app=dict)
    with pytest.raises(ValueError, match="unknown protocol"):
        type(simple).start(system="simple", protocol="gms5")


@pytest.mark.parametrize("level", ["gms1", "gms2", "gms3", "gms4"])
def test_every_level_runs_on_the_shell(make_group, level):
    g = make_group(system="simple", protocol=level)
    (a, b), logs = collect(g, "ab")
    b.mcast("x")
    assert g.wait(lambda: logs["a"] == ["x"] == logs["b"])


class Grumpy(Application):
    def deliver(self, message):
        raise RuntimeError("application bug")


def test_an_application_that_raises_does_not_stop_the_member(simple, caplog):
    a = simple.join("a", Grumpy)
    b = simple.join("b")
    a.mcast("x")
    assert simple.wait(lambda: b.status.get("last") == "x")
    assert "application bug" in caplog.text and a.alive

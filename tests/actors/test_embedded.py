"""The application inside its group actor (two hops per multicast instead
of four): the same guarantees, the same API, one actor per member."""
import pytest

from groupy_actors.checker import check
from groupy_actors.colour import ColourWorker, colours_agree
from groupy_actors.examples.kvstore import KVStore, put


@pytest.mark.parametrize("system", ["simple", "tcp"])
def test_embedded_members_deliver_in_one_order_and_a_newcomer_gets_the_state(make_group, system):
    g = make_group(system=system, embedded=True)
    logs = {n: [] for n in "abc"}
    a, b = (g.join(n, on_deliver=lambda m, n=n: logs[n].append(m.payload)) for n in "ab")
    for i in range(20):
        (a if i % 2 else b).mcast(i)
    assert g.wait(lambda: len(logs["a"]) == 20 == len(logs["b"]), 20)
    c = g.join("c", on_deliver=lambda m: logs["c"].append(m.payload))
    a.mcast("after")
    assert g.wait(lambda: logs["c"] == ["after"] and logs["a"][-1] == "after", 20)
    assert logs["a"] == logs["b"] and sorted(logs["a"][:20]) == list(range(20))
    assert c.status["delivered"] == 21          # 20 restored with the state, then one
    assert check(g.records).ok


def test_an_embedded_application_multicasts_from_its_callbacks_and_timers(make_group):
    g = make_group(system="tcp", seed=3, embedded=True)
    workers = [g.join(f"w{i}", ColourWorker, args=(0.02,)) for i in range(3)]
    g.run(1.0)
    g.kill(g.leader().name)
    assert g.wait(lambda: g.leader() is not None, 10)
    g.quiet()
    assert g.wait(lambda: check(g.records).ok, 15), check(g.records).lines()
    alive = [w for w in workers if w.alive]
    assert g.wait_reports(lambda: colours_agree(w.status for w in alive), 10), \
        [(w.name, w.status) for w in workers]
    assert alive[0].status["applied"] > 10


def test_embedded_and_separate_members_mix_in_one_group(make_group):
    g = make_group(system="tcp")
    a = g.join("a", KVStore)
    b = g.join("b", KVStore, embedded=True)
    a.mcast(put("k", 1))
    b.mcast(put("k", 2))
    assert g.wait_reports(lambda: a.status.get("applied") == 2 == b.status.get("applied"), 20)
    assert a.status["digest"] == b.status["digest"]

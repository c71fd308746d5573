"""The shell on real processes (multiprocTCPBase): SIGKILLed members are
noticed through the supervisor, state transfer and FIFO channels hold."""
import pytest

from groupy_actors.checker import PROMISED, check
from groupy_actors.colour import ColourWorker, colours_agree


@pytest.mark.parametrize("level", ["gms3", "gms4"])
def test_sigkill_of_the_leaders_process_leads_to_a_new_view(make_group, level):
    g = make_group(system="tcp", protocol=level)
    logs = {n: [] for n in "abcd"}
    a, b, c, d = (g.join(n, on_deliver=lambda m, n=n: logs[n].append(m.payload)) for n in "abcd")
    a.mcast("before")
    assert g.wait(lambda: all(x == ["before"] for x in logs.values()))
    g.kill(a)                       # SIGKILL of its process
    assert g.wait(lambda: all(h.info.members == ("b", "c", "d") for h in (b, c, d)), 10)
    d.mcast("after")
    assert g.wait(lambda: all(logs[n] == ["before", "after"] for n in "bcd"), 10)
    assert check(g.records, required=PROMISED[level]).ok


def test_a_killed_slave_is_removed_by_the_leader(make_group):
    g = make_group(system="tcp", protocol="gms2")
    a, b, c = (g.join(n) for n in "abc")
    g.kill(c)
    assert g.wait(lambda: a.info.members == ("a", "b") == b.info.members, 10)


def test_a_newcomer_gets_the_state_across_processes(make_group):
    g = make_group(system="tcp")
    a = g.join("a")
    for i in range(10):
        a.mcast(i)
    b = g.join("b")
    a.mcast("x")
    assert g.wait(lambda: b.status.get("last") == "x", 10)
    assert b.status["delivered"] == 11


def test_colour_workers_agree_while_leaders_are_killed(make_group):
    g = make_group(system="tcp", seed=1)
    workers = [g.join(f"w{i}", ColourWorker, args=(0.05,)) for i in range(4)]
    for _ in range(2):
        g.run(0.5)
        g.kill(g.leader().name)
        assert g.wait(lambda: g.leader() is not None, 10)
    g.quiet()
    assert g.wait(lambda: check(g.records).ok, 15), check(g.records).lines()
    alive = [w for w in workers if w.alive]
    assert g.wait_reports(lambda: colours_agree(w.status for w in alive), 10), \
        [(w.name, w.info.fate, w.status, w.info.members) for w in workers]
    assert alive[0].status["applied"] > 20

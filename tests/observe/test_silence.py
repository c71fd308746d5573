"""The silence a member's Stats report: a leader's is its most silent member's."""
from groupy_actors.core import Tick
from groupy_actors.observe.probe import silence

from ..core.net import Net


def test_a_leader_reports_the_silence_of_its_most_silent_member():
    net = Net("gms4", "abc")
    a = net["a"]
    a.role.peers[net["b"].me].heard_at = 0.5
    a.role.peers[net["c"].me].heard_at = 0.25
    assert silence(a, 2.0) == 1.75
    net.dead.update("bc")
    a.handle(Tick(), 2.0)           # a tick changes nothing of what was heard
    assert silence(a, 2.5) == 2.25

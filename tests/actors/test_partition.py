"""A 3+2 partition in quorum mode, injected inside the members (every
member drops protocol messages across the cut): the side with a majority
keeps delivering, the other halts and says so, and after healing all five
agree. tests/cluster/test_netns.py runs the same with real network
namespaces where the machine allows it."""
import pytest

from groupy_actors import Timing
from groupy_actors.checker import check
from groupy_actors.colour import ColourWorker, colours_agree

NETWORK = Timing.network(heartbeat=0.1, suspect_after=1.0)


@pytest.mark.parametrize("leader_side", [
    "minority",
    "majority"])
def test_a_partition_leaves_the_majority_delivering_and_the_minority_halted(
        make_group, leader_side):
    g = make_group(system="tcp", quorum=True, timing=NETWORK, seed=3)
    workers = [g.join(f"w{i}", ColourWorker, args=(0.05,)) for i in range(5)]
    assert g.wait(lambda: all(w.info.in_view and len(w.info.members) == 5 for w in workers),
                  20), [(w.name, w.info.role, w.info.members) for w in workers]
    g.run(0.5)
    leader = g.leader().name
    others = [w.name for w in workers if w.name != leader]
    small = [leader, others[0]] if leader_side == "minority" else others[:2]
    big = [w.name for w in workers if w.name not in small]
    g.partition(big, small)
    assert g.wait(lambda: all(g.members[n].role == "minority" for n in small), 20), \
        {n: g.members[n].role for n in small}
    assert g.wait(lambda: all(g.members[n].in_view and len(g.members[n].members) == 3
                              for n in big), 20), {n: g.members[n].members for n in big}
    halted_at = {n: g.members[n].delivered for n in small}
    before = {n: g.members[n].delivered for n in big}
    g.run(2.0)
    assert all(g.members[n].delivered > before[n] for n in big), "the majority stopped"
    assert all(g.members[n].delivered == halted_at[n] for n in small), "the minority delivered"
    g.heal()
    assert g.wait(lambda: all(g.members[n].in_view and len(g.members[n].members) == 5
                              for n in big + small), 30), \
        {n: (g.members[n].role, g.members[n].members) for n in big + small}
    g.quiet()
    assert g.wait_reports(lambda: colours_agree(w.status for w in workers), 20), \
        [(w.name, w.info.role, w.status) for w in workers]
    assert g.wait(lambda: check(g.records).ok, 15), check(g.records).lines()

"""The replicated key-value store example, tested with the kit as a user would."""
import pytest

from groupy_actors.examples.kvstore import KVStore, Put, random_writes
from groupy_actors.testing import Faults, assert_converged

LEADER_CRASHES = Faults(crashes=2, loss=0.1)      # crashes hit the leader half the time or more


def state(store):
    return store.data, store.versions


@pytest.mark.groupy_seeds(200)
def test_200_seeds_of_five_members_with_leader_crashes_and_loss(groupy_sim):
    result = groupy_sim(KVStore, members=5, faults=LEADER_CRASHES, workload=random_writes)
    assert_converged(result, key=state)


@pytest.mark.groupy_seeds(30)
def test_joins_leaves_partitions_and_duplicates_in_quorum_mode(groupy_sim):
    faults = Faults(loss=0.05, duplicate=0.1, crashes=1, joins=2, leaves=1, partitions=1)
    result = groupy_sim(KVStore, members=5, faults=faults, workload=random_writes, steps=30,
                        quorum=True)
    assert_converged(result, key=state)


@pytest.mark.groupy_seeds(3, start=40)
def test_the_seed_follows_the_marker(groupy_sim, groupy_seed):
    result = groupy_sim(KVStore, members=3, workload=random_writes, steps=5)
    assert result.seed == groupy_seed == groupy_sim.seed and 40 <= groupy_seed < 43
    assert result.replay_command.endswith(f"::test_the_seed_follows_the_marker "
                                          f"--groupy-seed {groupy_seed}")


def test_the_leader_really_crashes_in_most_runs(groupy_sim):
    crashed_leader = 0
    for seed in range(20):
        groupy_sim.seed = seed
        r = groupy_sim(KVStore, members=5, faults=LEADER_CRASHES, workload=random_writes)
        crashed_leader += any(x["kind"] == "crash" and x["how"].endswith("as leader")
                              for x in r.records)
    assert crashed_leader >= 15


def test_a_client_inside_the_application():
    from groupy_actors.testing import simulate

    class Client(KVStore):
        def started(self):
            self.put(self.group.name, "hello")

    r = simulate(Client, members=4, seed=0)
    assert_converged(r, key=state)
    assert next(iter(r.survivors.values())).data == {f"m{i}": "hello" for i in range(1, 5)}
    assert Put("m1", "hello") in [m.payload for m in r.items.values() if hasattr(m, "payload")]

"""assert_converged and assert_snapshot_roundtrip: what they catch, and what they say."""
import re

import pytest

from groupy_actors import Recorder
from groupy_actors.examples.forgetful import ForgetfulKVStore
from groupy_actors.examples.kvstore import Delete, KVStore, Put, SetIf, random_writes
from groupy_actors.testing import (Faults, assert_converged, assert_snapshot_roundtrip, replay,
                                   simulate)

from .apps import Fragile, fragile_step

OPS = [Put("a", 1), Put("b", [2]), SetIf("a", 2, "a2"), Delete("b"), SetIf("a", 9, "no"),
       Put("c", {"x": 1})]


def state(store):
    return store.data, store.versions


def test_a_correct_store_converges_and_matches_a_replay():
    r = simulate(KVStore, seed=4, faults=Faults(loss=0.1, crashes=2, joins=2, leaves=1),
                 workload=random_writes, steps=30)
    assert_converged(r, key=state)
    assert_converged(r)                     # every attribute but group
    again = replay(r, key=state)
    assert again.stream == r.stream() and again.stream[0] == "v:1"
    assert state(again.app) == state(next(iter(r.survivors.values())))
    assert len(again.keys) == len(again.stream) + 1


def test_divergence_names_the_member_the_seed_the_step_and_the_replay():
    seed = next(s for s in range(50)
                if not _converges(simulate(ForgetfulKVStore, seed=s, faults=Faults(joins=1),
                                           workload=random_writes)))
    r = simulate(ForgetfulKVStore, seed=seed, faults=Faults(joins=1), workload=random_writes)
    with pytest.raises(AssertionError) as e:
        assert_converged(r, key=state)
    text = str(e.value)
    assert text.startswith(f"the survivors' states do not converge (j1 differs) (seed {seed}: "
                           f"gms4, 5 members, Faults(joins=1), 20 workload steps)")
    assert re.search(r"j1 first differed from the replay of the same prefix, for good, after "
                     r"its state transfer \(restore\) at t=[\d.]+, which covered up to item "
                     r"\d+ of \d+", text), text
    assert f"replay: simulate(groupy_actors.examples.forgetful.ForgetfulKVStore, members=5, " \
           f"seed={seed}, faults=Faults(joins=1), steps=20, " \
           f"workload=groupy_actors.examples.kvstore.random_writes)" in text


def test_a_divergence_after_a_delivery_names_the_workload_step():
    class OffByOne(KVStore):          # m2 stores every Put wrong from its third write on
        def deliver(self, message):
            super().deliver(message)
            if self.group.name == "m2" and self.applied >= 3 and isinstance(message.payload, Put):
                self.data[message.payload.key] = "wrong"

    r = simulate(OffByOne, members=3, seed=1, workload=random_writes, steps=10)
    with pytest.raises(AssertionError) as e:
        assert_converged(r, key=state)
    line = next(x for x in str(e.value).splitlines() if "first differed" in x)
    assert re.search(r"m2 first differed .* after it took item \d+ of \d+, m:\S+, multicast in "
                     r"workload step \d+ at m\d \(deliver\) at t=", line), line


def _converges(r):
    try:
        assert_converged(r, key=state)
    except AssertionError:
        return False
    return True


def test_a_run_with_handler_errors_does_not_converge():
    r = simulate(Fragile, members=3, seed=1, workload=fragile_step, steps=6)
    with pytest.raises(AssertionError, match="the run failed before its state could be compared"):
        assert_converged(r, key=lambda app: app.log)


def test_the_snapshot_roundtrip_of_the_examples():
    assert_snapshot_roundtrip(KVStore, OPS)
    assert_snapshot_roundtrip(Recorder, ["a", "b", "c"], key=lambda app: app.log)


def test_the_roundtrip_catches_a_forgotten_field_at_the_first_prefix_that_shows_it():
    with pytest.raises(AssertionError) as e:
        assert_snapshot_roundtrip(ForgetfulKVStore, OPS)
    assert str(e.value) == (
        "groupy_actors.examples.forgetful.ForgetfulKVStore: restore(snapshot()) differs from "
        "the original after 1 of 6 messages [Put(key='a', value=1)]: "
        "'versions': expected {'a': 2}, got {}")


def test_the_roundtrip_catches_a_snapshot_that_changes_the_original_or_loses_the_future():
    class Draining(KVStore):
        def snapshot(self):
            state = super().snapshot()
            self.applied = 0
            return state

    with pytest.raises(AssertionError, match="snapshot\\(\\) changed the original after 1 of 6"):
        assert_snapshot_roundtrip(Draining, OPS)

    class Hidden(KVStore):          # a field the key leaves out, that later writes need
        def restore(self, state):
            super().restore(state)
            self.versions = {k: 0 for k in self.versions}

    with pytest.raises(AssertionError, match="then both delivered the other"):
        assert_snapshot_roundtrip(Hidden, OPS, key=lambda s: s.data)

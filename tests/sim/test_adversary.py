"""The adversarial scheduler hunts for schedules that break a guarantee.

Three searches over the same simulator (`groupy_actors.sim.adversary`),
each checking every guarantee of the level after every step and, at the
end of a fair suffix (no more faults, every message delivered, every timer
on time), that the group is back together wherever it can be:

- seeded random walks (`walk.py`): thousands of schedules, each replayable
  from its seed;
- hypothesis's stateful testing: it chooses each step, and shrinks a
  failing schedule to a minimal one;
- bounded exhaustive exploration (`explore.py`, in test_explore.py).

How to replay a failure: docs/testing.md.
"""
import os

import pytest
from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from groupy_actors.sim.adversary import ADVERSARY_TIMING, World
from groupy_actors.sim.walk import MIXES, Mix, search, timing_for

SCALE = float(os.environ.get("GROUPY_SIM_SCALE", "1"))
# Walks start at a seed that a run may move to look further (replay with
# `python -m groupy_actors.sim.walk MIX SEED`).
OFFSET = int(os.environ.get("GROUPY_WALK_OFFSET", "0"))

WALKS = {"plain": 500, "five": 150, "quorum": 500, "quorum-five": 150, "even": 150,
         "two": 200, "gms3": 250, "gms2": 100, "gms1": 100}


@pytest.mark.parametrize("mix", list(WALKS))
def test_random_walks_keep_every_guarantee(mix):
    count = max(1, int(WALKS[mix] * SCALE))
    failures = search(range(OFFSET, OFFSET + count), MIXES[mix])
    assert not failures, failures[0]


class Schedules(RuleBasedStateMachine):
    """Hypothesis picks every step; the world checks the guarantees."""

    @initialize(members=st.integers(2, 7), quorum=st.booleans(), level=st.sampled_from(
        ["gms4", "gms4", "gms4", "gms3"]))
    def start(self, members, quorum, level):
        quorum = quorum and level == "gms4"
        mix = Mix(level=level, members=members, quorum=quorum)
        self.classic = level != "gms4"
        self.world = World(level, members, quorum, timing_for(mix))
        self.budget = {"crash": (members - 1) // 2 if quorum else members - 1,
                       "drop": 0 if self.classic else 12, "cut": 0 if not quorum else 2,
                       "join": 2, "leave": 1, "mcast": 10}

    def spend(self, what):
        if self.budget[what] <= 0:
            return False
        self.budget[what] -= 1
        return True

    @rule(k=st.integers(0, 10**6))
    def deliver(self, k):
        ready = self.world.deliverable()
        if ready:
            self.world.deliver(ready[k % len(ready)])

    @precondition(lambda self: not self.classic)
    @rule(k=st.integers(0, 10**6))
    def drop(self, k):
        net = [i for i, p in enumerate(self.world.flight) if p.kind == "net"]
        if net and self.spend("drop"):
            self.world.drop(net[k % len(net)])

    @precondition(lambda self: not self.classic)
    @rule(k=st.integers(0, 10**6))
    def duplicate(self, k):
        net = [i for i, p in enumerate(self.world.flight) if p.kind == "net"]
        if net:
            self.world.duplicate(net[k % len(net)])

    @rule(k=st.integers(0, 10**6))
    def tick(self, k):
        names = sorted(n for n in self.world.timers if self.world.nodes[n].alive)
        if names:
            self.world.fire(names[k % len(names)])

    @rule(k=st.integers(0, 10**6))
    def mcast(self, k):
        live = self.world.alive()
        if live and self.spend("mcast"):
            self.world.mcast(live[k % len(live)].name)

    @rule(k=st.integers(0, 10**6), lose=st.booleans(), seed=st.integers(0, 1000))
    def crash(self, k, lose, seed):
        live = self.world.alive()
        if len(live) > 1 and self.spend("crash"):
            self.world.crash(live[k % len(live)], lose_queued=seed if lose else None)

    @precondition(lambda self: not self.classic)
    @rule(k=st.integers(0, 10**6), size=st.integers(1, 3))
    def cut(self, k, size):
        w = self.world
        if w.cut:
            w.heal()
            return
        live = sorted(n.name for n in w.alive())
        if len(live) > 1 and self.spend("cut"):
            size = min(size, (len(live) - 1) // 2) or 1
            w.partition(live[(k + i) % len(live)] for i in range(size))

    @rule(k=st.integers(0, 10**6))
    def join(self, k):
        joined = self.world.alive(joined=True)
        if joined and self.spend("join"):
            self.world.join(joined[k % len(joined)].name)

    @rule(k=st.integers(0, 10**6))
    def leave(self, k):
        joined = self.world.alive(joined=True)
        if len(joined) > 2 and self.spend("leave"):
            self.world.leave(joined[k % len(joined)].name)

    @invariant()
    def safe(self):
        if hasattr(self, "world"):
            self.world.assert_safe()

    def teardown(self):
        if hasattr(self, "world"):
            self.world.finish()


Schedules.TestCase.settings = settings(
    max_examples=max(1, int(400 * SCALE)), stateful_step_count=80, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    print_blob=True)
test_hypothesis_finds_no_schedule_that_breaks_a_guarantee = Schedules.TestCase


def test_the_world_times_are_short_enough_to_search():
    assert ADVERSARY_TIMING.suspect_after <= 8 and ADVERSARY_TIMING.tick == 1

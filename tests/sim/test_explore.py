"""Bounded exhaustive exploration: every schedule of small configurations.

`groupy_actors.sim.explore` tries every step from every state (deliver any
packet, lose one, crash anyone, multicast anywhere) within the bounds, with
the cores' invariants asserted in every step and every guarantee, then
liveness, checked at every leaf. Larger bounds run from the command line:
`python -m groupy_actors.sim.explore --quorum --crashes 1 --losses 1`
(docs/testing.md).
"""
import pytest

import groupy_actors.core.roles.electing as electing
from groupy_actors.sim.explore import Bounds, explore, replay

SMALL = {
    "gms4": Bounds(members=3, messages=1, crashes=1, losses=2),
    "gms4-quorum": Bounds(members=2, quorum=True, messages=1, crashes=1, losses=1),
    "gms3": Bounds(level="gms3", members=3, messages=2, crashes=1, losses=2),
}


@pytest.mark.parametrize("name", list(SMALL))
def test_every_schedule_of_a_small_group_keeps_every_guarantee(name):
    result = explore(SMALL[name])
    assert result.complete, result.summary()
    assert result.violation is None, f"{result.summary()}\n{result.schedule}"
    assert result.leaves > 100, "the bounds leave almost nothing to explore"


def test_the_exploration_finds_a_planted_bug_and_its_schedule_replays(monkeypatch):
    # A candidate that trusts only its own history loses what a majority
    # delivered: some schedule must show it.
    survey = electing.survey
    monkeypatch.setattr(electing, "survey", lambda g, replies: survey(g, []))
    bounds = Bounds(members=3, quorum=True, messages=1, crashes=1, losses=1)
    result = explore(bounds)
    assert result.violation is not None and result.schedule
    world = replay(bounds, result.schedule)
    assert any(("crash", "m1") == step[:2] or step[0] == "crash" for step in result.schedule)
    assert world.steps, "the replay ran the schedule"

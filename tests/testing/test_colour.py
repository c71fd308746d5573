"""The demo's colour worker, tested with the kit: it drives itself with timers."""
import pytest

from groupy_actors.colour import Change, ColourWorker
from groupy_actors.testing import Faults, assert_converged, assert_snapshot_roundtrip


def colour(worker):
    return worker.colour, worker.applied, worker.digest


@pytest.mark.groupy_seeds(25)
def test_colours_agree_on_gms4_under_loss_crashes_joins_and_leaves(groupy_sim):
    # A proposal every 0-40 ms at each worker (sleep 0.02 s; 1 unit = 1 ms).
    result = groupy_sim(ColourWorker, args=(0.02,), faults=Faults(loss=0.1, crashes=2, joins=2,
                                                                  leaves=1))
    assert_converged(result, key=colour)
    assert result.report.stats["messages"] > 20


@pytest.mark.groupy_seeds(25)
def test_every_attribute_agrees_with_a_replay(groupy_sim):
    # The default key: all attributes but group (ready, proposing, ...).
    assert_converged(groupy_sim(ColourWorker, args=(0.02,), members=4,
                                faults=Faults(crashes=1, joins=1)))


@pytest.mark.groupy_seeds(25)
def test_state_by_query_on_gms3_with_crashes_on_reliable_links(groupy_sim):
    # gms3 has no state transfer: a newcomer asks for the colour through the
    # stream (StateQuery/StateReply); requery after 0.1 s if unanswered.
    result = groupy_sim(ColourWorker, args=(0.05, 0.1), level="gms3",
                        faults=Faults(crashes=2, joins=2))
    assert_converged(result, key=colour)


def test_the_colour_survives_a_snapshot_roundtrip():
    assert_snapshot_roundtrip(ColourWorker, [Change(n) for n in (3, 1, 4, 1, 5, 9, 2, 6)],
                              args=(0,), key=colour)

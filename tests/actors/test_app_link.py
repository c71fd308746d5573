"""The group actor's link to its application: at most WINDOW batches
unacknowledged; what comes meanwhile leaves as one batch."""
from groupy_actors.actors.app_link import PATIENCE, WINDOW, AppLink
from groupy_actors.actors.fifo import Numbering
from groupy_actors.actors.messages import AppBatch

APP = "app"


def test_batches_beyond_the_window_wait_and_leave_together_once_acknowledged():
    link = AppLink(Numbering())
    for i in range(WINDOW):
        link.add(i)
        assert link.take(APP, 0.0).msg == i             # one effect: sent bare
    link.add("x")
    link.add("y")
    assert link.take(APP, 0.1) is None                  # the window is full
    link.ack(1)
    out = link.take(APP, 0.2)
    assert out.n == WINDOW + 1 and out.msg == AppBatch(("x", "y"))


def test_a_batch_goes_anyway_after_patience_or_when_forced():
    link = AppLink(Numbering())
    for i in range(WINDOW):
        link.add(i)
        link.take(APP, 0.0)
    link.add("late")
    assert link.take(APP, PATIENCE / 2) is None
    assert link.take(APP, PATIENCE).msg == "late"       # its ack may be lost
    link.add("last")
    assert link.take(APP, PATIENCE, force=True).msg == "last"


def test_nothing_held_sends_nothing():
    assert AppLink(Numbering()).take(APP, 0.0) is None

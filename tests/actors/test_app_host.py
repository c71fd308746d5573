"""The application actor on its own: what the group actor sends before the
supervisor's AppInit arrives (two senders, no order between them across
processes) waits for the application instead of being dropped."""
from groupy_actors.actors.app_host import AppHost
from groupy_actors.actors.messages import AppBatch, AppInit
from groupy_actors.application import Application
from groupy_actors.core import Deliver, InstallView, Restore
from groupy_actors.core.member import Member
from groupy_actors.core.messages import Msg, View

INCS = ((1, 1), (1, 2))


class Recorder(Application):
    def __init__(self) -> None:
        self.seen: list = []

    def view(self, view) -> None:
        self.seen.append(("view", view.members, view.restored))

    def restore(self, state) -> None:
        self.seen.append(("restore", state))

    def deliver(self, message) -> None:
        self.seen.append(("deliver", message.payload))


def test_a_batch_that_overtakes_the_init_is_handed_over_after_it():
    a, b = Member("a"), Member("b")
    view = View(3, 2, (a, b), INCS)
    host = AppHost()                    # no actor system: dispatch only
    host.dispatch(AppBatch((Restore("state", 3, "v:2", "a"), InstallView(view, True))))
    host.dispatch(Deliver(Msg(4, a, INCS[0], 1, "x"), 2))
    host.dispatch(AppInit("b", "gms4", Recorder, (), None, None, 1))
    assert host.app.seen == [("restore", "state"), ("view", ("a", "b"), True), ("deliver", "x")]
    host.dispatch(Deliver(Msg(5, a, INCS[0], 2, "y"), 2))
    assert host.app.seen[-1] == ("deliver", "y")

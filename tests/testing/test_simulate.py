"""`simulate` runs a user's Application unchanged on the seeded simulator,
fed as the real shell feeds it."""
import pickle

import pytest

from groupy_actors import GroupView, Message
from groupy_actors.testing import UNITS_PER_SECOND, Faults, simulate

from .apps import Fragile, Leaver, Mutator, Probe, Unpicklable, fragile_step, send_step

FAULTS = Faults(loss=0.1, duplicate=0.05, crashes=2, joins=2, leaves=1)


def test_every_member_runs_the_class_unchanged_with_the_shells_types():
    r = simulate(Probe, members=4, seed=3, workload=send_step, steps=12)
    assert r.ok, r.problems()
    assert set(r.apps) == {"m1", "m2", "m3", "m4"} and set(r.survivors) == set(r.apps)
    for name, app in r.apps.items():
        assert type(app) is Probe and app.group.name == name and app.group.level == "gms4"
        assert app.calls[0] == "started"
        assert all(type(m) is Message for m in app.messages)
        assert all(type(v) is GroupView for v in app.views)
        assert app.quieted
        assert r.statuses[name] == {"delivered": 12}
    # The founder saw every view; a newcomer got its state, then its view marked restored.
    assert r.apps["m1"].views[0] == GroupView(1, ("m1",))
    m4 = r.apps["m4"]
    assert m4.calls[1:3] == ["restore", "view"] and m4.views[0].restored
    # Everyone holds the same 12 payloads, in the same order.
    assert len({pickle.dumps(app.log) for app in r.apps.values()}) == 1
    assert sorted(p["step"] for p in m4.log) == list(range(12))


def test_a_seed_replays_exactly():
    a = simulate(Probe, seed=11, faults=FAULTS, workload=send_step)
    b = simulate(Probe, seed=11, faults=FAULTS, workload=send_step)
    assert a.records == b.records and a.fates == b.fates
    assert {n: x.log for n, x in a.apps.items()} == {n: x.log for n, x in b.apps.items()}
    assert a.rerun().records == a.records
    c = simulate(Probe, seed=12, faults=FAULTS, workload=send_step)
    assert c.records != a.records


def test_faults_happen_and_the_checker_judges_the_run():
    r = simulate(Probe, seed=5, faults=FAULTS, workload=send_step, steps=30)
    assert r.counts["crashes"] == 2 and r.counts["lost"] > 0
    assert {"j1", "j2"} <= set(r.apps)
    assert "crashed" in r.fates.values()
    assert r.report.ok and r.quiet, r.problems()
    assert sum(1 for x in r.records if x["kind"] == "submit") == 30


def test_records_name_the_workload_step_of_each_multicast():
    r = simulate(Probe, members=3, seed=2, workload=send_step, steps=5)
    submits = [x for x in r.records if x["kind"] == "submit"]
    assert sorted(x["step"] for x in submits) == list(range(5))
    for x in submits:
        assert x["payload"] == {"step": x["step"], "by": x["member"]}
    # Each delivered item knows its step and sender.
    for item, (member, step) in r.item_steps.items():
        assert r.items[item].payload == {"step": step, "by": member}
    assert len(r.item_steps) == 5


def test_after_is_a_simulator_timer_in_seconds():
    r = simulate(Probe, members=2, seed=0, args=(0.05,))
    assert UNITS_PER_SECOND == 1000.0
    starts = {x["member"]: x["t"] for x in r.records if x["kind"] == "start"}
    assert all(app.fired == [0.05] for app in r.apps.values())
    assert starts["m1"] == 0.0 and r.end >= 50


def test_random_is_seeded_by_the_seed_and_the_member():
    a, b = simulate(Probe, members=3, seed=1), simulate(Probe, members=3, seed=2)
    assert a.apps["m1"].draws == simulate(Probe, members=3, seed=1).apps["m1"].draws
    assert a.apps["m1"].draws != a.apps["m2"].draws
    assert a.apps["m1"].draws != b.apps["m1"].draws


def test_payloads_and_snapshots_are_copies_as_across_processes():
    r = simulate(Mutator, members=4, seed=4, workload=lambda app, k: app.group.mcast({"k": k}),
                 steps=8, faults=Faults(joins=1))
    assert r.ok, r.problems()
    for name, app in r.apps.items():
        assert all(m.payload["seen_by"] == name for m in app.messages)
    logs = [app.log for app in r.survivors.values()]
    assert len({id(log) for log in logs}) == len(logs)
    # The checker saw the payloads as multicast, not as mutated later.
    assert all("seen_by" not in x["payload"] for x in r.records if x["kind"] == "deliver")


def test_a_handler_that_raises_is_reported_and_the_run_goes_on():
    r = simulate(Fragile, members=3, seed=1, workload=fragile_step, steps=6)
    assert not r.ok
    [error] = r.errors
    assert error.member == "m2" and error.handler == "deliver"
    assert "ValueError('boom at m2')" in error.error and "boom at m2" in error.traceback
    assert r.apps["m2"].log == r.apps["m1"].log        # the shell goes on too
    with pytest.raises(AssertionError) as e:
        r.assert_ok()
    assert "m2: deliver raised ValueError('boom at m2')" in str(e.value)
    assert "replay: simulate(tests.testing.apps.Fragile, members=3, seed=1" in str(e.value)


def test_a_snapshot_that_does_not_pickle_is_an_error_and_no_state_is_sent():
    r = simulate(Unpicklable, members=2, seed=0, settle=500)
    assert any(e.handler == "snapshot" for e in r.errors)
    assert not r.ok


def test_leaving_and_stopping_reach_the_application():
    r = simulate(Leaver, members=4, seed=6, workload=send_step, steps=6)
    assert r.fates["m3"] == "stopped: left the group"
    assert r.apps["m3"].reason == "left the group"
    assert "m3" not in r.survivors and r.ok, r.problems()


def test_the_result_says_how_to_replay_it():
    r = simulate(Probe, members=3, seed=9, faults=Faults(loss=0.1, crashes=1),
                 workload=send_step, steps=4, level="gms4")
    assert r.replay == ("simulate(tests.testing.apps.Probe, members=3, seed=9, "
                        "faults=Faults(loss=0.1, crashes=1), steps=4, "
                        "workload=tests.testing.apps.send_step)")
    assert "seed 9" in r.summary()


def test_other_levels_and_quorum_mode_run_too():
    assert simulate(Probe, members=3, seed=1, level="gms3", workload=send_step).report.ok
    r = simulate(Probe, members=5, seed=2, quorum=True, faults=Faults(partitions=1),
                 workload=send_step)
    assert r.ok, r.problems()
    with pytest.raises(ValueError):
        simulate(Probe, level="gms9")


class Chatty(Probe):
    """Multicasts every 10 ms for ever, deaf to quiet()."""

    def started(self):
        self.group.after(0.01, self.chat)

    def chat(self):
        self.group.mcast("more")
        self.group.after(0.01, self.chat)


def test_an_application_that_never_stops_keeps_the_group_from_settling():
    r = simulate(Chatty, members=2, seed=0, settle=300)
    assert not r.quiet and not r.ok
    assert any("never settled" in p for p in r.problems())


def test_an_exception_out_of_a_run_says_how_to_replay_it():
    class Unbuildable(Probe):
        def __init__(self):
            raise RuntimeError("no")

    with pytest.raises(RuntimeError) as e:
        simulate(Unbuildable, members=2, seed=3)
    assert "replay: simulate(" in "\n".join(e.value.__notes__)

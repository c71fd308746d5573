"""FakeGroup: plain unit tests of one handler."""
import pytest

from groupy_actors import GroupView, Message
from groupy_actors.colour import Change, ColourWorker, StateQuery, StateReply
from groupy_actors.examples.kvstore import Delete, KVStore, Put, SetIf
from groupy_actors.testing import FakeGroup


def test_it_records_what_a_handler_multicasts_without_delivering_it():
    group = FakeGroup("m1")
    store = group.attach(KVStore())
    store.put("a", 1)
    store.delete("b")
    assert group.sent == [Put("a", 1), Delete("b")]
    assert store.data == {}                  # nothing comes back by itself
    assert group.take() == [Put("a", 1), Delete("b")] and group.sent == []


def test_deliver_and_install_drive_the_handlers_with_the_real_types():
    group = FakeGroup("m2")
    store = group.attach(KVStore())
    v = group.install(["m1", "m2"])
    assert v == GroupView(1, ("m1", "m2")) and store.members == ("m1", "m2")
    m = group.deliver(Put("a", 1), sender="m1")
    assert isinstance(m, Message) and (m.sender, m.id, m.seq, m.view_id) == ("m1", "m1:1.1:1", 2, 1)
    group.deliver(SetIf("a", 2, "new"), sender="m1")        # version 2: the Put's seq
    group.deliver(SetIf("a", 2, "stale"))
    assert store.data == {"a": "new"} and store.versions == {"a": 3} and store.applied == 3
    assert group.reports == 3


def test_a_delivered_payload_is_a_copy():
    group = FakeGroup()
    store = group.attach(KVStore())
    value = ["x"]
    group.deliver(Put("a", value))
    value.append("changed by the sender later")
    assert store.data == {"a": ["x"]}


def test_timers_wait_for_advance_and_run_in_time_order():
    group = FakeGroup("m1", seed=3)
    worker = group.attach(ColourWorker(sleep=0.5))
    [timer] = group.timers                      # started() scheduled the first proposal
    assert 0 <= timer.seconds <= 1.0
    assert group.advance(timer.seconds / 2) == 0 and group.sent == []
    assert group.advance(2.0) >= 2               # each proposal schedules the next
    assert all(isinstance(p, Change) and 1 <= p.n <= 20 for p in group.sent)
    worker.quiet()
    group.advance(10.0)
    assert group.timers == [] or all(t.at > group.now for t in group.timers)


def test_the_colour_workers_state_query_handlers_on_gms3():
    group = FakeGroup("m2", level="gms3")
    worker = group.attach(ColourWorker(sleep=0))
    group.install(["m1", "m2"])
    [query] = group.take()
    assert isinstance(query, StateQuery) and query.ref == "m2#1"
    group.deliver(Change(5), sender="m1")               # before our query: ignored
    group.deliver(query)                                # our own query, in the stream
    group.deliver(Change(7), sender="m1")               # after it: kept for later
    assert not worker.ready and worker.colour == (0, 0, 0)
    group.deliver(StateReply("m2#1", (1, 2, 3), 4, "abc"), sender="m1")
    assert worker.ready and worker.colour == (2, 3, 8) and worker.applied == 5
    [(kind, fields)] = group.records
    assert kind == "state" and fields == {"after": "m:m2:1.1:1", "source": "m1"}


def test_leave_is_recorded_and_a_handler_needs_an_application():
    group = FakeGroup()
    with pytest.raises(RuntimeError):
        group.deliver(Put("a", 1))
    group.leave()
    assert group.left

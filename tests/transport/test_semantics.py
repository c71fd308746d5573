"""Thespian's semantics on our transport, on real processes: exit notices,
dead letters, conventions and placement, a stuck peer, a restarted peer,
order under a burst (and across a dropped connection), and stock
`multiprocTCPBase` talking to ours both ways."""
from __future__ import annotations

import os
import signal
import time

import pytest
from thespian.actors import NoCompatibleSystemForActor

from groupy_actors.transport import TransportStats, TransportStatsRequest

from .actors import (Burst, Count, Counted, Counter, Dead, DeadLetters, Echo, Exit, Exited,
                     Parent, Pid, Placed, SendTo, Spawn)
from .conftest import wait_for, wait_type


def test_a_sigkilled_child_is_reported_to_its_parent(actor_systems):
    asys = actor_systems.start().asys
    parent = asys.createActor(Parent)
    asys.tell(parent, Spawn())
    child = wait_type(asys, Pid)
    os.kill(child.pid, signal.SIGKILL)
    exited = wait_type(asys, Exited)
    assert exited.child is not None


def test_a_send_to_an_actor_that_is_gone_is_a_dead_letter(actor_systems):
    asys = actor_systems.start().asys
    handler = asys.createActor(DeadLetters)
    assert asys.ask(handler, "register", 10) == "registered"
    gone = asys.createActor(Exit)
    assert asys.ask(gone, "exit", 10) == "exiting"
    time.sleep(0.5)                                 # let its process end
    sender = asys.createActor(Echo)
    asys.tell(sender, SendTo(gone, "anyone there"))
    dead = wait_type(asys, Dead)
    assert dead.target == gone and dead.msg == "anyone there"


def test_a_send_to_a_system_that_is_gone_is_a_dead_letter(actor_systems):
    a = actor_systems.start()
    b = actor_systems.start()
    handler = a.asys.createActor(DeadLetters)
    assert a.asys.ask(handler, "register", 10) == "registered"
    remote = b.asys.createActor(Echo)
    sender = a.asys.createActor(Echo)
    a.asys.tell(sender, SendTo(remote, "hello"))
    assert wait_for(a.asys, lambda m: m == "HELLO") == "HELLO"     # a live connection
    actor_systems.stop(b)
    a.asys.tell(sender, SendTo(remote, "still there?"))
    dead = wait_type(a.asys, Dead)          # the reconnect was refused
    assert dead.msg == "still there?"


def _place(asys, cls, node, timeout=30.0):
    """createActor on the system advertising `node`, once it has joined."""
    end = time.monotonic() + timeout
    while True:
        try:
            return asys.createActor(cls, {"node": node})
        except NoCompatibleSystemForActor:
            if time.monotonic() > end:
                raise
            time.sleep(0.2)


def test_convention_join_and_placement_across_three_systems(actor_systems):
    leader = actor_systems.start(capabilities={"node": "A"})
    conv = {"Convention Address.IPv4": ("127.0.0.1", leader.port)}
    members = {node: actor_systems.start(capabilities={"node": node, **conv}) for node in "BC"}
    members["A"] = leader
    for node in "CBA":
        actor = _place(leader.asys, Placed, node)
        answer = leader.asys.ask(actor, "pid", 10)
        assert isinstance(answer, Pid) and answer.node == node
        assert answer.pid in actor_systems.pids(members[node])


def test_a_stopped_peer_does_not_stall_sends_to_a_healthy_one(actor_systems):
    s = actor_systems.start()
    asys = s.asys
    sender = asys.createActor(Echo)
    healthy, stuck = asys.createActor(Counter), asys.createActor(Counter)
    stuck_pid = asys.ask(stuck, "pid", 10)
    assert asys.ask(stuck, Count(asys_address(asys), 3000), 10) == "counting"
    assert asys.ask(healthy, Count(asys_address(asys), 500), 10) == "counting"
    os.kill(stuck_pid.pid, signal.SIGSTOP)
    actor_systems.stopped_pids.append(stuck_pid.pid)
    try:
        asys.tell(sender, Burst(stuck, 3000))       # fills its window and its own queue
        asys.tell(sender, Burst(healthy, 500))
        got = wait_type(asys, Counted, timeout=60)   # stock Thespian: stuck for minutes
        assert sorted(got.seen) == list(range(500))
    finally:
        os.kill(stuck_pid.pid, signal.SIGCONT)
    got = wait_type(asys, Counted, timeout=60)
    assert got.seen[:3000] == list(range(3000))


def asys_address(asys):
    """The external caller's own address, for actors to report to."""
    return asys._systemBase.transport.myAddress


def test_a_peer_system_restarted_on_the_same_port_is_reached_again(actor_systems):
    leader = actor_systems.start(capabilities={"node": "A"})
    conv = {"Convention Address.IPv4": ("127.0.0.1", leader.port)}
    member = actor_systems.start(capabilities={"node": "B", **conv})
    port = member.port
    first = _place(leader.asys, Placed, "B")
    assert leader.asys.ask(first, "hi", 10) == "HI"
    actor_systems.stop(member)
    end = time.monotonic() + 20
    while actor_systems.pids(member) and time.monotonic() < end:
        time.sleep(0.1)
    again = actor_systems.start(port=port, capabilities={"node": "B", **conv})
    second = _place(leader.asys, Placed, "B", timeout=60)
    answer = leader.asys.ask(second, "pid", 10)
    assert isinstance(answer, Pid) and answer.pid in actor_systems.pids(again)


@pytest.mark.parametrize("drop", [False, True], ids=["steady", "connection-dropped"])
def test_order_per_pair_under_a_burst(actor_systems, drop):
    asys = actor_systems.start().asys
    sender, counter = asys.createActor(Echo), asys.createActor(Counter)
    n = 5000
    order = Count(asys_address(asys), n, drop_sender_at=1000 if drop else -1)
    assert asys.ask(counter, order, 10) == "counting"
    asys.tell(sender, Burst(counter, n))
    seen = wait_type(asys, Counted, timeout=120).seen
    first_seen = list(dict.fromkeys(seen))
    assert first_seen == list(range(n))             # in order, none missing
    # A resend after a lost connection may repeat what had arrived unacknowledged:
    # a repeat is always of something already seen.
    high = -1
    for x in seen:
        assert x <= high + 1
        high = max(high, x)
    asys.tell(sender, TransportStatsRequest())
    stats = wait_type(asys, TransportStats)
    if drop:
        assert stats.counters["reconnects"] >= 1, stats.counters


@pytest.mark.parametrize("ours_first", [True, False], ids=["ours-leads", "stock-leads"])
def test_stock_and_ours_interoperate_both_ways(actor_systems, ours_first):
    kinds = ("tcp", "thespian-tcp") if ours_first else ("thespian-tcp", "tcp")
    leader = actor_systems.start(kinds[0], capabilities={"node": "L"})
    member = actor_systems.start(kinds[1], capabilities={
        "node": "M", "Convention Address.IPv4": ("127.0.0.1", leader.port)})
    here = leader.asys.createActor(Echo)
    there = _place(leader.asys, Placed, "M")
    assert leader.asys.ask(there, "pid", 10).pid in actor_systems.pids(member)
    # Each way, actor to actor, one message and a burst in order.
    for a, b, asys in ((here, there, leader.asys), (there, here, leader.asys)):
        asys.tell(a, SendTo(b, "ping"))
        assert wait_for(asys, lambda m: m == "PING") == "PING"
    for sys_, src_sys in ((leader, member), (member, leader)):
        counter = sys_.asys.createActor(Counter)
        src = src_sys.asys.createActor(Echo)
        assert sys_.asys.ask(counter, Count(asys_address(sys_.asys), 300), 10) == "counting"
        sys_.asys.tell(src, Burst(counter, 300))
        seen = wait_type(sys_.asys, Counted, timeout=120).seen
        assert list(dict.fromkeys(seen)) == list(range(300))

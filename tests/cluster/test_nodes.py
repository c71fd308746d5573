"""Nodes on loopback ports, each its own actor system, sharing a secret: a
user application placed anywhere through any node, the convention leader's
machine killed while it leads, nodes that stop cleanly and die with their
command, and bad input refused in one line."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from groupy_actors.cluster import Cluster, ClusterError
from groupy_actors.examples.kvstore import KVStore, Put, put
from groupy_actors.system import free_port, port_in_use

from .machines import RUN_GROUP, Machines, gone, processes_of

COOKIE = "the three nodes' secret"
KV = "groupy_actors.examples.kvstore:KVStore"


@pytest.fixture
def machines(tmp_path):
    m = Machines(tmp_path, cookie=COOKIE)
    try:
        yield m
    finally:
        problems = m.cleanup()
        assert not problems, problems


def connect(machines, name):
    return Cluster.connect(machines.via(name), cookie=COOKIE)


def poll(ask, predicate, timeout, what):
    end = time.monotonic() + timeout
    while True:
        got = ask()
        if predicate(got):
            return got
        assert time.monotonic() < end, (what, got)
        time.sleep(0.1)


def kv(machines, via, *args):
    return subprocess.run([sys.executable, "-m", "groupy_actors.examples.kvstore", "--via",
                           machines.via(via), *machines.cookie_args, *args],
                          capture_output=True, text=True, timeout=60, env=machines.env)


def stores(reply, group="kv"):
    return {r.name: r.status.get("data") for r in reply.rows if r.group == group and r.live}


def test_a_kvstore_on_three_nodes_replicates_through_any_node(machines):
    """The README's multi-machine section, step by step."""
    machines.start("A")
    machines.start("B", "A")
    machines.start("C", "B")            # registered with a node that does not lead
    for node in "ABC":                  # each placed through its own node
        out = machines.run("join", "--via", machines.via(node), "--app", KV, "--group", "kv",
                           "--on", node)
        assert out.returncode == 0, out.stderr
        assert f"placed on {node}: kv.{node}." in out.stdout
    assert kv(machines, "B", "put", "colour", "blue").returncode == 0
    assert kv(machines, "C", "put", "n", "42").returncode == 0
    assert kv(machines, "A", "put", "gone", "soon").returncode == 0
    assert kv(machines, "A", "delete", "gone").returncode == 0
    dump = kv(machines, "A", "dump")
    assert dump.returncode == 0 and "3 replicas, the same store" in dump.stdout, dump
    get = kv(machines, "C", "get", "colour")
    assert get.stdout.count("colour = blue") == 3, get.stdout

    with connect(machines, "C") as c:
        # A replica added later receives the store by state transfer.
        fourth, = c.join("kv", KVStore, on="A", embedded=True)   # app in its group actor
        reply = poll(lambda: c.status("kv"), lambda r: len(set(map(json.dumps,
                     stores(r).values()))) == 1 and len(stores(r)) == 4, 30, "four replicas")
        assert stores(reply)[fourth] == {"colour": "blue", "n": 42}
        assert reply.agree["kv"]
        # This program as a member: it multicasts, and sees the group's order.
        with c.member("kv", name="svc") as me:
            assert "svc" in {r.name for r in c.members("kv")}
            me.mcast(put("svc", 1))
            seen = []
            for msg in me.deliveries(timeout=10):
                seen.append(msg.payload)
                if msg.sender == "svc":
                    break
            assert seen[-1] == Put("svc", 1)
        poll(lambda: c.status("kv"), lambda r: "svc" not in {x.name for x in r.rows}
             and all(d.get("svc") == 1 for d in stores(r).values()), 20, "svc applied, gone")
        with c.member("kv", name="svc") as again:        # a name is free once its member left
            again.mcast(put("svc", 2))
            assert any(m.payload == put("svc", 2) for m in again.deliveries(timeout=10))
        c.leave(fourth)
        poll(lambda: c.status("kv"), lambda r: fourth not in {x.name for x in r.rows}, 20,
             "the fourth left")
        with pytest.raises(ClusterError, match="no node called 'Z'"):
            c.join("kv", KVStore, on="Z")
    stop = machines.run("stop", "--via", machines.via("B"))
    assert stop.returncode == 0 and "stopping 3 node(s): A, B, C" in stop.stdout, stop
    for p in machines.procs.values():
        assert p.wait(30) == 0


def test_losing_the_convention_leaders_machine_loses_nothing(machines):
    """A founds the cluster (Thespian's convention leader, the directory
    group's first leader) and hosts the leader of group g; every process of
    A is SIGKILLed. Status through B and C lists the survivors in one view,
    agreeing, within 5 s; a join through C adds a member; a stop through C
    stops everything."""
    machines.start("A")
    machines.start("B", "A")
    machines.start("C", "A")
    with connect(machines, "B") as b:
        b.join("g", KVStore, on="A")                    # founds g: its leader is on A
        b.join("g", KVStore, on="B", count=2)
        b.join("g", KVStore, on="C", count=2)
        with b.member("g", name="writer") as me:
            for i in range(20):
                me.mcast(put(f"k{i}", i))
            for msg in me.deliveries(timeout=10):
                if msg.payload == put("k19", 19):
                    break
        reply = poll(lambda: b.status("g"), lambda r: r.agree.get("g") and len(
            [x for x in r.rows if x.live]) == 5, 30, "five agree")
        assert [r.node for r in reply.rows if r.role == "leader"] == ["A"]
        survivors = sorted(r.name for r in reply.rows if r.node != "A")

        def settled(r):
            live = [x for x in r.rows if x.live]
            return sorted(x.name for x in live) == survivors and r.agree.get("g") and \
                all(sorted(x.members) == survivors for x in live)

        killed = time.monotonic()
        machines.kill("A")
        reply = poll(lambda: b.status("g"), settled, 30, "survivors in one view")
        took = time.monotonic() - killed
        view = next(x.view_id for x in reply.rows if x.live)
        print(f"\nstatus through B: the 4 survivors in view {view}, agreeing, {took:.2f} s "
              f"after the SIGKILL of node A")
        assert took < 5.0
        assert "A" not in reply.up and {"B", "C"} <= set(reply.up)
    assert gone(machines.ports["A"], 10)
    with connect(machines, "C") as c:
        other = c.status("g")
        assert settled(other) and {x.view_id for x in other.rows if x.live} == \
            {x.view_id for x in reply.rows if x.live}
        out = machines.run("status", "--via", machines.via("C"), "--group", "g")
        assert out.returncode == 0 and "AGREE" in out.stdout and "(down: A)" in out.stdout, out
        new, = c.join("g", KVStore, on="C")              # through C, the leader's machine gone
        reply = poll(lambda: c.status("g"), lambda r: r.agree.get("g") and new in
                     {x.name for x in r.rows if x.live}, 30, "the newcomer agrees")
        assert stores(reply, "g")[new]["k19"] == 19
        assert set(c.stop()) == {"A", "B", "C"}
    for name in "BC":
        assert machines.procs[name].wait(30) == 0


def test_a_node_dies_with_its_command(machines):
    """SIGKILL of the node command alone: its admin and actors go too."""
    port = machines.start("A")
    out = machines.run("join", "--via", machines.via("A"), "--count", "2")
    assert out.returncode == 0, out.stderr
    before = processes_of(port)
    assert len(before) >= 6, before           # command, admin, logger, agent, members...
    killed = time.monotonic()
    os.kill(machines.procs["A"].pid, signal.SIGKILL)
    assert gone(port, 10), processes_of(port)
    print(f"\nall {len(before)} processes of the node gone "
          f"{time.monotonic() - killed:.2f} s after the SIGKILL of its command")


def test_sigterm_stops_a_node_cleanly(machines, tmp_path):
    pid_file = tmp_path / "node.pid"
    port = machines.start("A", None, "--pid-file", str(pid_file))
    proc = machines.procs["A"]
    assert pid_file.read_text().strip() == str(proc.pid)
    assert machines.run("join", "--via", machines.via("A")).returncode == 0
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0
    assert "SIGTERM, stopping" in machines.output("A")
    assert not pid_file.exists()
    assert gone(port, 10), processes_of(port)


def _refused(r, words):
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert words in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "Traceback" not in r.stderr


@pytest.mark.parametrize("args, words", [
    (["--app", "no_such_module:App"], "cannot import 'no_such_module'"),
    (["--app", "groupy_actors.group:Group"], "is not an Application subclass"),
    (["--app", "groupy_actors.colour"], "is not package.module:ClassName"),
    (["--app", KV, "--args", "{nope"], "--args is not JSON"),
])
def test_join_refuses_a_bad_application(machines, args, words):
    _refused(machines.run("join", "--via", "127.0.0.1:1", *args), words)


@pytest.mark.parametrize("args, words", [
    (["--cookie-file", "/no/such/secret"], "cookie file /no/such/secret does not exist"),
    (["--cookie-file", "/"], "is a directory"),
    (["--bind", "0.0.0.0"], "reachable from other machines (it listens on 0.0.0.0) but has "
                            "no secret"),
    (["--convention", "192.0.2.1:1900"], "--convention names another machine"),
])
def test_a_node_refuses_bad_input_and_leaves_nothing(machines, args, words):
    port = free_port()
    r = subprocess.run([sys.executable, RUN_GROUP, "node", "--port", str(port), *args],
                       capture_output=True, text=True, timeout=60, env=machines.env)
    _refused(r, words)
    assert not processes_of(port) and not port_in_use(port)


def test_a_node_name_already_taken_is_refused(machines):
    machines.start("A")
    port = machines.start("A2", "A", "--name", "A", wait=False)
    assert machines.procs["A2"].wait(60) == 2
    out = machines.output("A2")
    assert "a node called 'A' is already in the cluster" in out and "Traceback" not in out, out
    assert gone(port, 10)
    with connect(machines, "A") as c:
        assert c.status().nodes == ("A",)

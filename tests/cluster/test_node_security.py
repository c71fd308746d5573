"""A node started by `run_group.py node` with a secret: an unauthenticated
pickle frame and a frame under a wrong HMAC, sent to every port its
processes listen on, run nothing and are counted; the node keeps working;
every port listens on loopback only."""
from groupy_actors.cluster import Cluster
from groupy_actors.examples.kvstore import KVStore
from tests.transport.procs import listening
from tests.transport.test_security import _stats, attack

from .machines import Machines, processes_of

COOKIE = "a node's secret"


def test_forged_frames_are_refused_on_every_port_of_a_node(tmp_path):
    machines = Machines(tmp_path, cookie=COOKIE)
    try:
        port = machines.start("A")
        with Cluster.connect(machines.via("A"), cookie=COOKIE) as c:
            c.join("kv", KVStore, count=2)
            found = listening(set(processes_of(port)))
            ports = sorted({p for _, p, _ in found})
            # admin, logger, agent, supervisor, the directory's two actors, two members' four
            assert port in ports and len(ports) >= 10, found
            assert {addr for addr, _, _ in found} == {"127.0.0.1"}, found
            before = _stats(c.asys, ports)
            assert not [m for m in attack(ports, tmp_path) if m.exists()]
            after = _stats(c.asys, ports)
            for p in ports:
                assert after[p].authenticated
                assert after[p].refused - before[p].refused >= 2, (p, after[p].counters)
            # Still working: a status, and a new member.
            c.join("kv", KVStore)
            assert len([r for r in c.status("kv").rows if r.live]) == 3
        assert "refused a frame" in (tmp_path / "node-A.log").read_text()
    finally:
        problems = machines.cleanup()
        assert not problems, problems

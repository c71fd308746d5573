"""Three actor systems on loopback ports form a Thespian convention; a group
spans them. SIGKILL of a whole system (admin and every actor), the one with
the group's leader, leads to a new view within a few suspicion timeouts, and
the survivors agree. Also the commands' own behaviour: status, bad input,
and a clean stop of every node."""
import subprocess
import sys
import time

import pytest

from groupy_actors.cluster.client import Convention
from groupy_actors.cluster.messages import Place
from groupy_actors.core import Config, Timing

from .machines import RUN_GROUP, Machines

CONFIG = Config("gms4", Timing.network(0.1, 1.0), quorum=True)


@pytest.fixture
def machines(tmp_path):
    m = Machines(tmp_path)
    try:
        yield m
    finally:
        problems = m.cleanup()
        assert not problems, problems


def wait_status(c, predicate, timeout, settle=False):
    end = time.monotonic() + timeout
    while True:
        reply = c.status("g", settle=settle)
        if predicate(reply):
            return reply
        assert time.monotonic() < end, [(r.name, r.role, r.view_id, r.view_size, r.fate)
                                        for r in reply.rows]
        time.sleep(0.2)


def test_sigkill_of_the_leaders_whole_system_leads_to_a_new_view(machines):
    for name in "ABC":
        machines.start(name)
    c = Convention(machines.convention)
    wait_status(c, lambda r: set(r.nodes) == {"A", "B", "C"}, 20)
    for node, k in (("B", 2), ("A", 1), ("C", 2)):        # the leader on B
        c.place(Place("g", node, k, CONFIG, 0.2))
    reply = wait_status(c, lambda r: len(r.rows) == 5 and all(
        x.view_size == 5 and x.role in ("leader", "slave") for x in r.rows), 30)
    leader = next(r for r in reply.rows if r.role == "leader")
    assert leader.node == "B"
    killed = time.time()
    machines.kill("B")
    survivors = {r.name for r in reply.rows if r.node != "B"}
    reply = wait_status(c, lambda r: all(
        x.view_size == 3 and x.role in ("leader", "slave")
        for x in r.rows if x.name in survivors), 20)
    new_view = max(r.view_at for r in reply.rows if r.name in survivors) - killed
    print(f"new view at every survivor {new_view * 1000:.0f} ms after the SIGKILL")
    assert len({r.view_id for r in reply.rows if r.name in survivors}) == 1
    reply = wait_status(c, lambda r: r.agree.get("g"), 20, settle=True)
    assert all(r.delivered > 0 for r in reply.rows if r.name in survivors)


def test_the_commands_place_report_refuse_and_stop(machines, tmp_path):
    for name in "AB":
        machines.start(name)

    def run(*args):
        return subprocess.run([sys.executable, RUN_GROUP, *args], capture_output=True,
                              text=True, timeout=60)

    conv = machines.convention
    wait_status(Convention(conv), lambda r: set(r.nodes) == {"A", "B"}, 20)
    out = run("join", "--convention", conv, "--on", "B", "--group", "g", "--workers", "2")
    assert out.returncode == 0 and "placed on B: g.B.1, g.B.2" in out.stdout, out
    bad = run("join", "--convention", conv, "--on", "Z", "--group", "g")
    assert bad.returncode == 2 and "no node called 'Z'" in bad.stderr
    assert "Traceback" not in bad.stderr
    nobody = run("status", "--convention", "127.0.0.1:1")
    assert nobody.returncode == 2 and "no node runs on port 1" in nobody.stderr
    deadline = time.monotonic() + 30
    while True:
        st = run("status", "--convention", conv, "--group", "g", "--settle")
        if st.returncode == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert st.returncode == 0 and "AGREE" in st.stdout, st.stdout
    stop = run("stop", "--convention", conv)
    assert stop.returncode == 0 and "stopping 2 node(s)" in stop.stdout
    for p in machines.procs:
        assert p.wait(20) == 0

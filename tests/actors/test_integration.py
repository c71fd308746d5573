"""gms4 end to end on real processes, with every kind of trouble at once:
5% message loss, the leader's process SIGKILLed three times (a worker added
after each), two workers leaving gracefully. The events of the run go
through the same checker as the simulator's, via `run_group.py check`."""
import json
import os
import subprocess
import sys

from groupy_actors.actors.messages import LinkFaults
from groupy_actors.checker import check
from groupy_actors.colour import ColourWorker, colours_agree

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_loss_kills_joins_and_leaves_on_real_processes(make_group, tmp_path):
    g = make_group(system="tcp", faults=LinkFaults(loss=0.05, seed=11), seed=11)
    workers = [g.join(f"w{i}", ColourWorker, args=(0.05,)) for i in range(1, 6)]
    for k in range(3):
        g.run(1.0)
        leader = g.leader()
        g.kill(leader.name)
        assert g.wait(lambda: g.leader() is not None and g.leader().name != leader.name, 10)
        workers.append(g.join(f"w{6 + k}", ColourWorker, args=(0.05,)))
    leavers = [w for w in workers if w.alive and w.info.role == "slave"][:2]
    for w in leavers:
        w.leave()
    assert g.wait(lambda: not any(w.alive for w in leavers), 15)
    assert all(w.info.fate == "left the group" for w in leavers)
    g.run(1.0)
    g.quiet()
    assert g.wait(lambda: check(g.records).ok, 30), "\n".join(check(g.records).lines())

    survivors = [w for w in workers if w.in_view]
    assert len(survivors) == 3           # 5 - 3 killed + 3 added - 2 left
    assert g.wait_reports(lambda: colours_agree(w.status for w in survivors), 10), \
        [(w.name, w.info.role, w.info.view_id, w.status) for w in survivors]
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps(r) + "\n" for r in g.records))
    r = subprocess.run([sys.executable, os.path.join(ROOT, "run_group.py"), "check", str(events)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout
    assert "validity hold" in r.stdout
    crashes = [x for x in g.records if x["kind"] == "crash"]
    assert len(crashes) == 3
    assert sum(m.stats.get("resent", 0) for m in g.members.values()) > 0   # loss was recovered

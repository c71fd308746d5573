"""Metrics: declared once, served on /metrics by a node and by a Group, and
moving when a leader is killed; the package works without the extras."""
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from groupy_actors.core import counters
from groupy_actors.core.gms import Gms
from groupy_actors.observe.probe import Probe, ProbeSettings, stats_of
from groupy_actors.system import free_port

from ..cluster.machines import RUN_GROUP, Machines

pytest.importorskip("opentelemetry.sdk", reason="metrics need the observe extra")
pytest.importorskip("opentelemetry.exporter.prometheus", reason="metrics need the observe extra")

ROOT = Path(__file__).resolve().parents[2]


def scrape(url: str) -> dict[tuple[str, frozenset], float]:
    """Prometheus text -> {(name, labels): value}."""
    out = {}
    with urllib.request.urlopen(url, timeout=5) as r:
        text = r.read().decode()
    for line in text.splitlines():
        m = re.match(r"^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$", line)
        if m:
            labels = frozenset(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
            out[(m.group(1), labels)] = float(m.group(3))
    return out


def total(metrics, name, **want) -> float:
    return sum(v for (n, labels), v in metrics.items()
               if n == name and all((k, w) in labels for k, w in want.items()))


def test_every_stats_key_is_declared_and_listed_in_the_readme():
    declared = {d.key for d in counters.DECLARED}
    core = Gms()
    keys = set(stats_of(core, Probe(ProbeSettings(), lambda _: None), 0.0))
    assert keys <= declared | {"kept_max"}, keys - declared
    assert set(counters.CORE_KEYS) == set(core.snapshot_stats())
    readme = (ROOT / "README.md").read_text()
    missing = [counters.prometheus_name(d) for d in counters.DECLARED
               if counters.prometheus_name(d) not in readme]
    assert not missing, f"README does not list {missing}"
    dashboard = json.loads((ROOT / "docs" / "grafana-dashboard.json").read_text())
    exprs = json.dumps(dashboard)
    assert "groupy_takeover_duration_seconds" in exprs and "groupy_deliveries_total" in exprs


def test_a_group_serves_metrics_and_counts_a_takeover(make_group):
    g = make_group(system="simple", metrics_port=0)
    a, b, c = g.join("a"), g.join("b"), g.join("c")
    for i in range(5):
        a.mcast(i)
    g.run(1.0)
    url = g.observing.metrics.url
    before = scrape(url)
    assert total(before, "groupy_role", member="a", role="leader") == 1
    assert total(before, "groupy_takeovers_finished_total") == 0
    a.kill()
    assert g.wait(lambda: b.info.role == "leader", 10)
    b.mcast("after")
    g.wait_reports(lambda: b.info.stats.get("mcasts", 0) >= 1, 10)
    after = scrape(url)
    assert total(after, "groupy_takeovers_started_total", member="b") == 1
    assert total(after, "groupy_takeovers_finished_total", member="b") == 1
    assert total(after, "groupy_takeover_duration_seconds_count", member="b") == 1
    assert 0 < total(after, "groupy_takeover_duration_seconds_sum", member="b") < 5
    assert total(after, "groupy_member_up", member="a") == 0
    assert total(after, "groupy_multicasts_total", member="a") == 5
    assert total(after, "groupy_view_size", member="c") == 2


@pytest.fixture
def machines(tmp_path):
    m = Machines(tmp_path)
    try:
        yield m
    finally:
        problems = m.cleanup()
        assert not problems, problems


def _get_json(url: str):
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read().decode())


def _until(predicate, timeout: float, what: str):
    end = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < end, what
        time.sleep(0.2)


def test_a_node_serves_its_members_metrics_through_a_leader_kill(machines):
    metrics_port, web_port = free_port(), free_port()
    machines.start("A", None, "--metrics-port", str(metrics_port), "--web", str(web_port))
    url = f"http://127.0.0.1:{metrics_port}/metrics"
    _until(lambda: _reachable(url), 20, "the node serves no /metrics")
    placed = machines.run("join", "--via", machines.via("A"), "--on", "A", "--group", "g",
                          "--count", "3", "--sleep", "0.1", timeout=60)
    assert placed.returncode == 0, placed.stderr

    def three_in_view():
        m = scrape(url)
        return m if total(m, "groupy_view_size", group="g") == 9 and \
            total(m, "groupy_role", role="leader", node="A", group="g") == 1 and \
            total(m, "groupy_node_processes", node="A") >= 8 else None
    # processes: admin, logger, agent, supervisor, tap, the node's directory member and
    # 3 members (a group actor and an application each)
    m = _until(three_in_view, 30, "three members in a view of three, their processes counted")
    assert ("groupy_node_pending_sends", frozenset({("node", "A")})) in m
    assert total(m, "groupy_takeovers_finished_total") == 0
    state = _get_json(f"http://127.0.0.1:{web_port}/state")
    leader = next(r for r in state["members"] if r["role"] == "leader" and r["group"] == "g")
    os.kill(leader["pid"], signal.SIGKILL)

    def took_over():
        m = scrape(url)
        return m if total(m, "groupy_takeovers_finished_total", group="g") >= 1 and \
            total(m, "groupy_takeover_duration_seconds_count", group="g") >= 1 else None
    m = _until(took_over, 30, "no takeover counted after the leader's SIGKILL")
    assert total(m, "groupy_takeovers_started_total", group="g") >= 1
    assert 0 < total(m, "groupy_takeover_duration_seconds_sum", group="g") < 10
    assert total(m, "groupy_role", role="leader", node="A", group="g") == 1
    deliveries = total(m, "groupy_deliveries_total", group="g")
    _until(lambda: total(scrape(url), "groupy_deliveries_total", group="g") > deliveries, 20,
           "deliveries did not go on after the takeover")


def _reachable(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=2).read()
        return True
    except OSError:
        return False


def test_the_package_runs_without_the_extras(tmp_path):
    """With OpenTelemetry, prometheus_client and aiohttp unimportable: the
    package imports, a group runs, and asking for metrics fails in one line."""
    blocker = tmp_path / "sitecustomize.py"
    blocker.write_text(
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('opentelemetry', 'prometheus_client', 'aiohttp'):\n"
        "            raise ModuleNotFoundError(name)\n"
        "sys.meta_path.insert(0, Block())\n")
    script = (
        "from groupy_actors import Group\n"
        "from groupy_actors.observe.metrics import MetricsError\n"
        "with Group.start(system='simple') as g:\n"
        "    a = g.join('a'); a.mcast(1); g.run(0.3)\n"
        "    assert g.observing is None\n"
        "try:\n"
        "    Group.start(system='simple', metrics_port=0)\n"
        "except MetricsError as e:\n"
        "    print('refused:', e)\n")
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}"}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "refused: metrics need OpenTelemetry" in out.stdout
    cli = subprocess.run([sys.executable, RUN_GROUP, "--metrics-port", "9", "--duration", "1"],
                         capture_output=True, text=True, env=env, timeout=60)
    assert cli.returncode == 2 and "pip install 'groupy-actors[observe]'" in cli.stderr, cli

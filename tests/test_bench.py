"""Smoke test of the benchmark suite (bench/): a tiny closed run and its
bare-Thespian limit on simpleSystemBase, through the same code path as
`python -m bench`, and the side-by-side run with PySyncObj (`--peers`).
No timing thresholds: only that figures come out."""
import json
import os
import sys

import pytest

from bench import peers, report, run, suite


def test_a_tiny_closed_run_and_its_limit_give_figures(tmp_path):
    settings = suite.Settings(systems=("simple",), ns=(2,), workloads=("closed", "limit"),
                              messages=40, runs=1, log_file=str(tmp_path / "bench.log"))
    outcomes = suite.measure(settings)

    assert [o.workload for o in outcomes] == ["closed", "limit:closed"]
    for o in outcomes:
        assert len(o.runs) == 1 and o.ok, o.runs
        result = o.runs[0]
        assert {"messages", "seconds", "throughput", "wall_s"} <= set(result)
        assert result["messages"] == 40
        assert result["seconds"] > 0 and result["throughput"] > 0

    row, resends = report.figures(outcomes)
    assert (row["system"], row["n"], row["workload"], row["figure"]) == \
        ("simple", 2, "closed", "throughput")
    assert row["value"] > 0 and row["limit"] > 0 and row["ratio"] > 0
    assert (resends["figure"], resends["unit"]) == ("resends", "per delivery")
    assert resends["value"] >= 0 and "limit" not in resends
    assert "closed" in report.table([row, resends])


def test_the_side_by_side_names_the_peers_best_configuration_and_who_is_ahead():
    rows = [
        {"system": "tcp", "n": 5, "workload": "closed", "figure": "throughput",
         "unit": "msg/s", "value": 300.0, "errors": []},
        {"system": "tcp", "n": 5, "workload": "probe", "figure": "all p50",
         "unit": "ms", "value": 5.0, "errors": []},
    ] + [
        {"system": "pysyncobj", "config": config, "n": 5, "workload": workload,
         "figure": figure, "unit": unit, "value": value, "errors": []}
        for config, workload, figure, unit, value in [
            ("defaults", "closed", "throughput", "msg/s", 25.0),
            ("batch-off", "closed", "throughput", "msg/s", 600.0),
            ("defaults", "probe", "all p50", "ms", 200.0),
            ("short", "probe", "all p50", "ms", 20.0)]
    ]
    closed, probe = report.comparison(rows)

    assert (closed["peer_config"], closed["peer_value"], closed["better"]) == \
        ("batch-off", 600.0, "higher")
    assert closed["ratio"]["tcp"] == 0.5 and closed["ahead"]["tcp"] == "pysyncobj"
    assert (probe["peer_config"], probe["peer_value"], probe["better"]) == \
        ("short", 20.0, "lower")
    assert probe["ratio"]["tcp"] == 0.25 and probe["ahead"]["tcp"] == "ours"
    text = report.comparison_table([closed, probe])
    assert "600 msg/s (batch-off)" in text and "20 ms (short)" in text


def test_asking_for_a_peer_that_is_not_installed_is_a_usage_error(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "pysyncobj", None)     # import fails
    assert run.main(["--peers", "pysyncobj"]) == 2
    assert "pip install -e '.[bench]'" in capsys.readouterr().err


def test_quick_side_by_side_with_pysyncobj(tmp_path, capsys):
    """`--quick --peers pysyncobj` on a tiny size: our figures and PySyncObj's
    come out side by side for every workload, and no replica outlives it."""
    pytest.importorskip("pysyncobj", reason="pysyncobj is not installed "
                        "(it is in the test and bench extras: pip install -e '.[test]')")
    code = run.main(["--quick", "--peers", "pysyncobj", "--n", "3", "--messages", "60",
                     "--probes", "20", "--trials", "1", "--peer-configs", "batch-off,aggressive",
                     "--out", str(tmp_path)])
    out = capsys.readouterr().out

    assert code == 0, out
    assert "side by side with pysyncobj" in out
    [saved] = tmp_path.glob("bench-*.json")
    data = json.loads(saved.read_text())
    compared = {(e["workload"], e["figure"]): e for e in data["comparison"]}
    for key in [("closed", "throughput"), ("window16", "throughput"),
                ("window128", "throughput"), ("probe", "all p50"), ("failover", "median"),
                ("join", "state applied")]:
        entry = compared[key]
        assert entry["peer_value"] > 0 and entry["ours"]["tcp"] > 0, entry
        assert entry["ratio"]["tcp"] > 0 and entry["peer_config"], entry
    assert compared[("failover", "median")]["peer_config"] in ("batch-off", "aggressive")
    resends = [r for r in data["figures"] if r["figure"] == "resends"]
    assert resends and all(r["value"] is not None and r["value"] >= 0 for r in resends)
    assert not peers._live
    assert not [pid for pid in _children() if b"bench.pysyncobj_replica" in _cmdline(pid)]


def _children() -> list[int]:
    me = os.getpid()
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    if int(f.read().rsplit(b")", 1)[1].split()[1]) == me:
                        found.append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    return found


def _cmdline(pid: int) -> bytes:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return b""

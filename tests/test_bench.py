"""Smoke test of the benchmark suite (bench/): a tiny closed run and its
bare-Thespian limit on simpleSystemBase, through the same code path as
`python -m bench`. No timing thresholds: only that figures come out."""
from bench import report, suite


def test_a_tiny_closed_run_and_its_limit_give_figures(tmp_path):
    settings = suite.Settings(systems=("simple",), ns=(2,), workloads=("closed", "limit"),
                              messages=40, runs=1, log_file=str(tmp_path / "bench.log"))
    outcomes = suite.measure(settings)

    assert [o.workload for o in outcomes] == ["closed", "limit:closed"]
    for o in outcomes:
        assert len(o.runs) == 1 and o.ok, o.runs
        run = o.runs[0]
        assert {"messages", "seconds", "throughput", "wall_s"} <= set(run)
        assert run["messages"] == 40
        assert run["seconds"] > 0 and run["throughput"] > 0

    [row] = report.figures(outcomes)
    assert (row["system"], row["n"], row["workload"], row["figure"]) == \
        ("simple", 2, "closed", "throughput")
    assert row["value"] > 0 and row["limit"] > 0 and row["ratio"] > 0
    assert "closed" in report.table([row])

"""Traces of a demo run: one trace per multicast with a span per hop, one
per takeover, parent links as documented (groupy_actors/observe/traces.py)."""
import json
import subprocess
import sys
from collections import Counter

from groupy_actors.observe import traces
from groupy_actors.observe.probe import sampled

from ..cluster.machines import RUN_GROUP


def test_a_demo_run_writes_a_trace_per_multicast_with_a_span_per_hop(tmp_path):
    trace_file, events = tmp_path / "traces.jsonl", tmp_path / "events.jsonl"
    out = subprocess.run([sys.executable, RUN_GROUP, "--workers", "3", "--duration", "4",
                          "--kill-leader-every", "2", "--sleep", "0.2", "--plain",
                          "--trace-file", str(trace_file), "--events", str(events),
                          "--log", str(tmp_path / "run.log")],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    records = [json.loads(line) for line in events.read_text().splitlines()]
    mcasts = {r["id"] for r in records if r["kind"] == "mcast"}
    delivered: dict[str, set[str]] = {}
    for r in records:
        if r["kind"] == "deliver":
            delivered.setdefault(r["item"][2:], set()).add(r["member"])
    all_traces = traces.read(str(trace_file))
    by_root = {}
    for spans in all_traces:
        assert len({s["traceId"] for s in spans}) == 1         # one trace per line
        roots = [s for s in spans if "parentSpanId" not in s]
        assert len(roots) == 1, [s["name"] for s in roots]
        ids = {s["spanId"] for s in spans}
        assert len(ids) == len(spans)
        for s in spans:                                         # every parent is in the trace
            assert s.get("parentSpanId", roots[0]["spanId"]) in ids
            assert int(s["endTimeUnixNano"]) >= int(s["startTimeUnixNano"])
        by_root[roots[0]["name"]] = spans
    mcast_traces = {name[len("mcast "):]: spans for name, spans in by_root.items()
                    if name.startswith("mcast ")}
    assert set(mcast_traces) == mcasts | set(delivered)         # one per multicast
    assert len(mcast_traces) == len([t for t in all_traces if t[0]["name"].startswith("mcast")])
    complete = 0
    for msg_id, spans in mcast_traces.items():
        names = Counter(s["name"].split()[0] for s in spans)
        by_id = {s["spanId"]: s for s in spans}
        parent_name = lambda s: by_id[s["parentSpanId"]]["name"]      # noqa: E731
        for s in spans:
            kind = s["name"].split()[0]
            if kind == "sequence":
                assert parent_name(s).startswith("mcast ")
            elif kind == "deliver":
                assert parent_name(s) == "sequence" or parent_name(s).startswith("mcast ")
            elif kind == "apply":
                assert parent_name(s) == "deliver " + s["name"].split()[1]
        members = {s["name"].split()[1] for s in spans if s["name"].startswith("deliver ")}
        assert members == delivered.get(msg_id, set()), msg_id
        if names["sequence"] == 1 and names["apply"] == names["deliver"] == len(members) >= 3:
            complete += 1
            assert all(parent_name(s) == "sequence" for s in spans
                       if s["name"].startswith("deliver "))
    # Most have every hop (some lose one to the kills: a leader or member
    # killed before it reported).
    assert complete >= 0.8 * len(mcast_traces), (complete, len(mcast_traces))
    takeovers = [spans for name, spans in by_root.items() if name.startswith("takeover ")]
    assert takeovers, list(by_root)[:5]
    finished = [t for t in takeovers
                if any(s["name"].startswith("view ") for s in t)]
    assert finished
    for t in finished:
        by_id = {s["spanId"]: s for s in t}
        kinds = Counter(s["name"].split()[0] for s in t)
        assert kinds["inquiry"] >= 1 and kinds["fill"] >= 1, kinds
        for s in t:
            if s["name"].startswith("promise "):
                assert by_id[s["parentSpanId"]]["name"] == "inquiry " + s["name"].split()[1]


def test_sampling_is_by_message_id():
    ids = [f"w{i % 5}:1.1:{i}" for i in range(4000)]
    share = sum(sampled(i, 0.25) for i in ids) / len(ids)
    assert 0.2 < share < 0.3
    assert all(sampled(i, 1.0) for i in ids) and not any(sampled(i, 0.0) for i in ids)
    assert [sampled(i, 0.5) for i in ids] == [sampled(i, 0.5) for i in ids]


def test_spans_convert_to_the_opentelemetry_sdk():
    import pytest
    pytest.importorskip("opentelemetry.sdk")
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    tracer = traces.Tracer(1.0)
    tracer.exporter = InMemorySpanExporter()
    from groupy_actors.core.effects import Accepted
    from groupy_actors.observe.probe import Sequenced
    tracer.observed("a", 10.0, Accepted("a:1.1:1"))
    tracer.observed("b", 10.1, Sequenced(("a:1.1:1",)))
    exporter = tracer.exporter
    tracer.flush(quiet=-1)
    got = exporter.get_finished_spans()
    assert [s.name for s in got] == ["mcast a:1.1:1", "sequence"]
    assert got[1].parent.span_id == got[0].context.span_id
    assert got[0].context.trace_id == int(traces.trace_id_of("mcast:a:1.1:1"), 16)

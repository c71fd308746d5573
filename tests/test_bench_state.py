"""The `state` workload harness (bench/state.py): a newcomer receives a
group's state of a given size whole. No timing thresholds."""
from bench import state


def test_a_newcomer_restores_the_whole_state(tmp_path):
    run = state.one("simple", 2, 200_000, str(tmp_path / "b.log"), timeout=60)
    assert run["size"] == 200_000 and run["restore_ms"] > 0 and run["in_view_ms"] > 0


def test_sizes_parse():
    assert [state._size(t) for t in ("64K", "1M", "100")] == [65536, 1048576, 100]

"""The pytest plugin's marker and options, in a pytest of their own."""
import os
import subprocess
import sys
import textwrap

TESTS = textwrap.dedent('''
    import pytest

    CALLS = []

    @pytest.mark.groupy_seeds(10)
    def test_counts(groupy_seed, tmp_path_factory):
        with open(SEEN, "a") as f:
            f.write(f"{groupy_seed}\\n")

    @pytest.mark.groupy_seeds(5)
    def test_without_the_fixtures():
        pass

    @pytest.mark.groupy_seeds(5)
    def test_skips(groupy_seed):
        pytest.skip("not today")

    @pytest.mark.groupy_seeds(5, start=7)
    def test_flaky(groupy_seed):
        CALLS.append(groupy_seed)
        assert len(CALLS) != 2, "only the second call fails"

    def test_unmarked(groupy_sim, groupy_seed):
        assert groupy_sim.seed == groupy_seed == EXPECTED
''')


def run_pytest(directory, *args):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "PYTHONPATH")}
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rs",
                           *args], cwd=directory, env=env, capture_output=True, text=True,
                          timeout=120)


def test_marker_fixtures_and_options(tmp_path):
    seen = tmp_path / "seen.txt"
    (tmp_path / "test_p.py").write_text(f"SEEN = {str(seen)!r}\nEXPECTED = 0\n" + TESTS)
    out = run_pytest(tmp_path, "-q").stdout
    assert "2 failed, 2 passed, 1 skipped" in out, out
    assert seen.read_text().split() == [str(s) for s in range(10)]
    assert "needs the groupy_sim or the groupy_seed fixture" in out
    assert "not today" in out
    assert "groupy: failed on seed 8 (after seeds 7..7 passed); WARNING: it passed when run " \
           "once more" in out
    assert "test_p.py::test_flaky failed on seed 8 (did NOT fail again when rerun: not " \
           "deterministic); replay: pytest test_p.py::test_flaky --groupy-seed 8" in out

    seen.unlink()
    (tmp_path / "test_p.py").write_text(f"SEEN = {str(seen)!r}\nEXPECTED = 4\n" + TESTS)
    out = run_pytest(tmp_path, "-q", "--groupy-seed", "4", "-k", "counts or unmarked").stdout
    assert "2 passed" in out and seen.read_text().split() == ["4"], out
    seen.unlink()
    out = run_pytest(tmp_path, "-q", "--groupy-seeds", "3", "-k", "counts").stdout
    assert "1 passed" in out and seen.read_text().split() == ["0", "1", "2"], out

"""The deliberately wrong example (its snapshot forgets the versions): the
kit must find a failing seed by itself, and its replay commands must
reproduce that failure exactly."""
import os
import re
import shlex
import subprocess
import sys
import textwrap

from groupy_actors.examples.forgetful import ForgetfulKVStore
from groupy_actors.examples.kvstore import random_writes
from groupy_actors.testing import Faults, assert_converged, simulate

USER_TEST = textwrap.dedent('''
    import pytest
    from groupy_actors.examples.forgetful import ForgetfulKVStore
    from groupy_actors.examples.kvstore import random_writes
    from groupy_actors.testing import Faults, assert_converged

    def state(store):
        return store.data, store.versions

    @pytest.mark.groupy_seeds(100)
    def test_store_converges(groupy_sim):
        result = groupy_sim(ForgetfulKVStore, members=4, workload=random_writes,
                            faults=Faults(loss=0.1, crashes=1, joins=1))
        assert_converged(result, key=state)
''')


def state(store):
    return store.data, store.versions


def pytest_in(directory, *args, command=None):
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    for name in ("PYTEST_ADDOPTS", "PYTEST_PLUGINS"):
        env.pop(name, None)
    argv = shlex.split(command) if command else [sys.executable, "-m", "pytest", *args]
    return subprocess.run(argv + ["-p", "no:cacheprovider"], cwd=directory, env=env,
                          capture_output=True, text=True, timeout=300)


def failure_of(output):
    """The first line of the AssertionError pytest printed."""
    return re.search(r"^E\s+AssertionError: (.*)$", output, re.M).group(1)


def test_the_plugin_finds_a_failing_seed_and_its_replay_command_reproduces_it(tmp_path):
    (tmp_path / "test_user.py").write_text(USER_TEST)
    run = pytest_in(tmp_path, "-q", "test_user.py")
    out = run.stdout
    assert run.returncode == 1, out + run.stderr
    found = re.search(r"^test_user.py::test_store_converges failed on seed (\d+); replay: (.*)$",
                      out, re.M)
    assert found, out
    seed, command = int(found.group(1)), found.group(2)
    assert command == f"pytest test_user.py::test_store_converges --groupy-seed {seed}"
    assert f"groupy: failed on seed {seed} (" in out and "it failed again when run once more" in out
    first = failure_of(out)
    assert first.startswith("the survivors' states do not converge (")
    assert f"(seed {seed}:" in first

    again = pytest_in(tmp_path, command=command)
    assert again.returncode == 1 and "1 failed" in again.stdout, again.stdout
    assert failure_of(again.stdout) == first
    # The simulate(...) line replays it in Python too, the same way.
    line = re.search(r"^E\s+replay: (simulate\(.*\))$", out, re.M).group(1)
    result = eval(line, {"simulate": simulate, "Faults": Faults,
                         "groupy_actors": __import__("groupy_actors.examples.forgetful")})
    try:
        assert_converged(result, key=state)
    except AssertionError as e:
        assert str(e).splitlines()[0] == first
    else:
        raise AssertionError(f"{line} did not fail")


def test_shrinking_finds_a_smaller_run_that_fails_the_same_way():
    """Over seeds 0-5 (all fail), most shrink to a much smaller run that
    fails the same way; measured: seeds 2-5 do, 0 and 1 find nothing
    smaller in 111 runs (any change of the faults reshuffles the whole
    schedule, and their failure needs it as it is)."""
    def check(result):
        assert_converged(result, key=state)

    faults = Faults(loss=0.1, duplicate=0.1, crashes=2, joins=2, leaves=1)
    shrunk_runs = []
    for seed in range(6):
        result = simulate(ForgetfulKVStore, seed=seed, faults=faults, workload=random_writes,
                          shrink=True, check=check)
        shrunk = result.shrunk
        assert shrunk is not None and shrunk.original == result.config     # it failed
        if shrunk.smaller:
            shrunk_runs.append((seed, result, shrunk))
    assert len(shrunk_runs) >= 4, [seed for seed, _, _ in shrunk_runs]
    for seed, result, shrunk in shrunk_runs:
        small = shrunk.config
        assert small.members <= 5 and small.steps <= 20 and small.faults.joins >= 1
        assert (small.members + small.steps + small.faults.crashes + small.faults.joins
                + small.faults.leaves) < 5 + 20 + 2 + 2 + 1
        assert small.faults.loss <= 0.1 and small.faults.duplicate <= 0.1
        assert shrunk.failure.startswith("the survivors' states do not converge")
        # It fails, as said, and the failure message of the original run shows it.
        try:
            check(small.run())
        except AssertionError as e:
            assert str(e).splitlines()[0] == shrunk.failure.splitlines()[0]
        else:
            raise AssertionError(f"{small.text()} passes")
        try:
            check(result)
        except AssertionError as e:
            assert f"shrunk ({shrunk.runs} runs) to: {small.text()}" in str(e)
    # The same failing run shrinks the same way every time.
    seed, _, shrunk = shrunk_runs[0]
    assert simulate(ForgetfulKVStore, seed=seed, faults=faults, workload=random_writes,
                    shrink=True, check=check).shrunk == shrunk


def test_a_passing_run_is_not_shrunk():
    from groupy_actors.examples.kvstore import KVStore
    r = simulate(KVStore, seed=0, workload=random_writes, shrink=True)
    assert r.ok and r.shrunk is None

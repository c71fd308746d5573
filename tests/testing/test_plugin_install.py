"""The pytest plugin comes with installing the package: a fresh virtual
environment, `pip install <this tree>[test]` (not editable, no conftest,
no PYTHONPATH), then pytest on a file that uses the fixture and marker."""
import importlib.util
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

SAMPLE = textwrap.dedent('''
    import importlib.metadata
    import os
    import sys

    import pytest
    import groupy_actors
    from groupy_actors.examples.kvstore import KVStore, random_writes
    from groupy_actors.examples.forgetful import ForgetfulKVStore
    from groupy_actors.testing import Faults, assert_converged

    def test_installed_not_borrowed(request):
        assert groupy_actors.__file__.startswith(sys.prefix), groupy_actors.__file__
        [ep] = [ep for ep in importlib.metadata.entry_points(group="pytest11")
                if ep.name == "groupy"]
        assert ep.value == "groupy_actors.testing.plugin"
        plugin = request.config.pluginmanager.get_plugin("groupy")
        assert plugin is not None and plugin.__name__ == "groupy_actors.testing.plugin"
        assert not os.path.exists(os.path.join(os.path.dirname(__file__), "conftest.py"))

    @pytest.mark.groupy_seeds(10)
    def test_good(groupy_sim, groupy_seed):
        result = groupy_sim(KVStore, members=4, workload=random_writes,
                            faults=Faults(loss=0.1, crashes=1))
        assert result.seed == groupy_seed
        assert_converged(result, key=lambda s: (s.data, s.versions))

    @pytest.mark.groupy_seeds(50)
    def test_bad(groupy_sim):
        result = groupy_sim(ForgetfulKVStore, members=4, workload=random_writes,
                            faults=Faults(joins=1))
        assert_converged(result, key=lambda s: (s.data, s.versions))
''')


def _copy_source(to):
    """What an sdist holds: the package and its build files (no tests, no .git)."""
    skip = shutil.ignore_patterns("__pycache__", "*.egg-info", "build", "dist", ".*")
    shutil.copytree(os.path.join(ROOT, "groupy_actors"), os.path.join(to, "groupy_actors"),
                    ignore=skip)
    for name in ("setup.cfg", "pyproject.toml", "README.md", "run_group.py"):
        shutil.copy(os.path.join(ROOT, name), to)


def test_the_plugin_is_registered_by_installing_the_package(tmp_path):
    if importlib.util.find_spec("venv") is None or importlib.util.find_spec("ensurepip") is None:
        pytest.skip("this Python cannot make virtual environments (no venv/ensurepip module)")
    venv = tmp_path / "venv"
    # Without pip of its own (ensurepip takes seconds): this pip installs
    # into it with --python, as `venv/bin/pip install` would.
    made = subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)],
                          capture_output=True, text=True, timeout=120)
    if made.returncode != 0:
        pytest.skip(f"cannot create a virtual environment here: {made.stderr.strip()[-300:]}")
    python = str(venv / "bin" / "python")
    source = tmp_path / "src"
    source.mkdir()
    _copy_source(source)
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTEST_ADDOPTS", "PYTEST_PLUGINS", "VIRTUAL_ENV")}
    env["PATH"] = str(venv / "bin") + os.pathsep + env["PATH"]
    pip = [sys.executable, "-m", "pip", "--python", python]
    if "--python" not in subprocess.run(pip[:3] + ["--help"], capture_output=True,
                                        text=True).stdout:      # pip before 22.3
        subprocess.run([python, "-m", "ensurepip", "--default-pip"], check=True, env=env,
                       capture_output=True, timeout=300)
        pip = [python, "-m", "pip"]
    install = subprocess.run(pip + ["install", "--quiet", f"{source}[test]"],
                             capture_output=True, text=True, timeout=300, env=env)
    assert install.returncode == 0, install.stdout + install.stderr

    tests = tmp_path / "user"
    tests.mkdir()
    (tests / "test_sample.py").write_text(SAMPLE)
    run = subprocess.run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "test_sample.py"], cwd=tests, capture_output=True, text=True,
                         timeout=300, env=env)
    out = run.stdout
    assert run.returncode == 1 and "1 failed, 2 passed" in out, out + run.stderr
    assert "groupy seeds" in out and "test_sample.py::test_bad failed on seed" in out, out
    command = next(line.split("; replay: ")[1] for line in out.splitlines()
                   if line.startswith("test_sample.py::test_bad failed on seed"))
    seed = command.rsplit(" ", 1)[1]
    again = subprocess.run(command.split() + ["-p", "no:cacheprovider"], cwd=tests,
                           capture_output=True, text=True, timeout=300, env=env)
    assert again.returncode == 1 and "1 failed" in again.stdout, again.stdout + again.stderr
    assert f"(seed {seed}: gms4, 4 members, Faults(joins=1)" in again.stdout

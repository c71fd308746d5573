"""run_group.py as users run it: exit codes, one-line errors, clean exits."""
import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from groupy_actors import reaper
from groupy_actors.system import free_port, port_in_use

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "run_group.py")


def run(*args, timeout=120):
    return subprocess.run([sys.executable, SCRIPT, *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)


def test_help_explains_the_options_and_commands():
    r = run("--help")
    assert r.returncode == 0
    for word in ("--workers", "--kill-leader-every", "--protocol", "--system", "--events",
                 "--seed", "check", "sim"):
        assert word in r.stdout


@pytest.mark.parametrize("args, what", [
    (["--protocol", "gms9"], "invalid choice: 'gms9'"),
    (["--workers", "-2"], "-2 is not a whole number of at least 1"),
    (["--duration", "soon"], "'soon' is not a number of seconds"),
    (["--loss", "1.5"], "1.5 is not a probability"),
    (["--port", "70000"], "70000 is not a port number"),
])
def test_bad_input_is_one_line_and_exit_2(args, what):
    r = run(*args)
    assert r.returncode == 2
    assert what in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert "Traceback" not in r.stderr


def test_a_port_in_use_is_a_one_line_error(tmp_path):
    with socket.socket() as s:
        s.bind(("", 0))
        s.listen()
        busy = s.getsockname()[1]
        r = run("--port", str(busy), "--log", str(tmp_path / "x.log"))
    assert r.returncode == 2
    assert f"port {busy} is in use" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_a_short_demo_in_one_process_agrees(tmp_path):
    events = tmp_path / "e.jsonl"
    r = run("--system", "simple", "--workers", "3", "--duration", "2", "--kill-leader-every", "0.7",
            "--events", str(events), "--seed", "3", "--log", str(tmp_path / "d.log"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "AGREE" in r.stdout and "checker: OK" in r.stdout
    assert run("check", str(events)).returncode == 0


def test_a_short_demo_on_processes_agrees_and_leaves_nothing_behind(tmp_path):
    port = free_port()
    events = tmp_path / "e.jsonl"
    r = run("--workers", "4", "--duration", "4", "--kill-leader-every", "1.5", "--port", str(port),
            "--events", str(events), "--log", str(tmp_path / "d.log"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "AGREE" in r.stdout
    kinds = [json.loads(line)["kind"] for line in events.read_text().splitlines()]
    assert kinds[0] == "run" and kinds.count("crash") >= 2 and "deliver" in kinds
    assert not port_in_use(port)


def test_ctrl_c_shuts_everything_down(tmp_path):
    port = free_port()
    # Its own session: whatever happens, the whole process group goes at
    # the end (killing the script alone left its actors running). Started
    # with SIGINT ignored, as a non-interactive shell starts a background
    # job (CI may run us so): Ctrl-C must work all the same.
    p = subprocess.Popen([sys.executable, "-u", SCRIPT, "--port", str(port), "--duration", "60",
                          "--log", str(tmp_path / "d.log")], cwd=ROOT,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        first = p.stdout.readline()             # the group is up (a busy machine: seconds)
        assert "leads view 1" in first, first + p.stderr.read()
        time.sleep(1)
        p.send_signal(signal.SIGINT)
        rest, err = p.communicate(timeout=30)
        out = first + rest
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(10)
        # Its session is its process group: what of it outlives the script
        # (after a grace) is killed, and counted.
        left = reaper.reap({p.pid}, grace=2.0)
    assert p.returncode == 130, out + err
    assert "shutting the group down" in out
    assert not left, f"processes left behind: {left}"
    deadline = time.monotonic() + 10
    while port_in_use(port) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not port_in_use(port)


def test_ctrl_c_while_starting_is_a_quiet_exit_130(tmp_path):
    # As from a terminal (SIGINT not ignored): a process started with it
    # ignored cannot see a Ctrl-C before it installs its own handler.
    p = subprocess.Popen([sys.executable, SCRIPT, "--duration", "60",
                          "--log", str(tmp_path / "d.log")], cwd=ROOT,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        time.sleep(0.2)                         # while it imports, or starts the group
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(10)
    assert p.returncode == 130, out + err
    assert "Traceback" not in err


def test_check_reports_a_violation_and_exits_1(tmp_path):
    f = tmp_path / "bad.jsonl"
    lines = [{"member": m, "kind": "view", "item": "v:1", "view": 1, "members": ["a", "b"],
              "restored": False} for m in "ab"]
    lines += [{"member": "a", "kind": "deliver", "item": "m:a:1.1:1"},
              {"member": "a", "kind": "deliver", "item": "m:a:1.1:2"},
              {"member": "b", "kind": "deliver", "item": "m:a:1.1:2"},
              {"member": "b", "kind": "deliver", "item": "m:a:1.1:1"}]
    f.write_text("\n".join(json.dumps(x) for x in lines))
    r = run("check", str(f))
    assert r.returncode == 1 and "VIOLATED: total order" in r.stdout


def test_check_on_a_missing_or_broken_file_is_exit_2(tmp_path):
    assert run("check", str(tmp_path / "nope.jsonl")).returncode == 2
    (tmp_path / "junk").write_text("{not json\n")
    r = run("check", str(tmp_path / "junk"))
    assert r.returncode == 2 and "line 1: not JSON" in r.stderr


def test_the_simulator_command_runs_and_traces_a_seed():
    r = run("sim", "--seeds", "20", "--loss", "0.1", "--crashes", "2", "--joins", "1")
    assert r.returncode == 0 and "20 seed(s)" in r.stdout and "0 failed" in r.stdout
    t = run("sim", "--seed", "4", "--crashes", "1", "--trace")
    assert t.returncode == 0 and "CRASH" in t.stdout and "-> " in t.stdout

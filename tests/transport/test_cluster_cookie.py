"""`run_group.py node|status|stop` with a cookie: nodes that share it form a
convention and listen on loopback; a command without it gets nowhere."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from groupy_actors.system import free_port, port_in_use
from tests.cluster.machines import RUN_GROUP, kill_machine, processes_of

from .procs import listening, system_pids


@pytest.fixture
def nodes(tmp_path: Path):
    started: list[tuple[int, subprocess.Popen]] = []

    def start(name: str, *extra: str, convention: int | None = None) -> int:
        port = free_port()
        args = [sys.executable, RUN_GROUP, "node", "--port", str(port), "--name", name,
                "--log", str(tmp_path / f"{name}.log"), *extra]
        if convention:
            args += ["--convention", f"127.0.0.1:{convention}"]
        out = open(tmp_path / f"{name}.out", "w")
        started.append((port, subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT,
                                               start_new_session=True)))
        end = time.monotonic() + 20
        while not port_in_use(port):
            assert time.monotonic() < end, (tmp_path / f"{name}.out").read_text()
            time.sleep(0.1)
        return port

    try:
        yield start
    finally:
        for port, proc in started:
            kill_machine(port)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        end = time.monotonic() + 10
        for port, _ in started:
            while (processes_of(port) or port_in_use(port)) and time.monotonic() < end:
                time.sleep(0.1)
            assert not processes_of(port) and not port_in_use(port), f"node on {port} left"


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, RUN_GROUP, *args], capture_output=True, text=True,
                          timeout=90, env={**os.environ, **(env or {})})


def test_nodes_with_a_cookie_file(nodes, tmp_path):
    cookie = tmp_path / "cookie"
    cookie.write_text("our shared secret\n")
    cookie.chmod(0o600)
    a = nodes("A", "--cookie-file", str(cookie))
    nodes("B", "--cookie-file", str(cookie), convention=a)
    conv = f"127.0.0.1:{a}"
    deadline = time.monotonic() + 30
    while True:
        st = run("status", "--convention", conv, "--cookie-file", str(cookie))
        if "nodes: A, B" in st.stdout or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert "nodes: A, B" in st.stdout and "Traceback" not in st.stderr, st
    # The environment variable serves as well as the file.
    st = run("status", "--convention", conv, env={"GROUPY_COOKIE": "our shared secret"})
    assert "nodes: A, B" in st.stdout, st
    assert {addr for addr, _, _ in listening(system_pids(a))} == {"127.0.0.1"}
    bad = run("status", "--convention", conv, "--cookie-file", str(tmp_path / "nope"))
    assert bad.returncode == 2 and "does not exist" in bad.stderr
    stop = run("stop", "--convention", conv, "--cookie-file", str(cookie))
    assert stop.returncode == 0 and "stopping 2 node(s)" in stop.stdout, stop


def test_a_command_without_the_cookie_is_refused(nodes, tmp_path):
    a = nodes("A", "--cookie-file", str(_cookie(tmp_path)))
    st = run("status", "--convention", f"127.0.0.1:{a}", env={"GROUPY_COOKIE": "wrong"})
    assert st.returncode == 2 and "nodes:" not in st.stdout and "cookie" in st.stderr, st
    log = (tmp_path / "A.log").read_text()
    assert "refused a frame" in log


def _cookie(tmp_path: Path) -> Path:
    path = tmp_path / "cookie"
    path.write_text("right")
    path.chmod(0o600)
    return path

"""Simulated machines on one host: each a `run_group.py node` process with
its admin (which daemonizes into a session of its own) and its actors, all
recognisable by the node's command line."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

from groupy_actors.system import free_port, port_in_use

RUN_GROUP = str(Path(__file__).resolve().parents[2] / "run_group.py")


def processes_of(port: int) -> list[int]:
    """Every live process of the node on `port` (forked actors keep its argv)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(") ", 1)[1][:1]
        except (OSError, IndexError):
            continue
        if state != "Z" and b"node" in argv and b"--port" in argv and \
                str(port).encode() in argv and any(a.endswith(b"run_group.py") for a in argv):
            pids.append(int(entry.name))
    return pids


def kill_machine(port: int) -> None:
    """SIGKILL the whole node: its process, its admin and every actor."""
    for pid in processes_of(port):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def gone(port: int, timeout: float) -> bool:
    """Wait until no process of the node on `port` is left and its port is free."""
    end = time.monotonic() + timeout
    while processes_of(port) or port_in_use(port):
        if time.monotonic() > end:
            return False
        time.sleep(0.1)
    return True


class Machines:
    """Nodes started with `start`; `cleanup` kills whatever is left of them.
    With a `cookie`, every node and command gets it in a file."""

    def __init__(self, tmp: Path, cookie: Optional[str] = None) -> None:
        self.tmp = tmp
        self.ports: dict[str, int] = {}
        self.procs: dict[str, subprocess.Popen] = {}
        self.cookie_args: list[str] = []
        if cookie is not None:
            path = tmp / "cookie"
            path.write_text(cookie + "\n")
            path.chmod(0o600)
            self.cookie_args = ["--cookie-file", str(path)]
        # The commands' environment: no secret of the caller's leaks in.
        self.env = {k: v for k, v in os.environ.items() if k != "GROUPY_COOKIE"}

    def via(self, name: str) -> str:
        return f"127.0.0.1:{self.ports[name]}"

    def start(self, name: str, convention: Optional[str] = None, *extra: str,
              wait: bool = True) -> int:
        """Start node `name`, registering with node `convention` (none: it
        founds the cluster); with `wait`, until it says it is ready."""
        port = free_port()
        args = [sys.executable, RUN_GROUP, "node", "--port", str(port), "--name", name,
                "--log", str(self.tmp / f"node-{name}.log"), *self.cookie_args, *extra]
        if convention:
            args += ["--convention", self.via(convention)]
        out = open(self.tmp / f"node-{name}.out", "w")
        self.procs[name] = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT,
                                            start_new_session=True, env=self.env)
        self.ports[name] = port
        if wait:
            self.wait_ready(name)
        return port

    def output(self, name: str) -> str:
        return (self.tmp / f"node-{name}.out").read_text()

    def wait_ready(self, name: str, timeout: float = 60) -> None:
        end = time.monotonic() + timeout
        while "actor system at" not in self.output(name):
            assert self.procs[name].poll() is None, f"node {name} exited: {self.output(name)}"
            assert time.monotonic() < end, f"node {name} did not start: {self.output(name)}"
            time.sleep(0.1)

    def run(self, *args: str, timeout: float = 90) -> subprocess.CompletedProcess:
        """A `run_group.py` command (with the cookie, if the machines have one)."""
        args = [*args]
        if self.cookie_args and args[0] in ("join", "leave", "status", "stop"):
            args[1:1] = self.cookie_args
        return subprocess.run([sys.executable, RUN_GROUP, *args], capture_output=True,
                              text=True, timeout=timeout, env=self.env)

    def kill(self, name: str) -> None:
        kill_machine(self.ports[name])

    def cleanup(self) -> list[str]:
        problems = []
        for port in self.ports.values():
            kill_machine(port)
        for name, p in self.procs.items():
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                problems.append(f"node process {p.pid} ({name}) did not exit")
        for name, port in self.ports.items():
            if not gone(port, 10):
                problems.append(f"node {name} (port {port}) left processes or its port busy")
        return problems

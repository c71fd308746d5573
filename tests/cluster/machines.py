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

from groupy_actors.system import free_port, port_in_use

RUN_GROUP = str(Path(__file__).resolve().parents[2] / "run_group.py")


def processes_of(port: int) -> list[int]:
    """Every process of the node on `port` (forked actors keep its argv)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"node" in argv and b"--port" in argv and str(port).encode() in argv \
                and any(a.endswith(b"run_group.py") for a in argv):
            pids.append(int(entry.name))
    return pids


def kill_machine(port: int) -> None:
    """SIGKILL the whole node: its process, its admin and every actor."""
    for pid in processes_of(port):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


class Machines:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.ports: dict[str, int] = {}
        self.procs: list[subprocess.Popen] = []

    @property
    def convention(self) -> str:
        return f"127.0.0.1:{next(iter(self.ports.values()))}"

    def start(self, name: str, extra: tuple[str, ...] = ()) -> int:
        port = free_port()
        args = [sys.executable, RUN_GROUP, "node", "--port", str(port), "--name", name,
                "--log", str(self.tmp / f"node-{name}.log"), *extra]
        if self.ports:
            args += ["--convention", self.convention]
        out = open(self.tmp / f"node-{name}.out", "w")
        self.procs.append(subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT,
                                           start_new_session=True))
        self.ports[name] = port
        end = time.monotonic() + 20
        while not port_in_use(port):
            assert time.monotonic() < end, f"node {name} did not start"
            time.sleep(0.1)
        return port

    def kill(self, name: str) -> None:
        kill_machine(self.ports[name])

    def cleanup(self) -> list[str]:
        problems = []
        for port in self.ports.values():
            kill_machine(port)
        for p in self.procs:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                problems.append(f"node process {p.pid} did not exit")
        end = time.monotonic() + 10
        for name, port in self.ports.items():
            while (processes_of(port) or port_in_use(port)) and time.monotonic() < end:
                time.sleep(0.1)
            if processes_of(port) or port_in_use(port):
                problems.append(f"node {name} (port {port}) left processes or its port busy")
        return problems

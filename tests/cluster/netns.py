"""Machines in network namespaces, for a real partition: each host a
namespace of its own with one address on a shared bridge (itself in a
namespace, so the host's network is never touched), a `run_group.py node`
in each, and blackhole routes to cut the hosts into sides and heal them.

Run as a script (`netns.py status ...`) it is the status client: the
Convention client attaches to a node's admin on this machine, so the test
runs it inside the convention leader's namespace and reads its JSON.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, Iterable, Optional

HERE = Path(__file__).resolve()
RUN_GROUP = str(HERE.parents[2] / "run_group.py")
SUBNET = "10.210.0"         # private to this run's bridge: no clash with other runs
PREFIX = "gy-"              # every namespace this module creates starts so


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=20)
    if check and done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")
    return done


def namespaces() -> set[str]:
    out = _ip("netns", "list", check=False).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


def refusal() -> Optional[str]:
    """Why this machine cannot run the namespaces (None: it can). Tries what
    the test needs: a namespace, a veth pair into it, a bridge."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "no `ip` command (iproute2)"
    probe = f"{PREFIX}probe-{uuid.uuid4().hex[:6]}"
    try:
        steps = [("netns", "add", probe),
                 ("link", "add", "p0", "netns", probe, "type", "veth", "peer", "name", "p1",
                  "netns", probe),
                 ("-n", probe, "link", "add", "pbr", "type", "bridge")]
        for step in steps:
            try:
                done = _ip(*step, check=False)
            except (OSError, subprocess.TimeoutExpired) as e:
                return f"`ip {' '.join(step)}` failed: {e}"
            if done.returncode != 0:
                return f"the sandbox refuses `ip {' '.join(step)}`: {done.stderr.strip()}"
        return None
    finally:
        if probe in namespaces():
            _ip("netns", "del", probe, check=False)


class Network:
    """Hosts, each a namespace `gy-<run>-<host>` with address SUBNET.<k>/24
    on a veth whose other end is in a bridge in namespace `gy-<run>-br`."""

    def __init__(self, run: str, hosts: Iterable[str]) -> None:
        self.run = run
        self.hosts = list(hosts)
        self.ns = {h: f"{PREFIX}{run}-{h}" for h in self.hosts}
        self.address = {h: f"{SUBNET}.{k}" for k, h in enumerate(self.hosts, 1)}
        self.bridge_ns = f"{PREFIX}{run}-br"
        self.created: list[str] = []
        self.cuts: list[tuple[str, str]] = []       # (host, blackholed address)

    def create(self) -> None:
        _ip("netns", "add", self.bridge_ns)
        self.created.append(self.bridge_ns)
        _ip("-n", self.bridge_ns, "link", "add", "br0", "type", "bridge")
        _ip("-n", self.bridge_ns, "link", "set", "br0", "up")
        for k, h in enumerate(self.hosts, 1):
            ns = self.ns[h]
            _ip("netns", "add", ns)
            self.created.append(ns)
            # Both ends are made inside their namespaces: no name in the
            # root namespace, so parallel runs cannot clash.
            _ip("link", "add", "eth0", "netns", ns, "type", "veth", "peer", "name", f"p{k}",
                "netns", self.bridge_ns)
            _ip("-n", self.bridge_ns, "link", "set", f"p{k}", "master", "br0")
            _ip("-n", self.bridge_ns, "link", "set", f"p{k}", "up")
            _ip("-n", ns, "link", "set", "lo", "up")
            _ip("-n", ns, "addr", "add", f"{self.address[h]}/24", "dev", "eth0")
            _ip("-n", ns, "link", "set", "eth0", "up")

    def exec(self, host: str) -> list[str]:
        """The command prefix that runs a command on `host`."""
        return ["ip", "netns", "exec", self.ns[host]]

    def cut(self, side: Iterable[str], other: Iterable[str]) -> None:
        """No packet between the two sides, either way: each host routes the
        other side's addresses into a blackhole (its sends there fail; the
        hosts outside both sides still reach everybody)."""
        side, other = list(side), list(other)
        for a, b in [(h, o) for h in side for o in other] + [(o, h) for h in side for o in other]:
            _ip("-n", self.ns[a], "route", "add", "blackhole", f"{self.address[b]}/32")
            self.cuts.append((a, self.address[b]))

    def heal(self) -> None:
        while self.cuts:
            a, addr = self.cuts.pop()
            _ip("-n", self.ns[a], "route", "del", "blackhole", f"{addr}/32")

    def destroy(self) -> list[str]:
        """Delete every namespace made (their veths and the bridge go with
        them); what could not be deleted, as problems."""
        problems = []
        for ns in reversed(self.created):
            done = _ip("netns", "del", ns, check=False)
            if done.returncode != 0:
                problems.append(f"ip netns del {ns}: {done.stderr.strip()}")
        left = sorted(namespaces() & set(self.created))
        if left:
            problems.append(f"namespaces left: {left}")
        return problems


def processes_with(token: str) -> list[int]:
    """Every process whose command line mentions `token`: a node, its admin
    and its actors (forks keep the node's argv), in whatever namespace."""
    mark = token.encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(mark in a for a in argv):
            pids.append(int(entry.name))
    return pids


class Nodes:
    """One `run_group.py node` per host of `net`; the first started is the
    convention leader (and keeps the directory). Every file and command line
    carries the run's token, which is how cleanup() finds what to kill."""

    def __init__(self, net: Network, tmp: Path, env: Optional[dict[str, str]] = None) -> None:
        self.net = net
        self.tmp = tmp
        # For the node processes and commands, on top of ours: nodes reachable
        # from other machines need a secret.
        self.env = {"GROUPY_COOKIE": f"netns-{net.run}", **(env or {})}
        self.token = f"groupy-netns-{net.run}"
        self.ports: dict[str, int] = {}
        self.procs: list[subprocess.Popen] = []
        self.leader: Optional[str] = None

    def log(self, host: str) -> Path:
        return self.tmp / f"{self.token}-{host}.log"

    def start(self, host: str, port: int, timeout: float = 20.0) -> None:
        args = [*self.net.exec(host), sys.executable, RUN_GROUP, "node", "--port", str(port),
                "--name", host, "--log", str(self.log(host))]
        if self.leader is None:
            self.leader = host
        else:
            args += ["--convention", f"{self.net.address[self.leader]}:{self.ports[self.leader]}"]
        # Thespian advertises the address it would use towards 8.8.8.8 (or,
        # on a member, towards the convention leader): with no default route
        # the leader would advertise 127.0.0.1, useless to the others.
        env = dict(os.environ, **self.env, THESPIAN_BASE_IPADDR=self.net.address[host])
        out_path = self.tmp / f"{self.token}-{host}.out"
        with open(out_path, "w") as out:
            self.procs.append(subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT,
                                               env=env, start_new_session=True))
        self.ports[host] = port
        end = time.monotonic() + timeout
        while "actor system at" not in out_path.read_text():
            if self.procs[-1].poll() is not None or time.monotonic() > end:
                raise AssertionError(f"node {host} did not start: {out_path.read_text()}")
            time.sleep(0.1)

    def join(self, host: str, group: str, workers: int = 1, sleep: float = 0.5,
             quorum: bool = True) -> str:
        """`run_group.py join` (heartbeat 0.1 s, suspicion after 1 s) from the
        convention leader's namespace: `workers` colour workers on `host`."""
        args = [*self.net.exec(self.leader), sys.executable, RUN_GROUP, "join",
                "--via", f"127.0.0.1:{self.ports[self.leader]}", "--on", host,
                "--group", group, "--count", str(workers), "--sleep", str(sleep)]
        done = subprocess.run(args + ([] if quorum else ["--no-quorum"]), capture_output=True,
                              text=True, timeout=60, env=dict(os.environ, **self.env))
        if done.returncode != 0:
            raise AssertionError(f"join on {host} failed: {done.stderr.strip()}")
        return done.stdout

    def status(self, group: str, settle: bool = False, timeout: float = 30.0) -> dict[str, Any]:
        """The directory's StatusReply as a dict (rows as dicts), asked from
        inside the convention leader's namespace."""
        args = [*self.net.exec(self.leader), sys.executable, str(HERE), "status",
                "--port", str(self.ports[self.leader]), "--group", group]
        done = subprocess.run(args + (["--settle"] if settle else []), capture_output=True,
                              text=True, timeout=timeout, env=dict(os.environ, **self.env))
        if done.returncode != 0:
            raise AssertionError(f"status failed: {done.stderr.strip()}")
        return json.loads(done.stdout)

    def cleanup(self) -> list[str]:
        """SIGKILL every process of the run; wait until none is left."""
        problems = []
        end = time.monotonic() + 10
        while True:
            pids = processes_with(self.token)
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            for p in self.procs:        # our own children: reap them
                try:
                    p.wait(0.2 if pids else 0)
                except subprocess.TimeoutExpired:
                    pass
            if not pids or time.monotonic() > end:
                break
            time.sleep(0.1)
        left = [pid for pid in processes_with(self.token) if not _zombie(pid)]
        if left:
            problems.append(f"processes left: {left}")
        return problems


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1][:1] == "Z"
    except (OSError, IndexError):
        return True


def _status_main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="netns.py status")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--group", required=True)
    p.add_argument("--settle", action="store_true")
    args = p.parse_args(argv)
    from groupy_actors.cluster import Cluster, ClusterError
    try:
        with Cluster.connect(f"127.0.0.1:{args.port}") as c:
            reply = c.status(args.group, args.settle)
    except ClusterError as e:
        print(e, file=sys.stderr)
        return 2
    rows = []
    for r in reply.rows:
        row = dataclasses.asdict(r)
        # The names this test reads, from what each member answered.
        row.update(view_size=len(r.members), delivered=r.seq, silent=0 if r.answered else 99,
                   colour=r.status.get("colour"), digest=r.status.get("digest"))
        rows.append(row)
    json.dump({"nodes": list(reply.nodes), "agree": reply.agree, "rows": rows}, sys.stdout,
              default=str)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parents[2]))     # the package, installed or not
    if sys.argv[1:2] != ["status"]:
        sys.exit("usage: netns.py status --port PORT --group GROUP [--settle]")
    sys.exit(_status_main(sys.argv[2:]))

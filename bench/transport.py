"""`python -m bench.transport`: the raw transport, stock vs ours.

Two actors on one actor system, each its own process:
- streaming 1->1: one actor sends N small messages to another (all from one
  handler; both transports then apply their own backpressure) and the
  receiver reports when the last arrived: messages per second;
- ping-pong: one actor sends a message, the other answers, K times in a
  row; the median round trip, timed inside the first actor.

Each configuration runs in a fresh process of its own (`--one`), `--runs`
times; the table shows min / median over runs. Configurations:
thespian-tcp (stock multiprocTCPBase), tcp (ours, no secret), tcp+cookie
(ours, every frame authenticated).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from typing import Any, Optional

from thespian.actors import Actor

CONFIGS = ("thespian-tcp", "tcp", "tcp+cookie")
PAYLOAD = b"x" * 64


@dataclass(frozen=True)
class Stream:
    target: Any
    count: int


@dataclass(frozen=True)
class Expect:
    count: int
    report_to: Any


@dataclass(frozen=True)
class Done:
    seconds: float


@dataclass(frozen=True)
class PingPong:
    target: Any
    count: int


@dataclass(frozen=True)
class RoundTrips:
    median_us: float


class Receiver(Actor):
    def __init__(self) -> None:
        super().__init__()
        self.expect, self.got, self.report_to, self.first = 0, 0, None, 0.0

    def receiveMessage(self, msg: Any, sender: Any) -> None:
        if isinstance(msg, Expect):
            self.expect, self.got, self.report_to = msg.count, 0, msg.report_to
            self.send(sender, "ready")
        elif isinstance(msg, tuple):
            if self.got == 0:
                self.first = time.perf_counter()
            self.got += 1
            if self.got == self.expect:
                self.send(self.report_to, Done(time.perf_counter() - self.first))
        elif isinstance(msg, str) and msg == "ping":
            self.send(sender, "pong")


class Sender(Actor):
    def __init__(self) -> None:
        super().__init__()
        self.left, self.target, self.report_to, self.times, self.t0 = 0, None, None, [], 0.0

    def receiveMessage(self, msg: Any, sender: Any) -> None:
        if isinstance(msg, Stream):
            for i in range(msg.count):
                self.send(msg.target, (i, PAYLOAD))
        elif isinstance(msg, PingPong):
            self.left, self.target, self.report_to, self.times = msg.count, msg.target, sender, []
            self.t0 = time.perf_counter()
            self.send(self.target, "ping")
        elif isinstance(msg, str) and msg == "pong":
            now = time.perf_counter()
            self.times.append(now - self.t0)
            self.left -= 1
            if self.left:
                self.t0 = time.perf_counter()
                self.send(self.target, "ping")
            else:
                self.send(self.report_to, RoundTrips(statistics.median(self.times) * 1e6))


def _wait(asys: Any, kind: type, timeout: float) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        msg = asys.listen(max(0.01, end - time.monotonic()))
        if isinstance(msg, kind):
            return msg
    raise TimeoutError(f"no {kind.__name__} within {timeout:g}s")


def measure(config: str, count: int, trips: int) -> dict[str, float]:
    """One run of both measurements on a fresh system of `config`."""
    from groupy_actors import system as systems
    import bench.transport as me     # actors by their importable name, not __main__
    kind = "thespian-tcp" if config == "thespian-tcp" else "tcp"
    cookie = b"bench-secret" if config.endswith("+cookie") else None
    log = tempfile.mkstemp(prefix="groupy-bench-transport-", suffix=".log")[1]
    sys_ = systems.start(kind, log_file=log, cookie=cookie, level=30)
    try:
        asys = sys_.asys
        sender, receiver = asys.createActor(me.Sender), asys.createActor(me.Receiver)
        # The caller collects the report: the receiver answers "ready" once
        # it knows where to send Done.
        asys.tell(receiver, me.Expect(count, _me_address(asys)))
        _wait(asys, str, 30)
        start = time.perf_counter()
        asys.tell(sender, me.Stream(receiver, count))
        done = _wait(asys, me.Done, 600)
        elapsed = time.perf_counter() - start
        asys.tell(sender, me.PingPong(receiver, trips))
        rt = _wait(asys, me.RoundTrips, 600)
        return {"stream_msgs_per_s": count / elapsed, "receiver_msgs_per_s": count / done.seconds,
                "round_trip_us": rt.median_us}
    finally:
        sys_.shutdown()
        os.unlink(log)


def _me_address(asys: Any) -> Any:
    """The external caller's own address (where a Done must go)."""
    return asys._systemBase.transport.myAddress


def run_one(config: str, count: int, trips: int) -> int:
    print(json.dumps(measure(config, count, trips)))
    return 0


def main(argv: Optional[list[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.transport", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--count", type=int, default=20000, help="messages streamed (ours)")
    p.add_argument("--stock-count", type=int, default=2000,
                   help="messages streamed on stock Thespian (slow)")
    p.add_argument("--trips", type=int, default=2000, help="ping-pong round trips")
    p.add_argument("--configs", default=",".join(CONFIGS))
    p.add_argument("--one", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.one:
        return run_one(args.one, args.count, args.trips)
    results: dict[str, list[dict[str, float]]] = {}
    for config in args.configs.split(","):
        count = args.stock_count if config == "thespian-tcp" else args.count
        trips = min(args.trips, 500) if config == "thespian-tcp" else args.trips
        for _ in range(args.runs):
            out = subprocess.run([sys.executable, "-m", "bench.transport", "--one", config,
                                  "--count", str(count), "--trips", str(trips)],
                                 capture_output=True, text=True, timeout=900)
            if out.returncode != 0:
                print(out.stdout, out.stderr, file=sys.stderr)
                return 1
            results.setdefault(config, []).append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"{'config':<14} {'stream msg/s (min/median)':>28} {'round trip us (min/median)':>28}")
    for config, runs in results.items():
        s = [r["stream_msgs_per_s"] for r in runs]
        t = [r["round_trip_us"] for r in runs]
        print(f"{config:<14} {min(s):>13,.0f} / {statistics.median(s):>10,.0f}"
              f" {min(t):>13,.0f} / {statistics.median(t):>10,.0f}")
    if "tcp" in results and "tcp+cookie" in results:
        plain = statistics.median(r["stream_msgs_per_s"] for r in results["tcp"])
        auth = statistics.median(r["stream_msgs_per_s"] for r in results["tcp+cookie"])
        print(f"authentication cost on streaming: {100 * (1 - auth / plain):+.1f} %")
    return 0


if __name__ == "__main__":
    sys.exit(main())

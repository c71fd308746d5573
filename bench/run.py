"""The benchmark command line: `python -m bench` or `python bench/run.py`."""
from __future__ import annotations

import argparse
import datetime
import logging
import os
import platform
import signal
import subprocess
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any, Optional

if __package__ in (None, ""):
    # Run as a file: make the repository importable instead of bench/ itself,
    # so `bench.apps` has the module path actor processes will look up.
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench import peers, report, suite, teardown  # noqa: E402

log = logging.getLogger("bench")

DEFAULT_OUT = Path(__file__).resolve().parent / "results"

DESCRIPTION = """\
Benchmarks of groupy-actors (gms4) against the plain-Thespian ceiling.

Workloads (M messages, N members, each figure the median of the runs):
  closed    each member multicasts M/N messages, sending its next when its
            previous was delivered to itself; throughput = M / (first
            multicast .. last delivery at any member)
  window    the same with W = 16 and W = 128 of its own messages outstanding
  probe     one non-leader sends messages one at a time, the next when the
            previous was delivered at all N (the members acknowledge to this
            script, outside the protocol); latency at the sender and at the
            last member, median and p99
  failover  on a fresh group with probe traffic running, the leader's process
            is SIGKILLed and a new probe sent at once; time from the kill to
            that probe's delivery at every survivor; median and max of the
            trials
  join      a newcomer joins a group of N under closed-loop load; time from
            the request until its application restored the state it was sent
  limit     the same patterns on plain Thespian actors without the protocol
            (one hop to a sequencer actor, a fan-out to N-1), measured in the
            same run: every closed/window/probe figure is also given as a
            ratio of this ceiling
Closed and window runs also give resends per delivered message (entries
resent plus multicasts retried, over M x N deliveries). A probe run stops
after 60 s (10 s with --quick) once 20 probes are counted.

--peers pysyncobj runs the same workloads on PySyncObj (Raft, one process per
replica on loopback TCP) in the same sitting, interleaved with ours, in each
configuration of --peer-configs: defaults, batch-off (appendEntriesUseBatch
off), short (timers 0.005/0.01/0.05-0.1 s), aggressive (0.002/0.004/
0.015-0.03 s, failover only), short+batch-off (not by default). Window runs
also try the leader alone with 1024 outstanding. The report sets each of our
figures beside PySyncObj's best, naming its configuration, with the ratio
ours / peer (bench/peers.py has the definitions). Needs the bench extra.

Full size: M = 20000, 2000 probes, 20 failover trials, 3 runs, N = 2,5,10 on
simple and tcp (with --peers: tcp). --quick: M = 300, 50 probes, 2 trials,
1 run, N = 2,5 (under a minute; with --peers, without PySyncObj's defaults,
about two). Results go to OUT/bench-<time>.json and .png (the plot needs
matplotlib: pip install -e '.[bench]'), logs to OUT/bench.log.
"""

EPILOG = """\
exit status: 0 when every run finished, 1 when some failed or timed out
(they are in the table), 2 for bad input, 130 after Ctrl-C (every actor
system started is stopped; partial results are saved)."""


class UsageError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:    # one line, no usage dump
        raise UsageError(message)


def _choices(allowed: tuple[str, ...], what: str) -> Any:
    def parse(text: str) -> tuple[str, ...]:
        picked = tuple(dict.fromkeys(x.strip() for x in text.split(",") if x.strip()))
        if picked == ("all",):
            return allowed
        wrong = [x for x in picked if x not in allowed]
        if wrong or not picked:
            raise argparse.ArgumentTypeError(
                f"unknown {what} {', '.join(wrong) or repr(text)}; choose from "
                f"{', '.join(allowed)} (comma-separated) or all")
        return picked
    return parse


def _sizes(text: str) -> tuple[int, ...]:
    try:
        ns = tuple(sorted({int(x) for x in text.split(",") if x.strip()}))
    except ValueError:
        raise argparse.ArgumentTypeError(f"group sizes must be whole numbers, not {text!r}")
    if not ns or any(not 2 <= n <= 20 for n in ns):
        raise argparse.ArgumentTypeError(f"group sizes must be between 2 and 20, not {text!r}")
    return ns


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number above 0, not {text!r}")
    return value


def build_parser() -> Parser:
    p = Parser(prog="python -m bench", description=DESCRIPTION, epilog=EPILOG,
               formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="small sizes, N=2,5, one run each, simple and tcp (under a minute; "
                        "with --peers about two)")
    p.add_argument("--systems", type=_choices(suite.SYSTEMS, "system"), metavar="LIST",
                   help="actor system bases: simple, tcp (ours), thespian-tcp (stock), udp; "
                        "BASE+embedded runs each application inside its group actor (two "
                        "hops per multicast, not four) (default: simple,tcp; with --peers: tcp)")
    p.add_argument("--peers", type=_choices(peers.PEERS, "peer"), metavar="LIST",
                   help=f"also run the workloads on: {', '.join(peers.PEERS)}")
    p.add_argument("--peer-configs", type=_choices(tuple(peers.CONFIGS), "configuration"),
                   metavar="LIST",
                   help=f"the peer's configurations: {', '.join(peers.CONFIGS)} (default: "
                        f"{','.join(peers.DEFAULT_CONFIGS)}; --quick: "
                        f"{','.join(peers.QUICK_CONFIGS)})")
    p.add_argument("--n", type=_sizes, metavar="LIST",
                   help="group sizes, 2-20 (default: 2,5,10; --quick: 2,5)")
    p.add_argument("--workloads", type=_choices(suite.WORKLOADS, "workload"), metavar="LIST",
                   help=f"which to run: {', '.join(suite.WORKLOADS)} (default: all)")
    p.add_argument("--messages", type=_positive, metavar="M",
                   help="messages per closed or window run (default: 20000; --quick: 300)")
    p.add_argument("--runs", type=_positive, metavar="R",
                   help="runs per figure, the median reported (default: 3; --quick: 1)")
    p.add_argument("--metrics", type=_choices(suite.METRICS, "metrics mode"), metavar="LIST",
                   help="steady workloads with metrics off, on (OpenTelemetry served on a free "
                        "port, probes in the members) or both, alternating (default: off)")
    p.add_argument("--probes", type=_positive, metavar="P",
                   help="probes per probe run (default: 2000; --quick: 50)")
    p.add_argument("--trials", type=_positive, metavar="T",
                   help="failover trials (default: 20; --quick: 2)")
    p.add_argument("--out", metavar="DIR", default=str(DEFAULT_OUT),
                   help="where results and logs go (default: bench/results/)")
    return p


def settings_from(args: argparse.Namespace) -> suite.Settings:
    base = suite.QUICK if args.quick else suite.FULL
    changes: dict[str, Any] = {"log_file": os.path.join(args.out, "bench.log")}
    if args.systems:
        changes["systems"] = args.systems
    elif args.peers:
        changes["systems"] = ("tcp",)
    if args.peers:
        changes["peers"] = args.peers
    if args.peer_configs:
        changes["peer_configs"] = args.peer_configs
    if args.n:
        changes["ns"] = args.n
    if args.workloads:
        changes["workloads"] = args.workloads
    if args.messages:
        changes["messages"] = args.messages
    if args.runs:
        changes["runs"] = args.runs
    if args.metrics:
        changes["metrics"] = args.metrics
    if args.probes:
        changes["probes"] = args.probes
    if args.trials:
        changes["failover_trials"] = args.trials
    return replace(base, **changes)


def _logging() -> None:
    """Our progress and warnings to stderr, on a logger of their own: each
    simpleSystemBase that starts reconfigures the root logger (to stderr),
    so only the group's warnings from in-process runs show up there too.
    Actor processes log to OUT/bench.log."""
    ours = logging.getLogger("bench")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("bench: %(message)s"))
    ours.addHandler(handler)
    ours.setLevel(logging.INFO)
    ours.propagate = False


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: Optional[list[str]] = None) -> int:
    try:
        args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
        if args.peer_configs and not args.peers:
            raise UsageError("--peer-configs needs --peers")
        for peer in args.peers or ():
            why = peers.missing(peer)
            if why:
                raise UsageError(why)
        os.makedirs(args.out, exist_ok=True)
        if not os.access(args.out, os.W_OK):
            raise UsageError(f"cannot write to {args.out}")
    except UsageError as e:
        print(f"bench: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"bench: error: cannot use {args.out}: {e.strerror}", file=sys.stderr)
        return 2
    settings = settings_from(args)
    _logging()
    signal.signal(signal.SIGTERM, _terminate)
    started = time.monotonic()
    load_before = os.getloadavg()
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    outcomes: list[suite.Outcome] = []
    interrupted = False
    try:
        suite.measure(settings, progress=log.info, outcomes=outcomes)
    except KeyboardInterrupt:
        interrupted = True
        log.info("interrupted: every actor system and replica process started was stopped; "
                 "saving what was measured")
    finally:
        peers.kill_all()
    seconds = time.monotonic() - started
    rows = report.figures(outcomes)
    print(report.table(rows))
    if len(settings.metrics) > 1:
        print("\n" + report.metrics_cost(outcomes))
    side_by_side = report.comparison_table(report.comparison(rows))
    if side_by_side:
        print()
        print(side_by_side)
    meta = {"started": stamp, "seconds": round(seconds, 1), "interrupted": interrupted,
            "argv": sys.argv[1:] if argv is None else argv, "python": platform.python_version(),
            "commit": _commit(), "thespian": _version("thespian"), "host": platform.node(), "cpus": os.cpu_count(),
            "loadavg_before": load_before, "loadavg_after": os.getloadavg(),
            **{peer: _version(peer) for peer in settings.peers},
            "peer_configs": {c: {**peers.COMMON, **peers.CONFIGS[c]}
                             for c in settings.peer_configs} if settings.peers else {},
            "settings": asdict(settings), "killed_after_shutdown": list(teardown.forced)}
    base = os.path.join(args.out, f"bench-{stamp}")
    report.save_json(base + ".json", meta, rows, outcomes)
    print(f"\nsaved {base}.json")
    why_not = report.plot(base + ".png", rows)
    print(why_not or f"saved {base}.png")
    if teardown.forced:
        print(f"note: {len(teardown.forced)} actor system(s) still had processes a second "
              "after their shutdown; they were killed (see groupy_actors/reaper.py)")
    print(f"took {seconds:.1f} s")
    if interrupted:
        return 130
    return 1 if any(len(o.ok) < len(o.runs) for o in outcomes) else 0


def _commit() -> str:
    """The repository's commit (with "+changes" if the tree differs), or "?"."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, timeout=10)
        changed = subprocess.run(["git", "-C", str(root), "status", "--porcelain",
                                  "--untracked-files=no"],
                                 capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "?"
    if head.returncode != 0:
        return "?"
    return head.stdout.strip() + ("+changes" if changed.stdout.strip() else "")


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version(package)
    except PackageNotFoundError:
        return "?"


if __name__ == "__main__":
    sys.exit(main())

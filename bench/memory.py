"""`python -m bench.memory`: does memory stay flat under sustained load?

Runs closed-loop runs back to back on one group for `--seconds` and, after
each, sums the resident memory (VmRSS) of every process of this run: the
script, Thespian's admin and logger, and each member's group and
application actors. Prints one line per run and the peak, and compares the
first fifth of the runs with the last.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Optional

from bench.workloads import closed, running_group


def _processes_of_this_run() -> list[int]:
    """Every process with our command line: the actors are forked from us,
    and Thespian's admin detaches (its parent becomes init), so the parent
    chain would miss them."""
    with open("/proc/self/cmdline", "rb") as f:
        ours = f.read()
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                if f.read() == ours:
                    out.append(int(entry))
        except OSError:
            continue
    return out


def _rss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def main(argv: Optional[list[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.memory", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, default=300.0, help="how long (default 300)")
    p.add_argument("--system", choices=("tcp", "udp"), default="tcp")
    p.add_argument("--n", type=int, default=5, help="members (default 5)")
    p.add_argument("--messages", type=int, default=2000, help="per closed run (default 2000)")
    args = p.parse_args(argv)
    if args.seconds <= 0 or not 2 <= args.n <= 20 or args.messages < args.n:
        p.error("need --seconds > 0, 2 <= --n <= 20 and --messages >= --n")
    samples: list[tuple[float, int]] = []
    with running_group(args.system, args.n, os.path.join("/tmp", "bench-memory.log")) \
            as (group, handles):
        start = time.monotonic()
        while time.monotonic() - start < args.seconds:
            run = closed(group, handles, args.messages, 1, 120.0)
            pids = _processes_of_this_run()
            total = sum(_rss_kib(pid) for pid in pids)
            samples.append((time.monotonic() - start, total))
            print(f"{samples[-1][0]:6.1f} s  run {len(samples)}: {run['throughput']:.0f} msg/s, "
                  f"{len(pids)} processes, {total / 1024:.1f} MiB resident", flush=True)
    fifth = max(1, len(samples) // 5)
    first = max(s for _, s in samples[:fifth]) / 1024
    last = max(s for _, s in samples[-fifth:]) / 1024
    peak = max(s for _, s in samples) / 1024
    print(f"{len(samples)} closed runs of {args.messages} in {samples[-1][0]:.0f} s; resident, "
          f"all processes: first fifth {first:.1f} MiB, last fifth {last:.1f} MiB, "
          f"peak {peak:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())

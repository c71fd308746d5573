"""`run_group.py sim`: run the deterministic simulator from the command line.

Many seeds to look for a violation, or one seed with --trace to watch every
message, timer and crash of a run step by step.
"""
from __future__ import annotations

import argparse
import re
import time

from ..core.config import LEVELS
from ..sim import Faults, Simulation
from .options import Parser, count, fail, natural, probability, say


def add_parser(sub: argparse._SubParsersAction) -> None:
    p: Parser = sub.add_parser(
        "sim", help="run the seeded simulator (many seeds, or one traced)",
        description="Run the protocol cores in one process over a simulated network that "
                    "loses, duplicates and reorders messages and crashes members; check every "
                    "run's guarantees. A seed replays exactly.")
    p.add_argument("--protocol", choices=sorted(LEVELS), default="gms4")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--seeds", type=count, default=100, metavar="N",
                       help="run seeds 0..N-1 (default 100)")
    which.add_argument("--seed", type=natural, metavar="S", help="run this one seed")
    p.add_argument("--members", type=count, default=4, help="members at the start (default 4)")
    p.add_argument("--messages", type=natural, default=40, help="multicasts in a run (default 40)")
    p.add_argument("--loss", type=probability, default=0.0, help="chance a message is lost")
    p.add_argument("--duplicate", type=probability, default=0.0,
                   help="chance a message arrives twice")
    p.add_argument("--reorder", action="store_true",
                   help="reorder messages on one link too (links are always reordered "
                        "against each other)")
    p.add_argument("--crashes", type=natural, default=0, help="crashes at random times")
    p.add_argument("--crash-on-send", type=probability, default=0.0,
                   help="chance that a send is the sender's last")
    p.add_argument("--joins", type=natural, default=0, help="members joining during the run")
    p.add_argument("--partitions", type=natural, default=0,
                   help="times the network splits in two during the run")
    p.add_argument("--quorum", action="store_true",
                   help="quorum mode (majority views; gms4 only)")
    p.add_argument("--leaves", type=natural, default=0, help="members leaving during the run")
    p.add_argument("--trace", action="store_true", help="print every step of the run (one seed)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.quorum and args.protocol != "gms4":
        fail("--quorum needs --protocol gms4")
    faults = Faults(loss=args.loss, duplicate=args.duplicate, reorder=args.reorder,
                    crashes=args.crashes, crash_on_send=args.crash_on_send, joins=args.joins,
                    leaves=args.leaves, partitions=args.partitions,
                    down_in_order=args.protocol != "gms4")
    seeds = [args.seed] if args.seed is not None else range(args.seeds)
    start, failed = time.monotonic(), 0
    heals: list[float] = []
    for seed in seeds:
        sim = Simulation(args.protocol, seed=seed, members=args.members,
                         messages=args.messages, faults=faults, keep_log=args.trace,
                         quorum=args.quorum)
        outcome = sim.run()
        if outcome.heal_time is not None:
            heals.append(outcome.heal_time)
        if args.trace:
            for line in outcome.log:
                if "<- Tick()" not in line:
                    say(re.sub(r"Member\(name='([^']+)'\)", r"\1", line))
        if not outcome.ok:
            failed += 1
        if not outcome.ok or args.seed is not None:
            say(outcome.summary())
            for line in outcome.report.lines()[1:]:
                say(line)
    mode = " quorum" if args.quorum else ""
    say(f"{args.protocol}{mode}, {len(seeds)} seed(s), {faults.describe()}: {failed} failed "
        f"({time.monotonic() - start:.1f}s)")
    if heals:
        heals.sort()
        say(f"back together after the last heal, in suspicion times: median "
            f"{heals[len(heals) // 2]:.2f}, max {heals[-1]:.2f} ({len(heals)} runs)")
    return 1 if failed else 0

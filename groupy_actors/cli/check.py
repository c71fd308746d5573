"""`run_group.py check EVENTS.jsonl`: judge a run's event records."""
from __future__ import annotations

import argparse

from .. import trace
from ..checker import PROMISED, PROPERTIES, check
from .options import Parser, fail, say


def add_parser(sub: argparse._SubParsersAction) -> None:
    p: Parser = sub.add_parser(
        "check", help="check an events file against the group's guarantees",
        description="Read the JSON-lines events file of a run (run_group.py --events FILE) "
                    "and check integrity, view agreement, total order, view synchrony, "
                    "agreement and (for gms4) validity. Exit status 0 when they hold, 1 "
                    "with a report of the first violations otherwise.")
    p.add_argument("events", help="the events file (JSON lines)")
    p.add_argument("--protocol", choices=sorted(PROMISED),
                   help="judge by what this level promises (default: as recorded in the file)")
    p.add_argument("--not-quiet", action="store_true",
                   help="the run was cut off: do not require members to end together")
    p.add_argument("--show", type=int, default=10, metavar="N",
                   help="how many violations to print (default 10)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        with open(args.events, encoding="utf-8") as f:
            records = list(trace.read(f))
    except OSError as e:
        fail(f"cannot read {args.events}: {e.strerror}")
    except ValueError as e:
        fail(f"{args.events}: {e}")
    header = next((r for r in records if r["kind"] == "run"), {})
    protocol = args.protocol or header.get("protocol") or "gms4"
    if protocol not in PROMISED:
        fail(f"{args.events} names an unknown protocol {protocol!r}")
    report = check((r for r in records if r["kind"] != "run"),
                   quiesced=not args.not_quiet, required=PROMISED[protocol])
    say(f"{args.events}: {len(records)} records, judged as {protocol} "
        f"({', '.join(p for p in PROPERTIES if p in PROMISED[protocol])})")
    for line in report.lines(most=args.show):
        say(line)
    return 0 if report.ok else 1

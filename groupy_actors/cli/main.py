"""`run_group.py` / `groupy`: the demo by default, and the other commands."""
from __future__ import annotations

import argparse
import os
import signal
import sys
from typing import Optional

from . import check, cluster, demo, sim
from .options import Parser, UsageError

DESCRIPTION = """\
Run a group of colour workers on Thespian actors and watch them stay in sync:
with no arguments, 5 workers on real processes for about 20 s while the
leader's process is killed every 3 s and a new worker joins after each kill.
Each member's colour depends on the order it applied every change, so any
disagreement shows. At the end: each survivor's colour and digest, whether
they agree (exit status 0 if so, 1 if not), and a check of the run's events.
"""

EPILOG = """\
each command has --help.

examples:
  run_group.py --protocol gms2 --kill-leader-every 2      watch gms2 drift apart
  run_group.py --loss 0.1 --events run.jsonl && run_group.py check run.jsonl
  run_group.py sim --protocol gms4 --seeds 500 --loss 0.2 --crashes 3 --joins 2
  run_group.py node --port 1900 --name A          a node (see README: several machines)
"""


def build(prog: str) -> Parser:
    # No abbreviations: the demo's --trace-file/--trace-ratio would make
    # `sim ... --trace` ambiguous (argparse reads every option at the top).
    p = Parser(prog=prog, description=DESCRIPTION, epilog=EPILOG, allow_abbrev=False,
               formatter_class=argparse.RawDescriptionHelpFormatter)
    demo.add_arguments(p)
    p.set_defaults(run=demo.run)
    sub = p.add_subparsers(title="commands", metavar="COMMAND", parser_class=Parser)
    check.add_parser(sub)
    sim.add_parser(sub)
    cluster.add_parsers(sub)
    return p


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: Optional[list[str]] = None) -> int:
    prog = os.path.basename(sys.argv[0]) or "run_group.py"
    try:
        # Ctrl-C (SIGINT) shuts the group down, even when this process was
        # started with SIGINT ignored (a non-interactive shell's background
        # job: Python then installs no handler, and `kill -INT` did nothing
        # while the demo ran on; measured under CI started in background).
        signal.signal(signal.SIGINT, signal.default_int_handler)
        args = build(prog).parse_args(sys.argv[1:] if argv is None else argv)
        signal.signal(signal.SIGTERM, _terminate)
        return args.run(args)
    except UsageError as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130

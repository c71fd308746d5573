#!/usr/bin/env python3
"""Run a group: the demo, and the commands behind it (see --help)."""
import sys

from groupy_actors.cli.main import main

if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Run a group: the demo, and the commands behind it (see --help)."""
import sys

if __name__ == "__main__":
    try:
        from groupy_actors.cli.main import main
    except KeyboardInterrupt:           # Ctrl-C while it starts: no traceback
        sys.exit(130)
    sys.exit(main())

"""Instants as the core reads them: `now`, passed in with each event."""
from __future__ import annotations

# The instant of what has not happened yet: any `now - NEVER` exceeds every
# period, so a check "at least P since X" passes for an X that never was.
NEVER = float("-inf")

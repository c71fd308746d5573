"""groupy-actors: group membership and totally ordered multicast on Thespian.

See README.md. The pieces: `Group` (run a group from a script),
`Application` (your replicated state), `groupy_actors.core` (the protocol,
pure), `groupy_actors.sim` (the deterministic simulator) and
`groupy_actors.checker` (the guarantees, checked on a run's records).
"""
from .application import Application, GroupView, Message, Recorder
from .core.config import LEVELS, Timing
from .group import Group, GroupError, Handle

__all__ = ["Application", "Group", "GroupError", "GroupView", "Handle", "LEVELS", "Message",
           "Recorder", "Timing"]

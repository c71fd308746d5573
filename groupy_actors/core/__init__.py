"""The protocol core: a pure state machine, driven by events, returning effects."""
from .config import DEFAULT_LEVEL, LEVELS, Config, Features, Timing
from .effects import (Accepted, Deliver, Halt, InstallView, Note, Rejoining, Restore,
                      Send, StartTimer, Stop, TakeSnapshot, Unwatch, Watch)
from .events import AppLeave, AppMcast, Down, SnapshotReady, Start, Tick
from .gms import Gms
from .member import Member
from .messages import (Ack, Assent, Broadcast, Entry, Expelled, Inquiry, Join,
                       JoinRefused, Leave, Mcast, Msg, Nack, Promise, Propose, Reject,
                       State, StateRequest, View)

__all__ = [name for name in dir() if not name.startswith("_")]

"""Messages of the multi-machine layer.

Three conversations:
- a command or program (the client) with a node: `Where` to the node's
  agent, then requests to that node's directory (`Place`, `StatusRequest`,
  `LeaveRequest`, `StopAll`);
- the directories among themselves: what they multicast in the group
  "directory" (`NodeUp`, `PlaceCmd`, `SpawnedCmd`, `FateCmd`), delivered in
  the same order everywhere, so every node holds the same table;
- a program that is a member itself with its relay (`Attach`, `RelayMcast`,
  ... in `relay`).
Applications travel as "package.module:Class" text, never as classes: a
directory that cannot import an application must still read the message.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from ..core.config import Config

DIRECTORY_GROUP = "directory"
DIRECTORY_CAPABILITY = "Groupy Directory"     # a node's DirectoryEntry, for newcomers


# -- a node's agent ----------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class DirectoryEntry:
    """How to reach a node's directory: advertised in the node's Thespian
    capabilities, so that a node registering with it can join the group."""

    node: str
    gms: Any
    app: Any
    supervisor: Any


@dataclass(frozen=True, slots=True)
class AgentInit:
    """Node command -> its agent: start this node's part of the cluster.
    `founder`: found the directory group (the first node); else join it
    through the node(s) named by the convention address."""

    node: str
    founder: bool
    config: Config
    wait: float = 30.0


@dataclass(frozen=True, slots=True)
class AgentReady:
    node: str
    nodes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AgentFailed:
    reason: str


@dataclass(frozen=True, slots=True)
class Where:
    """To a node's agent: which is your directory?"""


@dataclass(frozen=True, slots=True)
class Here:
    node: str
    directory: Any          # None while the node is still joining
    you: Any = None         # the asker's address, as the node sees it


@dataclass(frozen=True, slots=True)
class NameCheck:
    """A joining node's agent -> a directory: may I use this name?"""

    node: str


@dataclass(frozen=True, slots=True)
class NameAnswer:
    node: str
    taken: bool


@dataclass(frozen=True, slots=True)
class DirectoryReady:
    """A directory -> its agent: its node is in the table everywhere."""

    nodes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StopNode:
    """To a node's agent: shut your actor system down."""


# -- client requests -------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Place:
    """Put `count` members of `group` running `app(*args)` on `node`.
    `config` counts only for a group's first placement. `name` names the
    one member (count 1); by default members are called GROUP.NODE.K."""

    group: str
    node: str
    count: int
    app: str
    args: tuple[Any, ...]
    config: Config
    name: Optional[str] = None
    embedded: bool = False          # the application inside its group actor (two hops)


@dataclass(frozen=True, slots=True)
class Placed:
    names: tuple[str, ...] = ()
    error: Optional[str] = None


@dataclass(frozen=True, slots=True)
class StatusRequest:
    """`settle`: ask the applications to stop proposing first (colour
    workers), so that agreement is judged on a still state."""

    group: Optional[str] = None
    settle: bool = False


@dataclass(frozen=True, slots=True)
class MemberRow:
    group: str
    name: str
    node: str
    app: str
    role: str
    view_id: Optional[int]
    members: tuple[str, ...]       # of its view
    seq: int                       # the stream position it delivered
    view_at: float                 # wall time it installed that view (0: unknown)
    status: dict[str, Any]
    fate: Optional[str]            # why it is gone, if it is
    answered: bool                 # answered this status request

    @property
    def live(self) -> bool:
        return self.fate is None and self.answered and self.role in ("leader", "slave")


@dataclass(frozen=True, slots=True)
class StatusReply:
    node: str                       # who answered
    nodes: tuple[str, ...]          # in the table
    up: tuple[str, ...]             # of those, in the directory's view
    rows: tuple[MemberRow, ...]
    agree: dict[str, bool] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LeaveRequest:
    name: str


@dataclass(frozen=True, slots=True)
class LeaveReply:
    error: Optional[str] = None


@dataclass(frozen=True, slots=True)
class StopAll:
    """Stop every node (the answering one last)."""


@dataclass(frozen=True, slots=True)
class Stopping:
    nodes: tuple[str, ...]


# -- what the directories multicast ------------------------------------------------------

@dataclass(frozen=True, slots=True)
class NodeUp:
    node: str
    agent: Any
    supervisor: Any


@dataclass(frozen=True, slots=True)
class PlaceCmd:
    ref: tuple[str, int]            # (origin node, request number): the origin answers
    place: Place


@dataclass(frozen=True, slots=True)
class SpawnedCmd:
    name: str
    gms: Any
    app: Any


@dataclass(frozen=True, slots=True)
class FateCmd:
    name: str
    reason: str

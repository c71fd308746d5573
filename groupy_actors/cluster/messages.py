"""Messages between the command line, the directory and the nodes."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

from ..core.config import Config


@dataclass(frozen=True, slots=True)
class DirectoryInit:
    """Node process -> its new directory: the name of the node it runs on."""

    node: str


@dataclass(frozen=True, slots=True)
class Place:
    """Put `workers` colour workers of `group` on node `node`. `config` is
    used only by the group's first placement: a group has one config."""

    group: str
    node: str
    workers: int
    config: Config
    sleep: float = 0.5


@dataclass(frozen=True, slots=True)
class Placed:
    names: tuple[str, ...] = ()
    error: Optional[str] = None


@dataclass(frozen=True, slots=True)
class StatusRequest:
    """`settle`: ask the workers to stop proposing first, so that whether
    they agree can be judged on a still state."""

    group: Optional[str] = None
    settle: bool = False


@dataclass(frozen=True, slots=True)
class MemberRow:
    group: str
    name: str
    node: str
    role: str
    view_id: Optional[int]
    view_size: int
    view_at: float                 # wall time it installed that view
    colour: Optional[tuple[int, ...]]
    digest: Optional[str]
    delivered: int
    fate: Optional[str]
    silent: float                  # seconds since its last record


@dataclass(frozen=True, slots=True)
class StatusReply:
    nodes: tuple[str, ...]
    rows: tuple[MemberRow, ...]
    agree: dict[str, bool] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StopAll:
    """Stop every node of the convention (the directory's own last)."""


@dataclass(frozen=True, slots=True)
class Stopping:
    nodes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StopNode:
    """Directory -> a node's supervisor: shut your actor system down."""


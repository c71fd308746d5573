"""A node's agent: the node's own actor (Thespian global name
"groupy-directory" on its actor system), made by the node command.

It parents the node's supervisor, starts the node's directory (a member of
the group "directory": it founds the group on the first node, and joins it
elsewhere), advertises that directory in the node's Thespian capabilities
(so that a node registering with this one finds it), tells clients where
the directory is, and shuts the node down when told.

Joining: Thespian's convention answers a node's first registration with
the capabilities of the node it registered with, whether or not that node
leads the convention; the agent hears of it (a convention update), reads
the directory there, asks it whether our name is free, and joins through it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Optional

from thespian.actors import ActorSystemConventionUpdate, ActorTypeDispatcher, WakeupMessage

from ..actors.messages import Contact, Gone, Observed, Spawn, SpawnFailed, Spawned
from ..actors.supervisor import Supervisor
from ..core import Member, Stop
from ..logs import log
from .directory import Directory
from .messages import (DIRECTORY_CAPABILITY, AgentFailed, AgentInit, AgentReady, DirectoryEntry,
                       DirectoryReady, Here, NameAnswer, NameCheck, StopNode, Where)

AGENT = "groupy-directory"      # the agent's global name on its actor system


@dataclass(frozen=True, slots=True)
class JoinDeadline:
    """Wakeup payload: the time given to join the cluster is up."""


class NodeAgent(ActorTypeDispatcher):
    def __init__(self) -> None:
        super().__init__()
        self.init: Optional[AgentInit] = None
        self.starter: Any = None
        self.supervisor: Any = None
        self.entry: Optional[DirectoryEntry] = None     # ours, once created
        self.asked: Optional[DirectoryEntry] = None     # whom we asked about our name
        self.ready = False

    def receiveMsg_AgentInit(self, msg: AgentInit, sender: Any) -> None:
        if self.init is not None:
            return
        self.init, self.starter = msg, sender
        self.supervisor = self.createActor(Supervisor)
        if msg.founder:
            self.spawn(None)
        else:
            self.notifyOnSystemRegistrationChanges(True)
            self.wakeupAfter(timedelta(seconds=msg.wait), payload=JoinDeadline())

    def receiveMsg_ActorSystemConventionUpdate(self, msg: ActorSystemConventionUpdate,
                                               sender: Any) -> None:
        entry = (msg.remoteCapabilities or {}).get(DIRECTORY_CAPABILITY)
        if msg.remoteAdded and isinstance(entry, DirectoryEntry) and self.asked is None \
                and self.entry is None:
            self.asked = entry
            self.send(entry.app, NameCheck(self.init.node))

    def receiveMsg_NameAnswer(self, msg: NameAnswer, sender: Any) -> None:
        if self.entry is not None or self.asked is None:
            return
        if msg.taken:
            self.fail(f"a node called {msg.node!r} is already in the cluster "
                      f"(answered by node {self.asked.node}); choose another --name")
            return
        self.spawn(Member(self.asked.node, Contact(self.asked.gms, self.asked.supervisor)))

    def spawn(self, contact: Optional[Member]) -> None:
        node = self.init.node
        self.send(self.supervisor, Spawn(node, self.init.config, contact, Directory,
                                         (node, self.myAddress, self.supervisor),
                                         self.myAddress, own_process=True, trace=False))

    def receiveMsg_Spawned(self, msg: Spawned, sender: Any) -> None:
        if self.entry is None:
            self.entry = DirectoryEntry(self.init.node, msg.gms, msg.app, self.supervisor)

    def receiveMsg_SpawnFailed(self, msg: SpawnFailed, sender: Any) -> None:
        self.fail(f"could not start the node's directory: {msg.reason}")

    def receiveMsg_DirectoryReady(self, msg: DirectoryReady, sender: Any) -> None:
        if self.ready:
            return
        self.ready = True
        self.updateCapability(DIRECTORY_CAPABILITY, self.entry)
        if self.starter is not None:
            self.send(self.starter, AgentReady(self.init.node, msg.nodes))

    def receiveMsg_Observed(self, msg: Observed, sender: Any) -> None:
        for _, what in msg.events:
            if isinstance(what, Stop) and not self.ready:
                self.fail(f"the node's directory could not join: {what.reason}")
            elif isinstance(what, Stop):
                log(__name__).error("this node's directory stopped: %s", what.reason)

    def receiveMsg_Gone(self, msg: Gone, sender: Any) -> None:
        log(__name__).error("this node's directory exited")

    def receiveMsg_WakeupMessage(self, msg: WakeupMessage, sender: Any) -> None:
        if type(msg.payload) is JoinDeadline and not self.ready:
            if self.asked is None:
                self.fail(f"no node of the cluster answered within {self.init.wait:g}s "
                          "(is --convention right, and do the nodes share the secret?)")
            else:
                self.fail(f"could not join the directory through node {self.asked.node} "
                          f"within {self.init.wait:g}s")

    def fail(self, reason: str) -> None:
        log(__name__).error("%s", reason)
        if self.starter is not None:
            self.send(self.starter, AgentFailed(reason))
            self.starter = None

    def receiveMsg_Where(self, msg: Where, sender: Any) -> None:
        node = self.init.node if self.init else "?"
        self.send(sender, Here(node, self.entry.app if self.entry and self.ready else None, sender))

    def receiveMsg_StopNode(self, msg: StopNode, sender: Any) -> None:
        log(__name__).warning("stopping this node's actor system, as asked")
        self.actorSystemShutdown()

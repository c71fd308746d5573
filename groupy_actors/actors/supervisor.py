"""The supervisor: our Erlang monitor.

Thespian tells only a parent that its child exited, so every actor system
that hosts members runs one supervisor that creates them (a member is a pair:
its group actor and its application actor) and turns `ChildActorExited`
into `Down(member)` for every actor, on any system, that asked to watch it.
Watching a member that is already gone answers at once. The two actors of a
member share their fate: when one exits, the other is stopped.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from thespian.actors import (ActorExitRequest, ActorTypeDispatcher, ChildActorExited,
                             DeadEnvelope)

from ..core.events import Down
from ..core.member import Member
from ..core.messages import source_of
from ..logs import log
from .messages import (AppInit, Contact, DeadLetter, Gone, MemberInit, Spawn, SpawnFailed,
                       Spawned, UnwatchRequest, WatchRequest)


@dataclass
class _Child:
    address: Any
    member: Member
    kind: str                      # "gms" or "app"
    partner: Any = None
    observer: Any = None


@dataclass
class _Watchers:
    addresses: list[Any] = field(default_factory=list)


class Supervisor(ActorTypeDispatcher):
    def __init__(self) -> None:
        super().__init__()
        # An address from createActor is a local placeholder whose text
        # changes once the child runs; only == is reliable, so a list.
        self.children: list[_Child] = []
        self.watchers: dict[str, _Watchers] = {}
        self.dead: dict[str, Member] = {}
        self.handling_dead_letters = False
        self.tap: Any = None            # a node's observe tap (observe/tap.py), if on

    @staticmethod
    def actorSystemCapabilityCheck(caps: dict, reqs: dict) -> bool:
        return not reqs or reqs.get("node") in (None, caps.get("node"))

    def receiveMsg_Spawn(self, msg: Spawn, sender: Any) -> None:
        if not self.handling_dead_letters:
            self.handleDeadLetters(True)
            self.handling_dead_letters = True
        twin = next((c for c in self.children if c.kind == "gms" and c.member.name == msg.name), None)
        if twin is not None:            # a repeated request (Thespian may resend)
            self.send(sender, Spawned(msg.name, twin.address, twin.partner or twin.address))
            return
        from .app_host import AppHost
        from .member import MemberActor
        try:
            gms = self.createActor(MemberActor)
            app = None if msg.embedded else self.createActor(AppHost)
        except Exception as e:          # e.g. no process could be started
            log(__name__).error("could not create member %s: %s", msg.name, e)
            self.send(sender, SpawnFailed(msg.name, str(e)))
            return
        me = Member(msg.name, Contact(gms, self.myAddress))
        self.dead.pop(msg.name, None)
        observer = msg.observer or sender
        probe = msg.probe
        from ..observe import tap
        if tap.enabled():               # this node observes its members itself
            if self.tap is None:
                self.tap = self.createActor(tap.Tap, globalName=tap.TAP_NAME)
            self.send(self.tap, tap.Via(msg.name, observer))
            observer = self.tap
            probe = probe or tap.NODE_PROBE
        init = AppInit(msg.name, msg.config.level, msg.app, msg.args, gms, observer, msg.seed)
        self.children.append(_Child(gms, me, "gms", app, observer))
        if app is not None:
            self.children.append(_Child(app, me, "app", gms))
            self.send(app, init)
        self.send(gms, MemberInit(me, msg.config, msg.contact, app, observer, msg.faults,
                                  msg.own_process, msg.trace, probe,
                                  init if msg.embedded else None))
        # Embedded, the group actor is the application's address too.
        self.send(sender, Spawned(msg.name, gms, app if app is not None else gms))

    def receiveMsg_WatchRequest(self, msg: WatchRequest, sender: Any) -> None:
        name = msg.target.name
        if name in self.dead:
            self.send(msg.watcher, Down(self.dead[name]))
            return
        ws = self.watchers.setdefault(name, _Watchers()).addresses
        if not any(w == msg.watcher for w in ws):
            ws.append(msg.watcher)

    def receiveMsg_UnwatchRequest(self, msg: UnwatchRequest, sender: Any) -> None:
        entry = self.watchers.get(msg.target.name)
        if entry is not None:
            entry.addresses = [w for w in entry.addresses if w != msg.watcher]

    def receiveMsg_ChildActorExited(self, msg: ChildActorExited, sender: Any) -> None:
        child = next((c for c in self.children if c.address == msg.childAddress), None)
        if child is None:
            return                      # Thespian may report an exit twice
        self.children.remove(child)
        if any(c.address == child.partner for c in self.children):
            self.send(child.partner, ActorExitRequest())
        if child.kind != "gms":
            return
        name = child.member.name
        self.dead[name] = child.member
        watchers = self.watchers.pop(name, _Watchers()).addresses
        log(__name__).info("member %s exited; telling %d watcher(s)", name, len(watchers))
        for w in watchers:
            self.send(w, Down(child.member))
        if child.observer is not None:
            self.send(child.observer, Gone(name))

    def receiveMsg_DeadEnvelope(self, msg: DeadEnvelope, sender: Any) -> None:
        src = source_of(msg.deadMessage)
        if src is not None and isinstance(src.contact, Contact):
            self.send(src.contact.actor, DeadLetter(msg.deadAddress))

    def receiveMsg_ActorExitRequest(self, msg: ActorExitRequest, sender: Any) -> None:
        pass                            # Thespian stops the children with us

    def receiveMsg_StopNode(self, msg: Any, sender: Any) -> None:
        log(__name__).warning("stopping this node's actor system, as asked")
        self.actorSystemShutdown()


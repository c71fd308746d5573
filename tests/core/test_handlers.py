"""Every role decides, for every message and event type, to handle it or to
ignore it: a new type nobody has thought about fails here, not in a run."""
import importlib
import logging
import pkgutil
from dataclasses import is_dataclass

import pytest

import groupy_actors.core.roles as roles_package
from groupy_actors.core import events, messages
from groupy_actors.core.effects import Note
from groupy_actors.core.gms import Gms
from groupy_actors.core.member import Member
from groupy_actors.core.roles.base import ROLE_EVENTS, Role
from groupy_actors.core.roles.joining import Joining

# Dataclasses of those modules that never reach a role on their own: stream
# entries travel inside Broadcast/Promise/State, and Start is the core's.
NOT_FOR_ROLES = {messages.Msg, messages.View, events.Start}


def _role_classes() -> list[type]:
    for info in pkgutil.iter_modules(roles_package.__path__):
        importlib.import_module(f"{roles_package.__name__}.{info.name}")
    found, todo = [], [Role]
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls is not Role:
            found.append(cls)
    return sorted(found, key=lambda c: c.__name__)


ROLES = _role_classes()


def _defined_dataclasses(module) -> set[type]:
    return {obj for obj in vars(module).values()
            if isinstance(obj, type) and is_dataclass(obj) and obj.__module__ == module.__name__}


def test_the_roles_are_found():
    assert {c.__name__ for c in ROLES} >= {"Idle", "Joining", "Slave", "Leader", "Electing",
                                           "Halted"}


def test_every_message_and_event_type_is_one_a_role_must_decide_on():
    defined = _defined_dataclasses(messages) | _defined_dataclasses(events)
    assert defined - NOT_FOR_ROLES == ROLE_EVENTS


@pytest.mark.parametrize("cls", ROLES, ids=lambda c: c.__name__)
def test_a_role_handles_or_ignores_every_type(cls):
    handled, ignored = set(cls.HANDLERS), set(cls.IGNORES)
    assert not handled & ignored, f"both handled and ignored: {handled & ignored}"
    assert ROLE_EVENTS - handled - ignored == set(), "neither handled nor ignored"
    assert (handled | ignored) - ROLE_EVENTS == set(), "types no role is given"


@pytest.mark.parametrize("cls", ROLES, ids=lambda c: c.__name__)
def test_every_table_entry_is_the_method_the_role_has(cls):
    # A subclass that overrides a handler but keeps its parent's entry
    # would run the parent's.
    for kind, fn in cls.HANDLERS.items():
        assert callable(fn) and getattr(cls, fn.__name__, None) is fn, \
            f"{cls.__name__}.HANDLERS[{kind.__name__}] is not {cls.__name__}.{fn.__name__}"


@pytest.mark.parametrize("cls", ROLES, ids=lambda c: c.__name__)
def test_every_on_type_method_is_in_the_table(cls):
    names = {t.__name__: t for t in ROLE_EVENTS}
    for attr in dir(cls):
        kind = names.get(attr.removeprefix("on_")) if attr.startswith("on_") else None
        if kind is not None and kind not in cls.IGNORES:
            assert cls.HANDLERS.get(kind) is getattr(cls, attr), \
                f"{cls.__name__}.{attr} is not what its table runs for {kind.__name__}"


def test_an_ignored_type_is_noted():
    g = Gms()
    g.me = Member("a")
    g.role = Joining([Member("b")], 0.0)
    assert messages.Ack in Joining.IGNORES
    effects = g.handle(messages.Ack(Member("b"), 1, 0), 1.0)
    assert Note(logging.DEBUG, "joining ignores Ack") in effects

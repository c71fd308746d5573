"""The core's entry point: validation, start, stop, timers."""
import logging

from groupy_actors.core import (AppMcast, Broadcast, Config, Gms, Member, Msg, Note,
                                Start, StartTimer, Tick)

from .net import A, B, Net


def test_bad_input_is_dropped_with_a_warning_and_the_member_goes_on():
    net = Net("gms4", "ab")
    b = net["b"]
    for junk in ("junk", Broadcast(A, 1, (Msg(-1, A, (1, 1), 1, 0),), 4, 0), Broadcast(A, 1, 5, 4, 0)):
        effects = b.handle(junk, 1.0)
        assert len(effects) == 1 and effects[0].level == logging.WARNING
        assert effects[0].text.startswith("dropped bad input:")
    assert b.role_name == "slave"
    assert b.handle(AppMcast("still works"), 1.1)[-1].to == A


def test_a_sequence_number_from_an_old_epoch_is_dropped():
    net = Net("gms4", "ab")
    b = net["b"]
    b.epoch = 2
    effects = b.handle(Broadcast(A, 1, (Msg(3, A, (1, 1), 1, "old"),), 3, 0), 1.0)
    assert all(not hasattr(e, "msg") or not isinstance(e.msg, Msg) for e in effects)
    assert b.stream.received == 2


def test_nothing_happens_before_start():
    effects = Gms().handle(AppMcast("x"), 0.0)
    assert effects == [Note(logging.INFO, "not started: ignored AppMcast")]


def test_start_twice_is_refused():
    g = Gms()
    g.handle(Start(A, None), 0.0)
    assert g.handle(Start(A, None), 0.1) == [Note(logging.WARNING, "already started")]


def test_a_tick_rearms_the_timer():
    g = Gms(Config("gms4").with_timing(tick=0.25))
    g.handle(Start(A, None), 0.0)
    assert g.handle(Tick(), 0.25)[-1] == StartTimer(0.25)


def test_a_stopped_member_ignores_everything():
    net = Net("gms3", "ab")
    b = net["b"]
    b.stop("test")
    assert b.handle(AppMcast("x"), 1.0) == [] and b.handle(Tick(), 1.0) == []


def test_an_unknown_protocol_level_is_a_clear_error():
    import pytest
    with pytest.raises(ValueError, match="unknown protocol 'gms9'; choose one of gms1, gms2, gms3, gms4"):
        Config("gms9")

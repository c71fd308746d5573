"""The leader's record of each peer: its invariants hold through a scripted
run, and a member that leaves leaves nothing of itself behind."""
from dataclasses import fields, is_dataclass

from groupy_actors.core import AppLeave, AppMcast, Broadcast, Down, Member
from groupy_actors.core.roles.peer import PeerRecord

from .net import A, B, C, D, Net


def mentions(obj, m: Member, seen=None) -> list[str]:
    """Where in `obj`, walked through its attributes and containers, `m` is."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return []
    seen.add(id(obj))
    if obj == m:
        return ["itself"]
    if isinstance(obj, dict):
        found = ["key" for k in obj if k == m]
        items = obj.items()
    elif isinstance(obj, (list, tuple, set, frozenset)):
        found, items = [], enumerate(obj)
    elif is_dataclass(obj):
        found, items = [], ((f.name, getattr(obj, f.name)) for f in fields(obj))
    elif hasattr(obj, "__dict__") and not isinstance(obj, type):
        found, items = [], vars(obj).items()
    else:
        return []
    for key, value in items:
        found += [f"{key}.{where}" for where in mentions(value, m, seen)]
    return found


def sound(net: Net, leader: str = "a") -> None:
    core = net[leader]
    assert core.role.name == "leader"
    assert core.role.check_peers(core) is None
    assert core.invariants() is None


def test_the_records_hold_their_invariants_through_a_run_and_a_leave_leaves_no_trace():
    net = Net("gms4", "abc", inflight=2)
    a = net["a"]
    sound(net)
    assert list(a.role.peers) == [B, C]

    net.add("d", "a")                                   # admission
    net.settle()
    sound(net)
    assert list(a.role.peers) == [B, C, D] and not a.role.outsiders
    assert a.role.peers[D].admitted == a.view.seq

    for i in range(6):                                  # multicasts from the leader and b
        net.run("a", AppMcast(f"a{i}"))
        net.run("b", AppMcast(f"b{i}"))
        net.settle()
        sound(net)

    # A lost send: c misses a broadcast; the leader counts it under way until
    # c's later answers show it never had it, and c asks for what it missed.
    net.run("a", AppMcast("lost on the way to c"))
    net.settle(drop=lambda src, dst, msg: dst == "c" and isinstance(msg, Broadcast))
    c = a.role.peers[C]
    assert c.unacked and c.acked < a.stream.received
    lost = max(c.unacked)
    sound(net)
    for _ in range(40):                                 # heartbeats, Acks, a Nack, the resend
        net.tick(0.1)
        sound(net)
    assert c.acked == a.stream.received and lost not in c.unacked and c.got > lost
    assert a.stats["resent"] >= 1
    assert {m: p.acked for m, p in a.role.peers.items()} == dict.fromkeys((B, C, D), c.acked)

    net.run("d", AppLeave())                            # removal
    net.settle()
    sound(net)
    assert D not in a.view.members and list(a.role.peers) == [B, C]
    assert mentions(a.role, D) == []


def test_a_crashed_member_leaves_no_trace():
    net = Net("gms4", "abcd")
    a = net["a"]
    net.run("d", AppMcast("last words"))
    net.crash("d")
    net.settle()
    sound(net)
    assert D not in a.view.members
    assert mentions(a.role, D) == []


def test_an_expelled_member_keeps_only_the_window_of_what_told_it_so():
    # The leader numbers every send, the Expelled one too: it stays as the
    # member's outsider window, which it goes on from if it comes back.
    net = Net("gms4", "abc")
    a = net["a"]
    net.dead.add("c")                   # silent, but nobody says it is down
    for _ in range(5):
        net.tick(1.0)                   # longer than `suspect_after` (3s) in all
    sound(net)
    assert C not in a.view.members and list(a.role.peers) == [B]
    assert mentions(a.role, C) == ["outsiders.key"]
    assert a.role.outsiders[C].serial >= 1


def test_the_check_finds_a_broken_record():
    ok = PeerRecord(acked=3, next_seq=4, serial=2, unacked={1: 0.0, 2: 0.0})
    assert ok.check(top=5, room=5, commit=0, quorum=False) is None
    assert "acked 4" in PeerRecord(acked=4, next_seq=4).check(5, 5, 0, False)
    assert "next 7" in PeerRecord(acked=3, next_seq=7).check(5, 5, 0, False)
    broken = PeerRecord(acked=3, next_seq=4, serial=2, unacked={2: 0.0, 1: 0.0})
    assert "out of order" in broken.check(5, 5, 0, False)
    assert "room for 1" in ok.check(5, 1, 0, False)
    assert "received 2" in PeerRecord(acked=3, next_seq=4, received=2).check(5, 5, 0, True)


def test_a_leader_knows_every_member_of_its_views_and_no_other():
    net = Net("gms4", "abc")
    a = net["a"]
    del a.role.peers[C]
    assert "without a record" in a.role.check_peers(a)
    a.role.peers[C] = PeerRecord(acked=0, next_seq=a.stream.received + 1)
    a.role.peers[Member("x")] = PeerRecord(acked=0, next_seq=1)
    assert "non-members" in a.role.check_peers(a)


def test_the_leaders_check_names_each_broken_relation():
    # Each invariant the simulators assert after every step, broken on
    # purpose: the check must say which (a check that says nothing proves
    # nothing).
    from groupy_actors.core import Mcast, Msg
    net = Net("gms4", "abc", quorum=True)
    a = net["a"]
    r = a.role
    assert r.check_peers(a) is None

    r.peers[C].received = r.peers[C].acked - 1 if r.peers[C].acked else -1
    assert r.check_peers(a).startswith("peer c: received ")
    r.peers[C].received = None

    r.peers[C].next_seq = a.stream.received + 5
    assert r.check_peers(a).startswith("peer c: acked ")
    r.peers[C].next_seq = a.stream.received + 1

    net.run("a", AppMcast("x"))
    net.settle()
    assert r.check_peers(a) is None
    msg_seq = max(s for s, e in a.stream.entries.items() if isinstance(e, Msg))
    r.peers[C].admitted = msg_seq
    assert r.check_peers(a) == f"peer c: admitted at {msg_seq}, not a view admitting it"
    r.peers[C].admitted = a.stream.received + 1
    assert r.check_peers(a) == f"peer c: admitted at {a.stream.received + 1}, not a view admitting it"
    r.peers[C].admitted = None

    r.outsiders[B] = PeerRecord()
    assert r.check_peers(a) == "outsider b: also a member"
    del r.outsiders[B]
    r.outsiders[D] = PeerRecord(serial=1, unacked={2: 0.0})
    assert r.check_peers(a).startswith("outsider d: send 2 outstanding out of order")
    del r.outsiders[D]

    r.parked[B] = {}
    assert r.check_peers(a) == "multicasts parked for a non-member, or an empty entry"
    r.parked[D] = {1: Mcast(D, (1, 9), 1, "y")}
    del r.parked[B]
    assert r.check_peers(a) == "multicasts parked for a non-member, or an empty entry"
    del r.parked[D]

    r.unpushed[B] = None
    assert r.check_peers(a) == "pushes left over from the last event"
    del r.unpushed[B]
    assert r.check_peers(a) is None


def test_delivering_an_older_view_admits_its_newcomers_past_members_a_newer_view_removed():
    # After a takeover older views are delivered behind the newest one:
    # here view 5 admits d while view 6, sequenced already, removes b.
    # Every member after b must still be seen to (d gets its record).
    from groupy_actors.core import View
    net = Net("gms4", "abc")
    a = net["a"]
    r = a.role
    old = a.view
    inc_d = (1, 9)
    v5 = View(old.seq + 1, old.view_id + 1, (A, B, C, D), old.incs + (inc_d,))
    v6 = View(old.seq + 2, old.view_id + 2, (A, C, D), (old.incs[0], old.incs[2], inc_d))
    r.latest = v6
    a.view = v5
    r.on_view(a, old, v5)
    assert D in r.peers and r.peers[D].admitted == v5.seq
    assert B in r.peers         # until view 6 is delivered too

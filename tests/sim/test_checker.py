"""The checker finds each kind of violation in hand-made records."""
from groupy_actors.checker import check


def rec(member, kind, **kw):
    return {"member": member, "kind": kind, "t": 0, **kw}


def view(member, vid, members, restored=False):
    return rec(member, "view", item=f"v:{vid}", view=vid, members=members, restored=restored)


def dl(member, mid):
    return rec(member, "deliver", item="m:" + mid)


def group(*extra_a, extra_b=()):
    base = []
    for m in "ab":
        base += [view(m, 1, ["a", "b"]), dl(m, "a:1.1:1")]
    return base + list(extra_a) + list(extra_b)


def test_a_consistent_run_passes():
    r = check(group(rec("a", "mcast", id="a:1.1:1")))
    assert r.ok, r.lines()


def test_a_duplicate_delivery_breaks_integrity():
    assert "integrity" in check(group(dl("a", "a:1.1:1"))).broken()


def test_a_phantom_message_breaks_integrity():
    assert "integrity" in check(group(rec("a", "mcast", id="a:1.1:1"), dl("a", "x:1.1:9"),
                                      dl("b", "x:1.1:9"))).broken()


def test_different_order_breaks_total_order():
    r = check(group(dl("a", "a:1.1:2"), dl("a", "a:1.1:3"), dl("b", "a:1.1:3"), dl("b", "a:1.1:2")))
    assert "total order" in r.broken()


def test_a_gap_breaks_agreement_and_view_synchrony():
    records = group(dl("a", "a:1.1:2"), dl("a", "a:1.1:3"), dl("b", "a:1.1:3"),
                    view("a", 2, ["a", "b"]), view("b", 2, ["a", "b"]))
    assert {"total order", "view synchrony"} <= check(records).broken()


def test_members_ending_apart_break_agreement():
    assert "agreement" in check(group(dl("a", "a:1.1:2"))).broken()
    assert check(group(dl("a", "a:1.1:2")), quiesced=False).ok


def test_one_view_id_two_memberships_breaks_view_agreement():
    records = group(view("a", 2, ["a", "b"]), view("b", 2, ["b"]))
    assert "view agreement" in check(records).broken()


def test_a_lost_multicast_breaks_validity():
    assert "validity" in check(group(rec("b", "mcast", id="b:1.2:1"))).broken()


def test_a_crashed_member_is_not_held_to_agreement():
    records = group(dl("a", "a:1.1:2"), rec("a", "crash"))
    assert check(records).ok


def test_a_member_that_ends_halted_need_not_end_with_the_others():
    # Cut off in a minority: the others went on, its multicast never got out.
    behind = group(rec("a", "mcast", id="a:1.1:1"), rec("a", "mcast", id="a:1.1:2"),
                   rec("a", "halt", reason="in a minority"),
                   view("b", 2, ["b"]), dl("b", "b:1.2:1"), rec("b", "mcast", id="b:1.2:1"))
    assert check(behind).ok, check(behind).lines()


def test_a_member_that_ends_halted_is_still_held_to_order():
    split = group(view("a", 2, ["a", "b", "c"]), rec("a", "halt", reason="in a minority"),
                  view("b", 2, ["b"]))
    assert "view agreement" in check(split).broken()


def test_a_joiner_continues_right_after_its_state():
    records = group(dl("a", "a:1.1:2"), dl("b", "a:1.1:2"), dl("a", "a:1.1:3"), dl("b", "a:1.1:3"),
                    rec("c", "state", after="m:a:1.1:2", source="a"),
                    view("c", 1, ["a", "b"], restored=True), dl("c", "a:1.1:3"))
    assert check(records).ok
    wrong = records[:-1] + [dl("c", "a:1.1:4"), dl("a", "a:1.1:4"), dl("b", "a:1.1:4")]
    assert "total order" in check(wrong).broken()


def test_a_message_carried_by_a_state_transfer_counts_as_delivered():
    records = [view("a", 1, ["a"]), rec("a", "mcast", id="a:1.1:1"), dl("a", "a:1.1:1"),
               rec("b", "state", after="m:a:1.1:1", source="a"), rec("a", "crash")]
    assert check(records).ok


def test_a_rejoined_member_is_judged_as_a_new_life():
    records = group(dl("b", "a:1.1:9"), rec("b", "rejoin", reason="expelled"),
                    rec("b", "state", after="m:a:1.1:1", source="a"))
    r = check(records)
    assert r.ok and r.stats["lives"] == 3


def test_promised_properties_decide_ok():
    records = group(rec("a", "mcast", id="a:1.1:1"), rec("b", "mcast", id="b:1.2:1"))
    assert not check(records).ok
    assert check(records, required=("integrity", "total order")).ok


def test_a_crashed_senders_missing_record_is_not_a_phantom():
    records = [view("a", 1, ["a", "b"]), view("b", 1, ["a", "b"]), dl("b", "a:1.1:1"),
               rec("b", "mcast", id="b:1.2:1"), dl("b", "b:1.2:1"), rec("a", "crash")]
    assert check(records).ok

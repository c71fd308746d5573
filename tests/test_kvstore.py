"""The example key-value store (groupy_actors/examples/kvstore.py) in one
process: every replica applies puts and deletes in the group's order, and
a replica that joins later receives the store by state transfer. Its run
across three nodes is in tests/cluster/test_nodes.py."""
from groupy_actors import Group
from groupy_actors.examples.kvstore import KVStore, delete, digest, put


def same(handles, keys):
    s = [h.status for h in handles]
    return all(x.get("keys") == keys for x in s) and len({x.get("digest") for x in s}) == 1


def test_replicas_agree_and_a_newcomer_gets_the_store():
    with Group.start(system="simple") as group:
        a = group.join("a", KVStore)
        b = group.join("b", KVStore)
        a.mcast(put("x", 1))
        b.mcast(put("y", [1, 2]))
        a.mcast(put("x", 2))
        b.mcast(delete("y"))
        b.mcast("not an operation")             # ignored, not applied
        assert group.wait_reports(lambda: same([a, b], 1) and a.status["applied"] == 4, 30)
        assert a.status["data"] == {"x": 2} and a.status["digest"] == digest({"x": 2})
        c = group.join("c", KVStore)
        assert group.wait_reports(lambda: same([a, b, c], 1), 30)
        assert c.status["data"] == {"x": 2} and c.status["applied"] == 4


def test_the_digest_depends_on_contents_only():
    assert digest({"a": 1, "b": 2}) == digest({"b": 2, "a": 1}) != digest({"a": 1})

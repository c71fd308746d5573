"""DELIBERATELY WRONG: the key-value store whose snapshot forgets a field.

`ForgetfulKVStore.snapshot` hands a newcomer the data but not the versions,
so after a state transfer the newcomer's versions are empty: its reads
agree with everyone else's, but its versions (and so which `SetIf` it
accepts) do not, and the members drift apart. A test with
`groupy_actors.testing` finds a seed with a join that shows it
(tests/testing/test_forgetful.py); keep this class out of real code.
"""
from __future__ import annotations

from typing import Any

from .kvstore import KVStore


class ForgetfulKVStore(KVStore):
    def snapshot(self) -> Any:
        return {"data": self.data, "applied": self.applied}     # the bug: no "versions"

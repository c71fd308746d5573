"""A pytest plugin that runs Thespian's own test files against our base.

    pytest -p tests.transport.thespian_suite.plugin --pyargs thespian.test \\
        -k "multiprocTCPBase" -p no:cacheprovider

Thespian's fixtures start `ActorSystem("multiprocTCPBase", ...)` (plain, and
with the "Admin Routing" / "Outbound Only" capabilities for the
-AdminRouting and -AdminRoutingTXOnly variants). Thespian imports that
base as `thespian.system.multiprocTCPBase`; this plugin puts our base
module in `sys.modules` under that name, so every such system - the
caller's handle, its admin and every actor, which are forks - runs our
transport. Set GROUPY_THESPIAN_SUITE_BASE=stock to run the same selection
on stock Thespian (for comparison).

The deselections and their reasons are in `DESELECTED`
(tests/transport/thespian_suite/deselected.py).
"""
from __future__ import annotations

import os
import sys

import pytest


def pytest_configure(config: pytest.Config) -> None:
    if os.environ.get("GROUPY_THESPIAN_SUITE_BASE", "ours") != "ours":
        return
    import thespian.system
    from groupy_actors import transport
    base = transport.register()
    sys.modules["thespian.system.multiprocTCPBase"] = base
    thespian.system.multiprocTCPBase = base


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    from .deselected import DESELECTED
    keep, drop = [], []
    for item in items:
        (drop if any(d in item.nodeid for d in DESELECTED) else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep

"""Thespian's own test files, run against our base (see
thespian_suite/plugin.py), in a pytest of their own: the plugin swaps the
base for the whole process, and Thespian's fixtures pick their own ports.

By default a representative subset of files runs, on the plain
multiprocTCPBase variant (about a minute). All of it - every file, the
-AdminRouting and -AdminRoutingTXOnly variants too (about 20 minutes):

    GROUPY_THESPIAN_SUITE=all pytest tests/transport/test_thespian_suite.py

or directly, with any pytest options:

    pytest -p tests.transport.thespian_suite.plugin -p no:cacheprovider \\
        --pyargs thespian.test -k multiprocTCPBase

(GROUPY_THESPIAN_SUITE_BASE=stock runs the same selection on stock Thespian.)
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SUBSET = ["test_simpleActor", "test_actors", "test_createActor", "test_deadLettering",
          "test_msg_ChildExited", "test_msg_DeadEnvelope", "test_msg_Wakeup",
          "test_bigmessages", "test_globalName", "test_actorSignals", "test_multipleActorSystems",
          "test_msg_ConventionUpdate", "test_threadedExternal", "test_poisonMessage"]


def test_thespians_own_tests_pass_on_our_base(tmp_path):
    everything = os.environ.get("GROUPY_THESPIAN_SUITE") == "all"
    targets = ["thespian.test"] if everything else [f"thespian.test.{m}" for m in SUBSET]
    select = "multiprocTCPBase" if everything else "multiprocTCPBase and not AdminRouting"
    cmd = [sys.executable, "-m", "pytest", "-p", "tests.transport.thespian_suite.plugin",
           "-p", "no:cacheprovider", "-q", "-rfE", "--pyargs", *targets, "-k", select]
    env = dict(os.environ, THESPLOG_FILE=str(tmp_path / "thespian.log"))
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env,
                          timeout=3600 if everything else 600)
    tail = "\n".join(done.stdout.splitlines()[-40:])
    assert done.returncode == 0, f"{' '.join(cmd)}\n{tail}\n{done.stderr[-2000:]}"
    assert " passed" in tail

"""Thespian test cases deselected from the suite, each with the reason.

A substring of the pytest node id (run with --pyargs thespian.test) ->
why. Filled in from runs with stock `multiprocTCPBase` and with ours
(see docs/thespian.md, "Thespian's own tests on our base").
"""
DESELECTED: dict[str, str] = {
    "test_runcommand.py::TestRunCommand::testCommandAbort[multiprocTCPBase":
        "fails on stock multiprocTCPBase too: the aborted command's output 'hello' is "
        "captured although the test expects none (the command's timing, not the transport)",
}

"""One PySyncObj replica for the side-by-side benchmark (see bench/peers.py).

Run by the benchmark as `python -m bench.pysyncobj_replica SPEC` in a
process of its own, one per replica, on loopback TCP. SPEC is a JSON object:
the replica's index and address, its partners, whether it joins later, and
the `SyncObjConf` settings of the configuration under test.

The replicated state is a list; a multicast is an `@replicated` append to
it and a delivery is that append's apply, which this process timestamps.
The benchmark steers the replica with JSON lines on its stdin and the
replica reports on stdout (acknowledgements outside the protocol, like the
group's records): one line per probe applied, one summary per closed or
window run, status on request. stdin closing (the benchmark gone) ends the
process.

The replica runs PySyncObj's tick loop itself (`autoTick` off, `doTick`
with the configured `autoTickPeriod`, which is what the automatic tick
thread does) so that the control pipe is watched by PySyncObj's own poller:
a command from the benchmark and every submission are handled in the tick
thread, with no cross-thread hand-off adding to PySyncObj's figures.
Every submission has a callback; one that fails (leader changed, command
discarded, ...) is submitted again, as a client that must not lose items
does. Items are numbered, so an item applied twice (a retry whose first
try was committed after all) counts once.
"""
from __future__ import annotations

import json
import os
import sys
import time
from typing import Any, Optional

from pysyncobj import FAIL_REASON, SyncObj, SyncObjConf, replicated
from pysyncobj.poller import POLL_EVENT_TYPE

from bench.pacing import Pacer

STATES = {0: "follower", 1: "candidate", 2: "leader"}


def _say(**record: Any) -> None:
    data = (json.dumps(record, separators=(",", ":")) + "\n").encode()
    while data:
        data = data[os.write(1, data):]


class Run:
    """One closed/window run (or the endless load of a join) at this replica."""

    def __init__(self, tag: str, senders: list[int], per: Optional[int],
                 until: Optional[float], me: int) -> None:
        self.tag = tag
        self.pacer = Pacer(per, until) if me in senders else None
        self.total = None if per is None else per * len(senders)
        self.delivered = 0
        self.seen: set[tuple[int, int]] = set()
        self.last_deliver: Optional[float] = None


class BenchList(SyncObj):
    """The replicated list, plus the bookkeeping of the benchmark (not replicated)."""

    def __init__(self, spec: dict[str, Any]) -> None:
        conf = dict(spec["conf"])
        self.me = spec["index"]
        self.period = conf.get("autoTickPeriod", 0.05)
        conf["autoTick"] = False                # we tick; see the module's docstring
        conf["onStateChanged"] = self._state_changed
        self.run: Optional[Run] = None
        self.retries = 0
        self.stamps: Optional[list[float]] = [] if spec.get("stamp") else None
        self.wanted: Optional[int] = None      # report when this many items are applied
        self.inbox = b""
        self.items: list[Any] = []              # the replicated state
        super().__init__(spec["address"], spec["partners"], SyncObjConf(**conf))
        self._poller.subscribe(0, self._control, POLL_EVENT_TYPE.READ | POLL_EVENT_TYPE.ERROR)

    # -- the replicated operation --------------------------------------------------

    @replicated
    def append(self, item: Any) -> None:
        self.items.append(item)
        self._applied(item)

    # -- submitting ------------------------------------------------------------------

    def submit(self, item: Any) -> None:
        def retry(result: Any, error: int) -> None:
            if error != FAIL_REASON.SUCCESS:
                self.retries += 1
                self.append(item, callback=retry)
        self.append(item, callback=retry)

    def _send_next(self) -> None:
        run = self.run
        i = None if run is None or run.pacer is None else run.pacer.next()
        if i is not None:
            self.submit(("d", run.tag, self.me, i))

    # -- applying --------------------------------------------------------------------

    def _applied(self, item: Any) -> None:
        now = time.time()
        if self.stamps is not None:
            self.stamps.append(now)
            if self.wanted is not None and len(self.stamps) >= self.wanted:
                _say(kind="restored", at=self.stamps[self.wanted - 1], count=self.wanted)
                self.wanted = None
        head = item[0]
        if head == "d":
            run = self.run
            if run is None or item[1] != run.tag:
                return
            key = (item[2], item[3])
            if key in run.seen:
                return                          # a retried item applied twice
            run.seen.add(key)
            run.delivered += 1
            run.last_deliver = now
            if item[2] == self.me:
                self._send_next()
            if run.total is not None and run.delivered == run.total:
                pacer = run.pacer
                _say(kind="done", r=self.me, tag=run.tag,
                     first_send=pacer and pacer.first_send, last_deliver=run.last_deliver,
                     delivered=run.delivered, sent=pacer.sent if pacer else 0,
                     retries=self.retries)
        elif head == "probe":
            _say(kind="probe", tag=item[1], i=item[2], r=self.me, at=now)
        elif head == "go":
            _, tag, senders, per, window, until = item
            self.run = Run(tag, senders, per, until, self.me)
            for _ in range(window):
                self._send_next()

    def _state_changed(self, old: int, new: int) -> None:
        _say(kind="state", r=self.me, state=STATES.get(new, str(new)), at=time.time())

    # -- the benchmark's commands ----------------------------------------------------

    def _control(self, fd: int, events: int) -> None:
        try:
            data = os.read(0, 65536)
        except BlockingIOError:
            return
        if not data:
            os._exit(0)                         # the benchmark is gone
        self.inbox += data
        *lines, self.inbox = self.inbox.split(b"\n")
        for line in lines:
            if line.strip():
                self._command(json.loads(line))

    def _command(self, cmd: dict[str, Any]) -> None:
        op = cmd["op"]
        if op == "submit":
            self.submit(tuple(cmd["item"]))
        elif op == "status":
            status = self.getStatus()
            leader = status["leader"]
            _say(kind="status", r=self.me, state=STATES.get(status["state"], "?"),
                 leader=None if leader is None else leader.address, ready=self.isReady(),
                 applied=len(self.items), last_applied=status["last_applied"],
                 commit=status["commit_idx"], retries=self.retries,
                 partners=status["partner_nodes_count"])
        elif op == "quiet":
            if self.run is not None and self.run.pacer is not None:
                self.run.pacer.quieted = True
        elif op == "add":
            def added(result: Any, error: int) -> None:
                # Called when the change is applied here: every item before
                # it is in the state the newcomer must have to be caught up.
                _say(kind="added", error=error, count=len(self.items), at=time.time())
            try:
                self.addNodeToCluster(cmd["address"], callback=added)
            except Exception as e:             # not enabled, bad address
                _say(kind="added", error=str(e), count=len(self.items), at=time.time())
        elif op == "restored_at":
            wanted = cmd["count"]
            if self.stamps is not None and len(self.stamps) >= wanted:
                at = self.stamps[wanted - 1] if wanted else time.time()
                _say(kind="restored", at=at, count=wanted)
            else:
                self.wanted = wanted
        elif op == "exit":
            os._exit(0)


def main() -> None:
    spec = json.loads(sys.argv[1])
    os.set_blocking(0, False)
    replica = BenchList(spec)
    _say(kind="up", r=replica.me, pid=os.getpid())
    while True:
        replica.doTick(replica.period)


if __name__ == "__main__":
    main()

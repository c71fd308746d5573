"""The `state` workload: how long a newcomer takes to receive a large state.

    python -m bench.state --system tcp --n 3 --sizes 64K,1M,16M

A group of N members each holding SIZE bytes of state (in 64 KiB chunks,
the unit a chunked transfer would send; see `StateMember`), idle; a
newcomer joins. The figure is the time from its join request until its
application restored the state, which it checks against the group's
digest. Between processes the state travels in 1 MiB pieces, at most 8
unacknowledged (groupy_actors/actors/transfer.py), while the group goes on.

Measured (2 shared cores, `--system tcp --n 3 --sizes 1M,10M,100M --runs 1`,
restore ms): whole, in one message: 49 / 192 / 3,630; in pieces: 46 / 233 /
1,951.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import time
from typing import Any, Optional

from groupy_actors import Application, Group

CHUNK = 64 * 1024
RESTORED = "state_restored"


class StateMember(Application):
    """State: `size` bytes in chunks of CHUNK, made by the founder, handed
    to each newcomer by snapshot/restore; its digest proves it arrived
    whole."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.chunks: list[bytes] = []

    def view(self, view: Any) -> None:
        if not self.chunks and view.members == (self.group.name,):     # the founder
            seed = hashlib.sha256(b"state").digest()
            blocks = (self.size + len(seed) - 1) // len(seed)
            data = (seed * blocks)[:self.size]
            self.chunks = [data[i:i + CHUNK] for i in range(0, len(data), CHUNK)]

    def snapshot(self) -> list[bytes]:
        return list(self.chunks)

    def restore(self, state: Optional[list[bytes]]) -> None:
        self.chunks = list(state or [])
        self.group.record(RESTORED, at=time.time(), size=sum(map(len, self.chunks)),
                          digest=self.digest())

    def digest(self) -> str:
        h = hashlib.sha256()
        for c in self.chunks:
            h.update(c)
        return h.hexdigest()[:16]

    def status(self) -> dict[str, Any]:
        return {"size": sum(map(len, self.chunks)), "digest": self.digest()}


def one(system: str, n: int, size: int, log_file: Optional[str], timeout: float) -> dict[str, Any]:
    """One newcomer's transfer of `size` bytes from a group of `n`."""
    with Group.start(system=system, log_file=log_file) as group:
        first = group.join("m1", app=StateMember, args=(size,), timeout=timeout)
        for k in range(2, n + 1):
            group.join(f"m{k}", app=StateMember, args=(size,), timeout=timeout)
        if not group.wait_reports(lambda: first.status.get("size") == size, timeout):
            raise RuntimeError("the founder did not make its state")
        want = first.status["digest"]
        seen = len(group.records)
        t0 = time.time()
        newcomer = group.join("newcomer", app=StateMember, args=(size,), timeout=timeout)
        in_view = time.time()

        def restored() -> Optional[dict[str, Any]]:
            return next((r for r in group.records[seen:] if r["kind"] == RESTORED
                         and r["member"] == newcomer.name), None)

        if not group.wait(lambda: restored() is not None, timeout):
            raise RuntimeError(f"the newcomer did not restore {size} bytes within {timeout:g}s")
        r = restored()
        if r["size"] != size or r["digest"] != want:
            raise RuntimeError(f"the newcomer restored {r['size']} bytes, digest {r['digest']}, "
                               f"not {size}, {want}")
        return {"size": size, "restore_ms": (r["at"] - t0) * 1000,
                "in_view_ms": (in_view - t0) * 1000}


def _size(text: str) -> int:
    units = {"K": 1024, "M": 1024 ** 2, "G": 1024 ** 3}
    text = text.strip().upper()
    try:
        return int(float(text[:-1]) * units[text[-1]]) if text[-1:] in units else int(text)
    except (ValueError, IndexError):
        raise argparse.ArgumentTypeError(f"{text!r} is not a size (e.g. 64K, 1M)") from None


def main(argv: Optional[list[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.state", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--system", default="tcp", help="simple, tcp, ... (default: tcp)")
    p.add_argument("--n", type=int, default=3, help="members before the newcomer (3)")
    p.add_argument("--sizes", default="64K,1M,16M",
                   type=lambda t: [_size(x) for x in t.split(",")], help="state sizes")
    p.add_argument("--runs", type=int, default=3, help="runs per size (median)")
    p.add_argument("--timeout", type=float, default=120.0)
    p.add_argument("--log", help="log file")
    p.add_argument("--json", action="store_true", help="print every run as JSON")
    args = p.parse_args(argv)
    print(f"{'size':>10} {'restore ms (min/median)':>26} {'in view ms':>11}")
    failed = 0
    for size in args.sizes:
        runs = []
        for _ in range(args.runs):
            try:
                runs.append(one(args.system, args.n, size, args.log, args.timeout))
            except RuntimeError as e:
                failed += 1
                print(f"{size:>10} failed: {e}")
        if args.json:
            print(json.dumps(runs))
        if runs:
            ms = [r["restore_ms"] for r in runs]
            print(f"{size:>10} {min(ms):>12,.1f} / {statistics.median(ms):>10,.1f} "
                  f"{statistics.median(r['in_view_ms'] for r in runs):>11,.1f}")
    return 1 if failed else 0


if __name__ == "__main__":
    # Members import the application by module path: run it as bench.state.
    from bench import state
    sys.exit(state.main())

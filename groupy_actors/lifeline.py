"""Every process forked from here dies with this process, however it dies.

Thespian's admin daemonizes (it calls setsid and forks once more), so its
actors are neither children of the command that started it nor in its
process group: a SIGKILL of that command (a node) used to leave the whole
actor system running. `tie()` makes a pipe whose write end only this
process holds, and registers an `os.register_at_fork` hook: every process
forked afterwards - the admin, its logger, every actor, however deep -
closes its copy of the write end and starts a daemon thread blocked on the
read end. When this process is gone, for any reason, the pipe reads
end-of-file and each of them SIGKILLs itself. No polling, no pid reuse to
worry about, nothing in Thespian changed (the hook runs inside `os.fork`,
which `multiprocessing` and Thespian's daemonizing fork both call).
"""
from __future__ import annotations

import os
import signal
import threading
from typing import Optional

_read_fd: Optional[int] = None
_write_fd: Optional[int] = None     # None in forked processes


def tie() -> None:
    """Tie every process forked from now on to this one. Idempotent."""
    global _read_fd, _write_fd
    if _read_fd is not None:
        return
    _read_fd, _write_fd = os.pipe()
    os.set_inheritable(_read_fd, True)
    os.register_at_fork(after_in_child=_in_child)


def tied() -> bool:
    return _read_fd is not None


def _in_child() -> None:
    global _write_fd
    if _write_fd is not None:       # the first fork below the tied process
        try:
            os.close(_write_fd)
        except OSError:
            pass
        _write_fd = None
    threading.Thread(target=_watch, args=(_read_fd,), name="groupy-lifeline",
                     daemon=True).start()


def _watch(fd: int) -> None:
    try:
        while os.read(fd, 1):
            pass
    except OSError:
        pass
    os.kill(os.getpid(), signal.SIGKILL)

"""The shared secret ("cookie") that authenticates every frame.

Like Erlang's cookie: every node of a deployment is given the same secret,
either in a file (`--cookie-file FILE`) or in the `GROUPY_COOKIE`
environment variable. Only its bytes matter; surrounding whitespace (a
trailing newline from `echo > file`) is stripped so that a file and the
variable holding "the same" text agree.
"""
from __future__ import annotations

import os
import stat
from typing import Optional

from ..logs import log

ENV_VAR = "GROUPY_COOKIE"


class CookieError(Exception):
    """The cookie could not be read or is unusable (the message says why)."""


def load_cookie(path: str) -> bytes:
    """The secret in file `path`. Raises CookieError if it cannot be read or
    is empty; logs a warning (and goes on) if other users may read it."""
    try:
        with open(path, "rb") as f:
            info = os.fstat(f.fileno())
            data = f.read()
    except FileNotFoundError:
        raise CookieError(f"cookie file {path} does not exist") from None
    except IsADirectoryError:
        raise CookieError(f"cookie file {path} is a directory") from None
    except PermissionError:
        raise CookieError(f"cookie file {path} cannot be read (permission denied)") from None
    except OSError as e:
        raise CookieError(f"cookie file {path} cannot be read: {e.strerror or e}") from None
    secret = data.strip()
    if not secret:
        raise CookieError(f"cookie file {path} is empty")
    if info.st_mode & (stat.S_IRGRP | stat.S_IROTH):
        # Erlang refuses such a file; we only warn, so that a demo in a
        # shared folder still runs, but say what anyone who can read it can do.
        log(__name__).warning("cookie file %s can be read by other users (mode %o): anyone "
                              "who reads it can run code on every node; chmod 600 it", path,
                              stat.S_IMODE(info.st_mode))
    return secret


def cookie_from_env(environ: Optional[dict[str, str]] = None) -> Optional[bytes]:
    """The secret in $GROUPY_COOKIE, or None if it is unset. An empty
    variable is an error, not "no secret": that is almost always a mistake."""
    env = os.environ if environ is None else environ
    value = env.get(ENV_VAR)
    if value is None:
        return None
    secret = value.strip().encode()
    if not secret:
        raise CookieError(f"${ENV_VAR} is set but empty")
    return secret


def as_secret(value: object) -> Optional[bytes]:
    """A cookie given as bytes or str (or None), normalised like a file's."""
    if value is None:
        return None
    if isinstance(value, str):
        value = value.encode()
    if not isinstance(value, (bytes, bytearray)):
        raise CookieError(f"a cookie is bytes or str, not {type(value).__name__}")
    secret = bytes(value).strip()
    if not secret:
        raise CookieError("the cookie is empty")
    return secret

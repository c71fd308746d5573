"""Our Thespian system base: a pipelined, authenticated TCP transport.

    from groupy_actors import transport
    transport.register()                    # once per process, before ActorSystem()
    ActorSystem(transport.BASE_NAME, {"Admin Port": 19000,
                                      transport.COOKIE_CAPABILITY: secret})

Modules: `base` (the system base), `tcp` (the transport), `connection`
(a connection and a peer's queue), `framing` (wire formats, plain and
authenticated), `settings` (bind address, secret, limits), `cookie`
(reading the secret), `messages` (what the transport itself answers),
`tuning` (speed fixes to Thespian's code in our processes).
"""
from __future__ import annotations

import sys
from types import ModuleType

from .cookie import ENV_VAR as COOKIE_ENV, CookieError, cookie_from_env, load_cookie
from .messages import TransportControl, TransportStats, TransportStatsRequest
from .settings import BIND_CAPABILITY, COOKIE_CAPABILITY, LOOPBACK

BASE_NAME = "groupyTCPBase"


def register() -> ModuleType:
    """Make `ActorSystem("groupyTCPBase", ...)` find our base in this process
    (Thespian imports `thespian.system.<name>`). Idempotent."""
    import thespian.system
    from . import base
    sys.modules["thespian.system." + BASE_NAME] = base
    setattr(thespian.system, BASE_NAME, base)
    return base


__all__ = ["BASE_NAME", "BIND_CAPABILITY", "COOKIE_CAPABILITY", "COOKIE_ENV", "CookieError",
           "LOOPBACK", "TransportControl", "TransportStats", "TransportStatsRequest",
           "cookie_from_env", "load_cookie", "register"]

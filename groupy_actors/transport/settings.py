"""What a system of our base is configured with, and where it comes from.

Capabilities (passed to `ActorSystem(...)`):
- `BIND_CAPABILITY` ("Groupy Bind Address"): the address the admin's and
  every actor's listen socket binds to. Default "127.0.0.1": a single-host
  system is not reachable from other machines (stock Thespian binds
  0.0.0.0). "0.0.0.0" binds every interface and advertises the address
  Thespian would (`THESPIAN_BASE_IPADDR`, else the route to the convention
  leader); any other address binds and advertises that one.
  If the capability is absent, `$GROUPY_BIND_ADDRESS` is used, then:
  when `$THESPIAN_BASE_IPADDR` names a non-loopback address (the user told
  Thespian which address others reach us on), every interface.
- `COOKIE_CAPABILITY` ("Groupy Cookie"): the shared secret. The base takes
  it out of the capabilities before anything else sees them (capabilities
  are logged and sent to the convention leader); without it,
  `$GROUPY_COOKIE` is used. Forked processes get the secret from their
  parent's transport, not from the environment.

Tuning (environment, read at import):
- GROUPY_TRANSPORT_WINDOW: unacknowledged frames per connection (256).
- GROUPY_PEER_HIGH / GROUPY_PEER_LOW: a sender whose backlog to a peer that
  is still acknowledging reaches HIGH waits (inside the send, as stock
  Thespian's tx-only mode does) until it is down to LOW (2048 / 1024).
- GROUPY_PEER_LIMIT: sends to one peer beyond this backlog fail at once
  (16384); a stuck peer fills only its own queue.
"""
from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from typing import Any, Mapping, Optional

from .cookie import as_secret, cookie_from_env

BIND_CAPABILITY = "Groupy Bind Address"
COOKIE_CAPABILITY = "Groupy Cookie"
LOOPBACK = "127.0.0.1"
ANY = "0.0.0.0"

WINDOW = int(os.environ.get("GROUPY_TRANSPORT_WINDOW", 256))
PEER_HIGH = int(os.environ.get("GROUPY_PEER_HIGH", 2048))
PEER_LOW = int(os.environ.get("GROUPY_PEER_LOW", 1024))
PEER_LIMIT = int(os.environ.get("GROUPY_PEER_LIMIT", 16384))


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def default_bind(environ: Optional[Mapping[str, str]] = None) -> str:
    env = os.environ if environ is None else environ
    explicit = env.get("GROUPY_BIND_ADDRESS")
    if explicit:
        return explicit
    base = env.get("THESPIAN_BASE_IPADDR")
    if base and not _is_loopback(base):
        return ANY
    return LOOPBACK


@dataclass(frozen=True)
class Settings:
    bind_host: str = LOOPBACK
    secret: Optional[bytes] = None

    @property
    def wildcard(self) -> bool:
        return self.bind_host in ("", ANY)

    @property
    def loopback(self) -> bool:
        return not self.wildcard and _is_loopback(self.bind_host)

    def __repr__(self) -> str:      # never show the secret
        return f"Settings(bind_host={self.bind_host!r}, secret={'set' if self.secret else None})"

    @classmethod
    def from_capabilities(cls, caps: Mapping[str, Any], take_secret: bool = False) -> "Settings":
        """Settings from `caps` and the environment; with take_secret the
        cookie capability is removed from `caps` (a mutable mapping)."""
        secret = caps.pop(COOKIE_CAPABILITY, None) if take_secret else caps.get(COOKIE_CAPABILITY)
        secret = as_secret(secret) if secret is not None else cookie_from_env()
        return cls(bind_host=str(caps.get(BIND_CAPABILITY) or default_bind()), secret=secret)

"""With a cookie, nothing unauthenticated is unpickled, on any port of the
system; single-host systems listen on loopback only; the cookie's file is
read with clear errors."""
from __future__ import annotations

import os
import pickle
import socket
import time
from pathlib import Path

import pytest
from thespian.actors import ActorAddress
from thespian.system.transport.IPBase import TCPv4ActorAddress

from groupy_actors import transport
from groupy_actors.transport import CookieError, TransportStats, TransportStatsRequest, load_cookie
from groupy_actors.transport.cookie import cookie_from_env
from groupy_actors.transport.framing import HELLO_LEN, AuthChannel

from .actors import Echo
from .procs import listening, system_pids

COOKIE = b"the right cookie"


class _Marker:
    """Unpickling this creates the file `path` (harmless, visible)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def _plain_frame(path: str) -> bytes:
    p = pickle.dumps(_Marker(path))
    return b"%d>" % len(p) + p


def _send_plain(port: int, frame: bytes, until_closed: bool = True) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(frame)
        if until_closed:
            _drain(s)


def _send_wrong_hmac(port: int, path: str) -> None:
    """Speak the authenticated protocol, but with another secret."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        theirs = b""
        while len(theirs) < HELLO_LEN:
            chunk = s.recv(HELLO_LEN - len(theirs))
            assert chunk, "the port closed before its hello"
            theirs += chunk
        forger = AuthChannel(b"a wrong cookie", initiator=True)
        forger.feed(bytearray(theirs))
        s.sendall(forger.hello + forger.seal(pickle.dumps((None, _Marker(path)))))
        _drain(s)


def _drain(s: socket.socket) -> None:
    """Wait until the other side closes (or 5 s)."""
    s.settimeout(5)
    try:
        while s.recv(4096):
            pass
    except OSError:
        pass


def _stats(asys, ports: list[int]) -> dict[int, TransportStats]:
    """Every port's process counters, asked through the system itself."""
    for port in ports:
        asys.tell(ActorAddress(TCPv4ActorAddress("127.0.0.1", port, external=True)),
                  TransportStatsRequest())
    got: dict[int, TransportStats] = {}
    end = time.monotonic() + 30
    while len(got) < len(ports) and time.monotonic() < end:
        msg = asys.listen(1.0)
        if isinstance(msg, TransportStats):
            got[msg.address.addressDetails.sockname[1]] = msg
    assert set(got) == set(ports), (sorted(got), sorted(ports))
    return got


def attack(ports: list[int], tmp: Path) -> list[Path]:
    """An unauthenticated pickle frame and a frame under a wrong HMAC to
    each of `ports`, each of which would create a file if unpickled; the
    files' paths, half a second later."""
    markers = []
    for port in ports:
        plain, forged = tmp / f"plain-{port}", tmp / f"forged-{port}"
        markers += [plain, forged]
        _send_plain(port, _plain_frame(str(plain)))
        _send_wrong_hmac(port, str(forged))
    time.sleep(0.5)
    return markers


def _ports(s) -> list[int]:
    return sorted({port for _, port, _ in listening(system_pids(s.port))})


def test_unauthenticated_frames_are_refused_on_every_port(actor_systems, tmp_path):
    s = actor_systems.start(cookie=COOKIE)
    actors = [s.asys.createActor(Echo) for _ in range(2)]
    assert s.asys.ask(actors[0], "hi", 10) == "HI"
    ports = _ports(s)
    assert s.port in ports and len(ports) >= 4     # admin, logger, two actors
    before = _stats(s.asys, ports)
    assert not [m for m in attack(ports, tmp_path) if m.exists()]
    assert s.asys.ask(actors[1], "still works", 10) == "STILL WORKS"
    after = _stats(s.asys, ports)
    for port in ports:
        assert after[port].authenticated
        assert after[port].refused - before[port].refused >= 2, (port, after[port].counters)
    assert "refused a frame" in open(s.log_file).read()


def test_without_a_cookie_the_same_frame_is_unpickled(actor_systems, tmp_path):
    """The control: what the test above sends would run if it were accepted
    (stock Thespian and our base without a cookie both unpickle it)."""
    s = actor_systems.start()
    marker = tmp_path / "created"
    _send_plain(s.port, _plain_frame(str(marker)), until_closed=False)
    end = time.monotonic() + 10
    while not marker.exists() and time.monotonic() < end:
        time.sleep(0.1)
    assert marker.exists()


def test_a_client_with_the_cookie_works_and_frames_are_authenticated(actor_systems):
    s = actor_systems.start(cookie=COOKIE)
    echo = s.asys.createActor(Echo)
    assert s.asys.ask(echo, "x", 10) == "X"
    stats = _stats(s.asys, [s.port])[s.port]
    assert stats.authenticated and stats.counters["frames_in"] > 0


def test_single_host_systems_listen_on_loopback_only(actor_systems):
    for kw in ({}, {"cookie": COOKIE}):
        s = actor_systems.start(**kw)
        for _ in range(2):
            s.asys.createActor(Echo)
        found = listening(system_pids(s.port))
        assert len({port for _, port, _ in found}) >= 4
        assert {addr for addr, _, _ in found} == {"127.0.0.1"}, found


def test_the_bind_address_can_be_widened(actor_systems):
    s = actor_systems.start(bind="0.0.0.0")
    echo = s.asys.createActor(Echo)
    assert s.asys.ask(echo, "x", 10) == "X"
    assert {addr for addr, _, _ in listening(system_pids(s.port))} == {"0.0.0.0"}


def test_the_cookie_capability_is_not_kept(actor_systems):
    s = actor_systems.start(cookie=COOKIE)
    assert transport.COOKIE_CAPABILITY not in s.asys.capabilities
    assert COOKIE.decode() not in open(s.log_file).read()


# -- reading the cookie -----------------------------------------------------------

def test_load_cookie_reads_and_strips(tmp_path):
    path = tmp_path / "cookie"
    path.write_bytes(b"  s3cret\n")
    path.chmod(0o600)
    assert load_cookie(str(path)) == b"s3cret"


@pytest.mark.parametrize("case,words", [
    ("missing", "does not exist"),
    ("empty", "is empty"),
    ("directory", "is a directory"),
])
def test_load_cookie_fails_clearly(tmp_path, case, words):
    path = tmp_path / "cookie"
    if case == "empty":
        path.write_bytes(b" \n")
    elif case == "directory":
        path.mkdir()
    with pytest.raises(CookieError, match=words):
        load_cookie(str(path))


def test_load_cookie_under_a_file_fails_clearly(tmp_path):
    (tmp_path / "file").write_bytes(b"x")
    with pytest.raises(CookieError, match="cannot be read"):
        load_cookie(str(tmp_path / "file" / "cookie"))


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_load_cookie_unreadable(tmp_path):
    path = tmp_path / "cookie"
    path.write_bytes(b"x")
    path.chmod(0)
    with pytest.raises(CookieError, match="cannot be read"):
        load_cookie(str(path))


def test_load_cookie_warns_when_others_may_read_it(tmp_path, caplog):
    path = tmp_path / "cookie"
    path.write_bytes(b"x")
    path.chmod(0o644)
    with caplog.at_level("WARNING"):
        assert load_cookie(str(path)) == b"x"
    assert "can be read by other users" in caplog.text


def test_cookie_from_the_environment():
    assert cookie_from_env({}) is None
    assert cookie_from_env({"GROUPY_COOKIE": "abc\n"}) == b"abc"
    with pytest.raises(CookieError, match="empty"):
        cookie_from_env({"GROUPY_COOKIE": ""})


def test_the_default_bind_address():
    from groupy_actors.transport.settings import Settings, default_bind
    assert default_bind({}) == "127.0.0.1"
    assert default_bind({"THESPIAN_BASE_IPADDR": "127.0.0.1"}) == "127.0.0.1"
    # Thespian is told to advertise a routable address: it must be reachable there.
    assert default_bind({"THESPIAN_BASE_IPADDR": "10.1.2.3"}) == "0.0.0.0"
    assert default_bind({"GROUPY_BIND_ADDRESS": "10.1.2.3"}) == "10.1.2.3"
    caps = {transport.COOKIE_CAPABILITY: "hunter2", transport.BIND_CAPABILITY: "0.0.0.0"}
    settings = Settings.from_capabilities(caps, take_secret=True)
    assert settings.secret == b"hunter2" and settings.wildcard
    assert caps == {transport.BIND_CAPABILITY: "0.0.0.0"}       # the cookie is taken out
    assert "hunter2" not in repr(settings)

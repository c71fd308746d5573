"""The live page: aiohttp in a thread of its own, server-sent events.

    GET  /          the page (page.html: no external assets, works offline)
    GET  /state     everything the page shows, as JSON
    GET  /events    server-sent events: "state" first, then each change
    POST /action    {"action": NAME, "member": NAME?}: queued for the
                    thread that owns the actor system, which runs it at its
                    next turn (`run_actions`); answers 202 with what was queued

The hub is fed by the observing thread; its listeners hand each change to
this server's event loop (`call_soon_threadsafe`), which fans it out to
every open event stream. Actions never run on the web thread: Thespian's
ActorSystem object is not thread-safe.
"""
from __future__ import annotations

import asyncio
import json
import logging
import queue
import threading
from importlib import resources
from typing import Any, Callable, Optional

from ..hub import Hub

log = logging.getLogger(__name__)

ACTIONS = ("kill-leader", "kill", "sigstop", "sigcont", "partition", "heal", "add-worker")
QUEUE_MAX = 1000        # changes a slow page may lag before it is sent the whole state again


class WebError(Exception):
    """The page could not be served (the message says why)."""


def missing() -> Optional[str]:
    try:
        import aiohttp  # noqa: F401
    except ImportError:
        return "the web page needs aiohttp: pip install 'groupy-actors[web]'"
    return None


class WebServer:
    def __init__(self, hub: Hub, port: int, bind: str = "127.0.0.1",
                 offered: tuple[str, ...] = ACTIONS, title: str = "groupy-actors") -> None:
        why = missing()
        if why:
            raise WebError(why)
        self.hub, self.bind, self.title = hub, bind, title
        self.offered = offered          # actions this process can carry out
        self.actions: "queue.Queue[dict[str, Any]]" = queue.Queue()
        self.streams: set[asyncio.Queue] = set()
        self.page = resources.files(__package__).joinpath("page.html").read_text("utf-8")
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.error: Optional[str] = None
        self.port = port
        self.thread = threading.Thread(target=self._run, name="groupy-web", daemon=True)
        self.thread.start()
        self.ready.wait(10)
        if self.error:
            raise WebError(self.error)
        hub.listeners.append(self._news)

    # -- the web thread ------------------------------------------------------------------

    def _run(self) -> None:
        from aiohttp import web
        asyncio.set_event_loop(self.loop)
        app = web.Application()
        app.router.add_get("/", self._index)
        app.router.add_get("/state", self._state)
        app.router.add_get("/events", self._events)
        app.router.add_post("/action", self._action)
        self.runner = web.AppRunner(app, handle_signals=False, access_log=None,
                                    shutdown_timeout=0.5)
        try:
            self.loop.run_until_complete(self.runner.setup())
            site = web.TCPSite(self.runner, self.bind, self.port)
            self.loop.run_until_complete(site.start())
            self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        except OSError as e:
            self.error = f"cannot serve the page on {self.bind}:{self.port}: {e.strerror}"
            self.ready.set()
            return
        self.ready.set()
        self.loop.run_forever()
        self.loop.run_until_complete(self.runner.cleanup())
        self.loop.close()

    async def _index(self, request: Any) -> Any:
        from aiohttp import web
        return web.Response(text=self.page, content_type="text/html")

    def _full_state(self) -> dict[str, Any]:
        return {**self.hub.state(), "actions": list(self.offered), "title": self.title}

    async def _state(self, request: Any) -> Any:
        from aiohttp import web
        return web.json_response(self._full_state())

    async def _events(self, request: Any) -> Any:
        from aiohttp import web
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                           "Cache-Control": "no-cache"})
        await resp.prepare(request)
        q: asyncio.Queue = asyncio.Queue(QUEUE_MAX)
        self.streams.add(q)
        try:
            await resp.write(_sse(self._full_state()))
            while True:
                try:
                    news = await asyncio.wait_for(q.get(), 15.0)
                except asyncio.TimeoutError:
                    await resp.write(b": keep-alive\n\n")
                    continue
                if news is None:
                    break
                await resp.write(_sse(news))
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            self.streams.discard(q)
        return resp

    async def _action(self, request: Any) -> Any:
        from aiohttp import web
        try:
            body = await request.json()
        except (json.JSONDecodeError, ValueError):
            return web.json_response({"error": "a JSON body is needed"}, status=400)
        name = body.get("action") if isinstance(body, dict) else None
        if name not in self.offered:
            return web.json_response({"error": f"no action {name!r} here; offered: "
                                               f"{', '.join(self.offered)}"}, status=400)
        member = body.get("member")
        if member is not None and not isinstance(member, str):
            return web.json_response({"error": "member must be a name"}, status=400)
        self.actions.put({"action": name, "member": member})
        return web.json_response({"queued": name, "member": member}, status=202)

    def _fan_out(self, news: dict[str, Any]) -> None:
        for q in list(self.streams):
            if q.full():                # a stalled page: start it over with the whole state
                while not q.empty():
                    q.get_nowait()
                q.put_nowait(self._full_state())
            else:
                q.put_nowait(news)

    def _end_streams(self) -> None:
        for q in list(self.streams):
            while q.full():
                q.get_nowait()
            q.put_nowait(None)

    # -- any thread ------------------------------------------------------------------------

    def _news(self, news: dict[str, Any]) -> None:
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self._fan_out, news)

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.bind in ("0.0.0.0", "") else self.bind
        return f"http://{host}:{self.port}/"

    def run_actions(self, do: Callable[[str, Optional[str]], str]) -> None:
        """On the thread that owns the actor system: carry out what the page
        asked for; `do(action, member)` returns what happened, for the timeline."""
        while True:
            try:
                a = self.actions.get_nowait()
            except queue.Empty:
                return
            try:
                text = do(a["action"], a["member"])
            except Exception as e:          # an action that failed is news, not a crash
                log.warning("page action %s failed", a, exc_info=True)
                text = f"{a['action']} failed: {e}"
            self.hub.note(f"page: {text}", "action", action=a["action"], member=a["member"])

    def close(self) -> None:
        try:
            self.hub.listeners.remove(self._news)
        except ValueError:
            pass
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self._end_streams)
            self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def _sse(data: dict[str, Any]) -> bytes:
    return f"data: {json.dumps(data, separators=(',', ':'))}\n\n".encode()

"""The live page in a real browser: headless Chromium loads it during a demo
run, the kill button makes a new view appear on it, and at the end the
swatches in its screenshot have the colours the members report (the demo's
own verdict lines). GROUPY_SCREENSHOT=PATH keeps the screenshot."""
import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from groupy_actors.system import free_port

from ..cluster.machines import RUN_GROUP
from .browser import Browser, find_chromium, png_pixels, pixel

pytest.importorskip("aiohttp", reason="the web page needs the web extra (aiohttp)")
CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium here (Debian: apt-get install chromium; .ci/run "
                             "installs it when it can)")

VERDICT = re.compile(r"^\s+(w\d+)\s+\w+\s+colour \(\s*(\d+),\s*(\d+),\s*(\d+)\)")


class Demo:
    """`run_group.py --web PORT`, its output in a file; stopped in `stop`."""

    def __init__(self, tmp: Path, port: int) -> None:
        self.out_path = tmp / "demo.out"
        self.out = open(self.out_path, "w")
        self.proc = subprocess.Popen(
            [sys.executable, RUN_GROUP, "--web", str(port), "--workers", "4",
             "--duration", "12", "--kill-leader-every", "0", "--sleep", "0.2", "--plain",
             "--web-linger", "120", "--log", str(tmp / "demo.log")],
            stdout=self.out, stderr=subprocess.STDOUT, start_new_session=True)

    def text(self) -> str:
        return self.out_path.read_text()

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.out.close()
        return self.proc.returncode


def _wait_http(url: str, proc: subprocess.Popen, timeout: float = 30) -> None:
    end = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except OSError:
            assert proc.poll() is None, "the demo exited before serving its page"
            assert time.monotonic() < end, "the page was not served"
            time.sleep(0.2)


MEMBERS = """[...document.querySelectorAll('.member')].map(e => ({
    name: e.dataset.member, role: e.dataset.role, view: e.dataset.view,
    rgb: e.querySelector('.swatch').dataset.rgb || null,
    box: (r => [r.left, r.top, r.width, r.height])(e.querySelector('.swatch').getBoundingClientRect())
}))"""
VIEWS = "[...document.querySelectorAll('#events li[data-kind=view]')].map(li => +li.dataset.view)"


async def _drive(browser: Browser, url: str, demo: Demo, shot: Path) -> None:
    try:
        await _check(browser, url, demo, shot)
    finally:
        await browser.disconnect()


async def _check(browser: Browser, url: str, demo: Demo, shot: Path) -> None:
    await browser.connect()
    await browser.call("Page.enable")
    await browser.call("Page.navigate", url=url)
    await browser.wait_for(
        "document.querySelectorAll('.member .swatch[data-rgb]').length >= 4 && "
        "document.querySelector('.member[data-role=leader]') !== null && "
        "document.querySelector('#conn').className === 'live'", 40,
        "four coloured members and a leader")
    members = await browser.evaluate(MEMBERS)
    leader = next(m["name"] for m in members if m["role"] == "leader")
    before = max(await browser.evaluate(VIEWS))
    await browser.evaluate("document.querySelector('#kill-leader').click()")
    new_view = await browser.wait_for(
        f"(() => {{ const v = {VIEWS}.filter(x => x > {before}); "
        f"const old = document.querySelector('.member[data-member=\"{leader}\"]'); "
        f"const lead = document.querySelector('.member[data-role=leader]'); "
        f"return v.length && old.dataset.role === 'crashed' && lead && "
        f"lead.dataset.member !== '{leader}' ? Math.max(...v) : 0; }})()", 20,
        f"a new view after killing leader {leader}")
    assert new_view > before
    # The timeline shows the takeover and the new view.
    assert await browser.evaluate("document.querySelectorAll('#timeline .takeover-mark').length")
    assert await browser.evaluate(
        f"document.querySelector('#timeline .view-mark[data-view=\"{new_view}\"]') !== null")
    await browser.wait_for("document.querySelector('#verdict').className !== ''", 60,
                           "the verdict")
    end = time.monotonic() + 20
    while "the page stays up" not in demo.text():
        assert time.monotonic() < end and demo.proc.poll() is None, demo.text()
        await asyncio.sleep(0.2)
    reported = {m.group(1): tuple(int(x) for x in m.groups()[1:])
                for m in map(VERDICT.match, demo.text().splitlines()) if m}
    assert len(reported) >= 4, demo.text()
    await asyncio.sleep(0.5)                # the last reports reach the page
    members = await browser.evaluate(MEMBERS)
    png = await browser.screenshot()
    shot.write_bytes(png)
    image = png_pixels(png)
    checked = 0
    for m in members:
        if m["name"] not in reported:
            continue                        # the killed leader: not in the verdict
        want = reported[m["name"]]
        assert m["rgb"] == ",".join(map(str, want)), (m, want)
        x, y, w, h = m["box"]
        got = pixel(image, int(x + w / 2), int(y + h / 2))
        assert all(abs(a - b) <= 2 for a, b in zip(got, want)), (m["name"], got, want)
        checked += 1
    assert checked == len(reported)
    assert "AGREE" in await browser.evaluate("document.querySelector('#verdict').textContent")


def test_the_live_page_in_chromium(tmp_path):
    port = free_port()
    demo = Demo(tmp_path, port)
    browser = None
    try:
        url = f"http://127.0.0.1:{port}/"
        _wait_http(url, demo.proc)
        browser = Browser(CHROMIUM)
        shot = tmp_path / "page.png"
        asyncio.run(_drive(browser, url, demo, shot))
        keep = os.environ.get("GROUPY_SCREENSHOT")
        if keep:
            shutil.copy(shot, keep)
    finally:
        if browser is not None:
            browser.kill()
        status = demo.stop()
    assert status in (0, 130), demo.text()


def test_the_page_refuses_unknown_actions(tmp_path):
    from groupy_actors.observe.hub import Hub
    from groupy_actors.observe.web import WebServer
    import json
    hub = Hub("g", "", "gms4")
    web = WebServer(hub, free_port(), offered=("heal",))
    try:
        def post(body):
            req = urllib.request.Request(web.url + "action", data=body.encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=5) as r:
                    return r.status, json.loads(r.read())
            except urllib.error.HTTPError as e:
                return e.code, json.loads(e.read())
        assert post('{"action": "kill"}')[0] == 400
        assert post("not json")[0] == 400
        assert post('{"action": "heal"}') == (202, {"queued": "heal", "member": None})
        done = []
        web.run_actions(lambda a, m: done.append(a) or "healed")
        assert done == ["heal"] and hub.timeline[-1]["text"] == "page: healed"
    finally:
        web.close()

"""The demo's live status: one line per member, its colour drawn in 24-bit
colour, refreshed in place on a terminal; plain periodic lines otherwise."""
from __future__ import annotations

import sys
import time
from typing import Any, Optional

from ..group import Group, MemberInfo

try:
    from rich.console import Console
    from rich.live import Live
    from rich.table import Table
    from rich.text import Text
except ImportError:                      # plain output still works without rich
    Console = None  # type: ignore[assignment,misc]


def colour_of(info: MemberInfo) -> Optional[tuple[int, int, int]]:
    c = info.status.get("colour")
    return tuple(c) if c and info.status.get("ready") else None  # type: ignore[return-value]


def describe(info: MemberInfo) -> str:
    if info.fate:
        return info.fate
    if info.status.get("ready") is False and info.in_view:
        return "waiting for the colour"
    return ""


class StatusView:
    """Call `event` for news, `refresh` often; `close` at the end."""

    def __init__(self, group: Group, title: str, fancy: Optional[bool] = None,
                 every: float = 5.0) -> None:
        self.group, self.title = group, title
        self.fancy = (sys.stdout.isatty() if fancy is None else fancy) and Console is not None
        self.every = every
        self.started = time.monotonic()
        self.last_draw = 0.0
        self.news: list[str] = []
        self.live: Any = None
        if self.fancy:
            self.console = Console(color_system="truecolor", highlight=False)
            self.live = Live(console=self.console, auto_refresh=False, transient=False)
            self.live.start()

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def event(self, text: str) -> None:
        line = f"{self.elapsed():6.1f}s  {text}"
        if self.fancy:
            self.news = (self.news + [line])[-6:]
        else:
            print(line, flush=True)

    def refresh(self, force: bool = False) -> None:
        now = time.monotonic()
        if self.fancy:
            if force or now - self.last_draw >= 0.15:
                self.live.update(self.table(), refresh=True)
                self.last_draw = now
        elif force or now - self.last_draw >= self.every:
            self.last_draw = now
            print(f"{self.elapsed():6.1f}s  {self.title}", flush=True)
            for info in self.group.members.values():
                print("         " + self.plain_line(info), flush=True)

    def plain_line(self, info: MemberInfo) -> str:
        colour = colour_of(info)
        shown = "(%3d, %3d, %3d)" % colour if colour else "       -       "
        view = info.view_id if info.view_id is not None else "-"
        return (f"{info.name:<5} {info.role:<9} {shown}  view {view:<4} "
                f"delivered {info.delivered:<6} {describe(info)}").rstrip()

    def table(self) -> Any:
        t = Table(title=f"{self.title}  ·  {self.elapsed():.1f}s", title_justify="left",
                  caption="\n".join(self.news), caption_justify="left", expand=False)
        for col, just in (("member", "left"), ("role", "left"), ("colour", "left"),
                          ("RGB", "right"), ("view", "right"), ("delivered", "right"),
                          ("", "left")):
            t.add_column(col, justify=just)  # type: ignore[arg-type]
        for info in self.group.members.values():
            colour = colour_of(info)
            swatch = Text("        ", style=f"on rgb({colour[0]},{colour[1]},{colour[2]})") \
                if colour else Text("   --   ")
            style = "dim" if not info.alive else ("bold" if info.role == "leader" else "")
            t.add_row(Text(info.name, style=style), Text(info.role, style=style), swatch,
                      "%d, %d, %d" % colour if colour else "-",
                      str(info.view_id or "-"), str(info.delivered), describe(info))
        return t

    def close(self) -> None:
        if self.live is not None:
            self.live.update(self.table(), refresh=True)
            self.live.stop()
            self.live = None

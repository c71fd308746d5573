"""The demo: colour workers stay in sync while their leader is killed.

N colour workers form a group; every few seconds the leader's process is
killed (SIGKILL) and a new worker joins. At the end the workers stop
proposing, the group settles, and the verdict compares every survivor's
colour and delivery digest; the events of the run are checked too.
"""
from __future__ import annotations

import argparse
import json
import time
from typing import Any, Optional, TextIO

from .. import trace
from ..actors.messages import LinkFaults
from ..checker import PROMISED, check
from ..colour import ColourWorker, colours_agree
from ..core.config import DEFAULT_LEVEL, LEVELS
from ..group import Group, GroupError, MemberInfo
from ..system import StartError
from .display import StatusView, colour_of
from .options import count, fail, port, positive_seconds, probability, say, seconds

SYSTEMS = ("tcp", "simple", "udp", "thespian-tcp")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workers", type=count, default=5, help="colour workers at the start (default 5)")
    p.add_argument("--duration", type=positive_seconds, default=20.0,
                   help="seconds of work before the group settles (default 20)")
    p.add_argument("--sleep", type=positive_seconds, default=0.1, metavar="SECONDS",
                   help="mean pause between one worker's proposals (default 0.1)")
    p.add_argument("--kill-leader-every", type=seconds, default=3.0, metavar="SECONDS",
                   help="kill the leader's process this often and add a worker (0: never; "
                        "default 3)")
    p.add_argument("--protocol", choices=sorted(LEVELS), default=DEFAULT_LEVEL,
                   help=f"protocol level (default {DEFAULT_LEVEL})")
    p.add_argument("--system", choices=SYSTEMS, default="tcp",
                   help="tcp: a process per actor, our pipelined TCP transport (default); "
                        "simple: all in this process; udp: processes over UDP; "
                        "thespian-tcp: processes over stock Thespian TCP")
    p.add_argument("--port", type=port, help="admin port of the actor system (default: a free one)")
    p.add_argument("--seed", type=int, help="seed the workers' choices and injected faults")
    p.add_argument("--events", metavar="FILE",
                   help="write every delivery and view at each member to FILE (JSON lines)")
    p.add_argument("--log", metavar="FILE", help="log file (default: a new file in the temp dir)")
    p.add_argument("--loss", type=probability, default=0.0,
                   help="chance that a message on any link is lost (default 0)")
    p.add_argument("--duplicate", type=probability, default=0.0,
                   help="chance that a message arrives twice (default 0)")
    p.add_argument("--delay", type=seconds, default=0.0, metavar="SECONDS",
                   help="delay each message by up to this much (default 0)")
    p.add_argument("--crash-on-send", type=probability, default=0.0, metavar="P",
                   help="chance that any send is the sender's last (the classic arghh)")
    p.add_argument("--plain", action="store_true", help="plain lines even on a terminal")
    add_observe_arguments(p)
    p.add_argument("--web", type=port, nargs="?", const=8080, metavar="PORT",
                   help="serve a live page of the run on PORT (default 8080): every member's "
                        "colour, role, view and deliveries, views and takeovers, buttons to "
                        "kill, SIGSTOP, partition, heal, add a worker (needs the web extra)")
    p.add_argument("--web-linger", type=seconds, default=30.0, metavar="SECONDS",
                   help="with --web: keep the page up this long after the verdict (default 30; "
                        "Ctrl-C ends it sooner)")


def add_observe_arguments(p: argparse.ArgumentParser, traces: bool = True) -> None:
    """Options shared by the demo and `node`: metrics, traces, where to listen."""
    p.add_argument("--metrics-port", type=port, metavar="PORT",
                   help="serve OpenTelemetry metrics for Prometheus on http://ADDR:PORT/metrics "
                        "(off by default; needs the observe extra)")
    p.add_argument("--http-bind", default="127.0.0.1", metavar="ADDR",
                   help="address the metrics and the web page listen on (default 127.0.0.1)")
    p.add_argument("--otlp", metavar="URL",
                   help="also push metrics%s over OTLP/HTTP to URL (e.g. "
                        "http://127.0.0.1:4318; needs opentelemetry-exporter-otlp-proto-http)"
                   % (" and traces" if traces else ""))
    if not traces:
        return
    p.add_argument("--trace-file", metavar="FILE",
                   help="write a trace per multicast and per takeover to FILE (OTLP/JSON lines)")
    p.add_argument("--trace-ratio", type=probability, default=1.0, metavar="R",
                   help="share of the multicasts traced, chosen by message id (default 1)")


class Demo:
    def __init__(self, args: argparse.Namespace, group: Group, out: Optional[TextIO],
                 web: Any = None) -> None:
        self.args, self.group, self.out = args, group, out
        self.view = StatusView(group, self.title(), fancy=False if args.plain else None)
        self.next_worker = 1
        self.kills = 0
        self.replaced: set[str] = set()     # crashed members already replaced
        self.web = web                      # the live page (observe/web), if on
        self.lines: list[str] = []          # the verdict, for the page
        group.listeners.append(self.on_record)

    def title(self) -> str:
        a = self.args
        faults = [f"{name} {getattr(a, name):g}" for name in ("loss", "duplicate", "delay")
                  if getattr(a, name)]
        return " · ".join(["groupy-actors", a.protocol, a.system, f"{a.workers} workers",
                           f"kill every {a.kill_leader_every:g}s" if a.kill_leader_every
                           else "no kills", *faults])

    def on_record(self, record: dict[str, Any]) -> None:
        if self.out is not None:
            self.out.write(json.dumps(record, separators=(",", ":")) + "\n")
        kind = record["kind"]
        if kind == "view" and not record["restored"] and record["leader"] == record["member"]:
            self.view.event(f"{record['member']} leads view {record['view']}: "
                            f"{', '.join(record['members'])}")
        elif kind == "stopped":
            self.view.event(f"{record['member']} stopped: {record['reason']}")
        elif kind == "rejoin":
            self.view.event(f"{record['member']} was put out ({record['reason']}); rejoining")
        elif kind == "crash" and record.get("how"):
            self.view.event(f"{record['member']} crashed ({record['how']})")

    def add_worker(self, wait: bool) -> None:
        name = f"w{self.next_worker}"
        self.next_worker += 1
        if not wait:
            self.view.event(f"{name} joins")
        self.group.join(name, ColourWorker, args=(self.args.sleep,), wait=wait)

    def run(self) -> int:
        a = self.args
        for _ in range(a.workers):
            self.add_worker(wait=True)
        self.view.event(f"{a.workers} workers in view {self.group.leader().view_id}")
        end = time.monotonic() + a.duration
        next_kill = time.monotonic() + a.kill_leader_every if a.kill_leader_every else float("inf")
        wanted: list[float] = []            # when each replacement became due
        while time.monotonic() < end:
            self.group.poll(0.05)
            now = time.monotonic()
            if now >= next_kill:
                next_kill = now + a.kill_leader_every
                self.kill_leader()
            for m in self.group.members.values():
                if m.fate == "crashed" and m.name not in self.replaced:
                    self.replaced.add(m.name)
                    wanted.append(now)
            # Replace a lost worker once a leader is back (or after 2 s: gms1
            # never gets one, and the newcomer's failure to join shows that).
            if wanted and (self.group.leader() is not None or now - wanted[0] >= 2.0):
                wanted.pop(0)
                self.add_worker(wait=False)
            if self.web is not None:
                self.web.run_actions(self.page_action)
            self.view.refresh()
        return self.settle()

    def page_action(self, action: str, member: Optional[str]) -> str:
        """What a button on the live page asked for (see observe/web)."""
        from ..observe.web import actions
        return actions.carry_out(self, action, member)

    def kill_leader(self) -> None:
        leader = self.group.leader()
        if leader is None:
            self.view.event("no leader to kill (the group has none)")
            return
        self.kills += 1
        how = f"SIGKILL pid {leader.pid}" if self.group.system.processes else "crash"
        self.view.event(f"killing leader {leader.name} ({how})")
        self.group.kill(leader.name)

    def settle(self, limit: float = 10.0) -> int:
        """Stop proposing; wait (at most `limit` seconds, longer while the
        survivors still catch up) until every survivor owes nothing - its
        own multicasts all delivered - and all have delivered the same:
        colours agreeing is not enough, a survivor may still hold
        multicasts of its own that the others have not seen."""
        self.view.event("stopping proposals; letting the group settle")
        self.group.quiet()
        deadline = time.monotonic() + limit
        settled_since: Optional[float] = None
        progress, moved = -1, time.monotonic()
        if self.web is not None:
            from ..observe.web import actions
            actions.resume_all(self.group)      # a SIGSTOPped member cannot settle
        while time.monotonic() < deadline or time.monotonic() - moved < 2.0:
            if time.monotonic() > deadline + 3 * limit:
                break
            self.group.wait_reports(lambda: False, 0.25)
            self.view.refresh()
            survivors = self.survivors()
            total = sum(position(m) for m in survivors)
            if total != progress:
                progress, moved = total, time.monotonic()
            if self.settled(survivors):
                settled_since = settled_since or time.monotonic()
                if time.monotonic() - settled_since >= 0.5:
                    break
            else:
                settled_since = None
        self.view.refresh(force=True)
        self.view.close()
        return self.verdict(self.settled(self.survivors()))

    def settled(self, survivors: list[MemberInfo]) -> bool:
        return bool(survivors) and self.agree(survivors) \
            and len({position(m) for m in survivors}) == 1 \
            and all(m.stats.get("outbox", 0) == 0 for m in survivors)

    def survivors(self) -> list[MemberInfo]:
        return [m for m in self.group.members.values() if m.in_view]

    @staticmethod
    def agree(members: list[MemberInfo]) -> bool:
        return colours_agree(m.status for m in members)

    def print_stats(self, survivors: list[MemberInfo]) -> None:
        everyone = list(self.group.members.values())
        total = lambda key: sum(m.stats.get(key, 0) for m in everyone)  # noqa: E731
        delivered = sum(m.delivered for m in everyone)
        leader = next((m for m in survivors if m.role == "leader"), None)
        kept = (f"the leader ({leader.name}) keeps {leader.stats.get('kept', '?')} entries "
                f"(at most {leader.stats.get('kept_max', '?')})" if leader else "no leader")
        self.say(f"  history: {kept}; largest kept anywhere: "
            f"{max((m.stats.get('kept_max', 0) for m in everyone), default=0)}")
        self.say(f"  recovery: {total('resent')} entries resent on {total('nacks')} requests, "
            f"{total('retried')} multicasts sent again; {delivered} deliveries "
            f"({total('resent') / max(delivered, 1):.3f} resends per delivered message)")

    def say(self, text: str = "") -> None:
        say(text)
        self.lines.append(text)

    def verdict(self, settled: bool) -> int:
        survivors = self.survivors()
        self.say()
        self.say(f"verdict ({self.args.protocol}, {self.kills} leader kill(s), "
            f"{len(survivors)} survivor(s)):")
        for m in survivors:
            colour = colour_of(m)
            shown = "(%3d, %3d, %3d)" % colour if colour else "(no colour yet) "
            self.say(f"  {m.name:<5} {m.role:<8} colour {shown}  digest {m.status.get('digest') or '-':<12}"
                f"  changes applied {m.status.get('applied', 0):<6} delivered {m.delivered}")
        records = [r for r in self.group.records if r["kind"] != "run"]
        report = check(records, quiesced=settled, required=PROMISED[self.args.protocol])
        agreed = self.agree(survivors)
        if settled:
            self.say(f"  AGREE: all {len(survivors)} survivors have the same colour and the same "
                f"sequence of changes, and none has a multicast of its own left to deliver")
        elif report.ok:
            # The order held; the group only had not caught up by the end.
            top = max((position(m) for m in survivors), default=0)
            behind = [f"{m.name} {top - position(m)} entries behind" + (
                      f", {m.stats['outbox']} of its own multicasts undelivered"
                      if m.stats.get("outbox") else "")
                      for m in survivors if position(m) < top or m.stats.get("outbox")]
            self.say(f"  NOT SETTLED: the survivors {'agree' if agreed else 'do not agree yet'}; "
                f"still catching up: {'; '.join(behind) or 'reports pending'}")
        else:
            groups: dict[Any, list[str]] = {}
            for m in survivors:
                groups.setdefault((m.status.get("digest"), tuple(m.status.get("colour") or ())),
                                  []).append(m.name)
            self.say(f"  DISAGREE: {len(groups)} different outcomes: " +
                "; ".join(", ".join(names) for names in groups.values()))
        self.print_stats(survivors)
        for line in report.lines():
            self.say("  checker: " + line.strip())
        if self.args.events:
            self.say(f"  events: {self.args.events} ({len(records)} records); "
                f"check again with: run_group.py check {self.args.events}")
        self.say(f"  log: {self.group.system.log_file}")
        if self.group.hub is not None:
            self.group.hub.set_verdict({"agree": settled and report.ok, "ok": report.ok,
                                        "text": "\n".join(self.lines).strip()})
        # Every promise of the level must hold, and the group must have
        # come to rest: a run that did not is no success either.
        return 0 if settled and report.ok else 1


def position(m: MemberInfo) -> int:
    """How far along the group's stream a member has delivered (its own
    count of deliveries depends on when it joined)."""
    return int(m.stats.get("delivered", 0))


def run(args: argparse.Namespace) -> int:
    faults = LinkFaults(args.loss, args.duplicate, args.delay, args.crash_on_send, args.seed)
    out = None
    if args.events:
        try:
            out = open(args.events, "w", encoding="utf-8")
        except OSError as e:
            fail(f"cannot write {args.events}: {e.strerror}")
    check_observe_extras(args, web=args.web is not None)
    web = None
    try:
        try:
            group = Group.start(system=args.system, protocol=args.protocol, port=args.port,
                                faults=faults, seed=args.seed, log_file=args.log,
                                metrics_port=args.metrics_port, metrics_bind=args.http_bind,
                                trace_file=args.trace_file, trace_ratio=args.trace_ratio,
                                otlp_endpoint=args.otlp, hub=args.web is not None)
        except (StartError, OSError) as e:
            fail(str(e))
        except Exception as e:          # metrics that could not start (observe.metrics)
            fail(str(e))
        if out is not None:
            out.write(json.dumps(trace.event("-", "run", time.time(), protocol=args.protocol,
                                             system=args.system, seed=args.seed)) + "\n")
        try:
            if args.web is not None:
                web = start_web(group.hub, args.web, args.http_bind, group.system.processes,
                                title="groupy-actors demo")
            if group.observing is not None and group.observing.metrics is not None:
                say(f"metrics: {group.observing.metrics.url}")
            demo = Demo(args, group, out, web)
            try:
                status = demo.run()
                if web is not None and args.web_linger:
                    say(f"the page stays up for {args.web_linger:g}s: {web.url} (Ctrl-C ends it)")
                    end = time.monotonic() + args.web_linger
                    while time.monotonic() < end:
                        group.poll(0.2)
                return status
            except KeyboardInterrupt:
                demo.view.close()
                say("interrupted: shutting the group down")
                return 130
            except GroupError as e:
                demo.view.close()
                fail(str(e))
        finally:
            try:
                if web is not None:
                    web.close()
            finally:
                group.stop()
    finally:
        if out is not None:
            out.close()


def check_observe_extras(args: argparse.Namespace, web: bool) -> None:
    """Fail early (exit 2, one line) when an option needs an extra not installed."""
    if args.metrics_port is not None or args.otlp:
        from ..observe.metrics import missing
        if missing():
            fail(missing())
    if args.otlp:
        from ..observe.metrics import otlp_available
        if not otlp_available():
            fail("--otlp needs opentelemetry-exporter-otlp-proto-http "
                 "(pip install opentelemetry-exporter-otlp-proto-http)")
    if web:
        from ..observe.web import missing as web_missing
        if web_missing():
            fail(web_missing())


def start_web(hub: Any, web_port: int, bind: str, processes: bool, title: str,
              offered: Optional[tuple[str, ...]] = None) -> Any:
    from ..observe.web import ACTIONS, WebError, WebServer
    if offered is None:
        offered = ACTIONS if processes else tuple(a for a in ACTIONS
                                                  if a not in ("sigstop", "sigcont"))
    try:
        web = WebServer(hub, web_port, bind, offered, title)
    except WebError as e:
        fail(str(e))
    say(f"live page: {web.url}")
    return web

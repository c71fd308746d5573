"""Traces of multicasts and takeovers, rebuilt in the observer from the
members' timed records (no context travels through the protocol).

A multicast is one trace, its id derived from the message id the records
use (`sender:inc:n`), with a span per hop:

  mcast <id>                  at the sender: from its core accepting the
  |                           application's multicast to the last hop below
  +- sequence                 at the leader: until it gave the message its
     |                        place in the stream (probe's `Sequenced`)
     +- deliver <member>      from then to the member's delivery
        +- apply <member>     from then until the member's application had
                              handled it (its acknowledgement, probe's `Handled`)

A takeover is one trace (candidate, epoch), with the new view's id:

  takeover <candidate> epoch E    from becoming the candidate to its new view
  +- inquiry <peer>               inquiry sent .. promise received
  |  +- promise <peer>            at the peer: inquiry received .. promise sent
  +- fill <peer>                  fill sent .. the peer installed the new view
  +- view <id>                    candidate's new view .. the last peer's

Times are each process's wall clock (one machine: one clock). What is not
recorded is left out rather than invented: the application's own call to
multicast (the root starts when its member accepted it), a sequence span
whose leader died before reporting, an apply span of an untraced member.
Sampling (`ratio`) is by a hash of the message id, so every member and the
observer make the same choice; members only send trace points for sampled
messages.

Output: OTLP/JSON, one line per trace (an ExportTraceServiceRequest), to a
file; and over OTLP/HTTP where `opentelemetry-exporter-otlp-proto-http` is
installed and an endpoint is given.
"""
from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Optional, TextIO

from ..actors.messages import RoleChanged
from ..core.effects import Accepted, Deliver, InstallView
from .probe import Handled, Sequenced, Step, sampled

INTERNAL, PRODUCER, CONSUMER = 1, 4, 5
QUIET = 5.0         # seconds without news after which a trace is written out


def _hex(text: str, nbytes: int) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:nbytes * 2]


def trace_id_of(key: str) -> str:
    return _hex("trace:" + key, 16)


@dataclass
class Span:
    trace_id: str
    span_id: str
    parent_id: Optional[str]
    name: str
    start: float
    end: float
    kind: int = INTERNAL
    attributes: dict[str, Any] = field(default_factory=dict)

    def otlp(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "traceId": self.trace_id, "spanId": self.span_id, "name": self.name,
            "kind": self.kind,
            "startTimeUnixNano": str(int(self.start * 1e9)),
            "endTimeUnixNano": str(int(max(self.end, self.start) * 1e9)),
            "attributes": [_attr(k, v) for k, v in sorted(self.attributes.items())]}
        if self.parent_id:
            out["parentSpanId"] = self.parent_id
        return out


def _attr(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    if isinstance(value, float):
        return {"key": key, "value": {"doubleValue": value}}
    return {"key": key, "value": {"stringValue": str(value)}}


@dataclass
class _Mcast:
    id: str
    sender: Optional[str] = None
    accepted: Optional[float] = None
    replaces: Optional[str] = None
    sequenced: Optional[tuple[str, float]] = None
    delivers: dict[str, tuple[float, int, int]] = field(default_factory=dict)
    handled: dict[str, float] = field(default_factory=dict)
    touched: float = 0.0

    def spans(self) -> list[Span]:
        tid = trace_id_of("mcast:" + self.id)
        times = [t for t, _, _ in self.delivers.values()] + list(self.handled.values())
        if self.sequenced:
            times.append(self.sequenced[1])
        start = self.accepted if self.accepted is not None else min(times, default=0.0)
        sender = self.sender or self.id.split(":")[0]
        root = Span(tid, _hex(f"{tid}:mcast", 8), None, f"mcast {self.id}", start,
                    max(times, default=start), PRODUCER,
                    {"groupy.message.id": self.id, "groupy.item": "m:" + self.id,
                     "groupy.member": sender, "groupy.hop": "member"})
        if self.accepted is None:
            root.attributes["groupy.partial"] = True
        if self.replaces:
            root.attributes["groupy.replaces"] = self.replaces
        out = [root]
        parent, hop_start = root, start
        if self.sequenced is not None:
            leader, t = self.sequenced
            seq = Span(tid, _hex(f"{tid}:sequence", 8), root.span_id, "sequence", start, t,
                       INTERNAL, {"groupy.member": leader, "groupy.hop": "leader",
                                  "groupy.message.id": self.id})
            out.append(seq)
            parent, hop_start = seq, t
        for member, (t, seqno, view) in sorted(self.delivers.items()):
            d = Span(tid, _hex(f"{tid}:deliver:{member}", 8), parent.span_id,
                     f"deliver {member}", min(hop_start, t), t, CONSUMER,
                     {"groupy.member": member, "groupy.hop": "deliver", "groupy.seq": seqno,
                      "groupy.view": view, "groupy.message.id": self.id})
            out.append(d)
            if member in self.handled:
                h = self.handled[member]
                out.append(Span(tid, _hex(f"{tid}:apply:{member}", 8), d.span_id,
                                f"apply {member}", t, max(t, h), INTERNAL,
                                {"groupy.member": member, "groupy.hop": "application",
                                 "groupy.message.id": self.id}))
        return out


@dataclass
class _Takeover:
    candidate: str
    epoch: int
    start: Optional[float] = None
    inquiries: dict[str, float] = field(default_factory=dict)
    promised: dict[str, float] = field(default_factory=dict)
    inquired: dict[str, float] = field(default_factory=dict)     # at the peer
    promises: dict[str, float] = field(default_factory=dict)     # at the peer
    fills: dict[str, float] = field(default_factory=dict)
    view: Optional[int] = None
    view_at: Optional[float] = None
    touched: float = 0.0

    def spans(self, views: dict[int, dict[str, float]]) -> list[Span]:
        key = f"takeover:{self.candidate}:{self.epoch}"
        tid = trace_id_of(key)
        installed = views.get(self.view, {}) if self.view is not None else {}
        times = [*self.inquiries.values(), *self.promised.values(), *self.fills.values(),
                 *installed.values()]
        start = self.start if self.start is not None else min(times, default=0.0)
        attrs: dict[str, Any] = {"groupy.member": self.candidate, "groupy.epoch": self.epoch,
                                 "groupy.hop": "takeover"}
        if self.view is not None:
            attrs["groupy.view"] = self.view
            attrs["groupy.item"] = f"v:{self.view}"
        root = Span(tid, _hex(f"{tid}:root", 8), None,
                    f"takeover {self.candidate} epoch {self.epoch}", start,
                    max(times + [start]), INTERNAL, attrs)
        out = [root]
        for peer, t in sorted(self.inquiries.items()):
            end = self.promised.get(peer, t)
            inq = Span(tid, _hex(f"{tid}:inquiry:{peer}", 8), root.span_id, f"inquiry {peer}",
                       t, end, INTERNAL, {"groupy.member": self.candidate, "groupy.peer": peer,
                                          "groupy.hop": "inquiry",
                                          "groupy.answered": peer in self.promised})
            out.append(inq)
            if peer in self.inquired:
                at = self.inquired[peer]
                out.append(Span(tid, _hex(f"{tid}:promise:{peer}", 8), inq.span_id,
                                f"promise {peer}", at, self.promises.get(peer, at), INTERNAL,
                                {"groupy.member": peer, "groupy.hop": "promise"}))
        for peer, t in sorted(self.fills.items()):
            out.append(Span(tid, _hex(f"{tid}:fill:{peer}", 8), root.span_id, f"fill {peer}",
                            t, installed.get(peer, t), INTERNAL,
                            {"groupy.member": self.candidate, "groupy.peer": peer,
                             "groupy.hop": "fill"}))
        if self.view is not None and self.view_at is not None:
            out.append(Span(tid, _hex(f"{tid}:view", 8), root.span_id, f"view {self.view}",
                            self.view_at, max([self.view_at, *installed.values()]), INTERNAL,
                            {"groupy.member": self.candidate, "groupy.view": self.view,
                             "groupy.hop": "view", "groupy.installed": len(installed)}))
        return out


class Tracer:
    """Feed it every observation (`observed`); it writes each trace out once
    nothing has come for it for `QUIET` seconds, and the rest at `close`."""

    def __init__(self, ratio: float = 1.0, path: Optional[str] = None,
                 otlp_endpoint: Optional[str] = None, service: str = "groupy-actors") -> None:
        self.ratio = ratio
        self.service = service
        self.mcasts: dict[str, _Mcast] = {}
        self.takeovers: dict[tuple[str, int], _Takeover] = {}
        self.candidacy: dict[str, tuple[float, Optional[int]]] = {}   # member -> (since, epoch)
        self.views: dict[int, dict[str, float]] = {}
        self.written = 0
        self.lock = threading.Lock()
        self.out: Optional[TextIO] = open(path, "w", encoding="utf-8") if path else None
        self.exporter: Any = None
        if otlp_endpoint:
            self.exporter = _otlp_exporter(otlp_endpoint)

    # -- feeding -------------------------------------------------------------------------

    def observed(self, name: str, t: float, what: Any) -> None:
        kind = type(what)
        if kind is Deliver:
            m = what.msg
            if sampled(m.id, self.ratio):
                tr = self._mcast(m.id, t)
                tr.delivers.setdefault(name, (t, m.seq, what.view_id))
        elif kind is Accepted:
            if sampled(what.msg_id, self.ratio):
                tr = self._mcast(what.msg_id, t)
                tr.sender, tr.accepted, tr.replaces = name, t, what.replaces
        elif kind is Sequenced:
            for i in what.ids:
                tr = self._mcast(i, t)
                if tr.sequenced is None:
                    tr.sequenced = (name, t)
        elif kind is Handled:
            for i in what.ids:
                self._mcast(i, t).handled.setdefault(name, t)
        elif kind is RoleChanged:
            # (A takeover's first steps are recorded just before its role.)
            if what.role == "electing":
                since, epoch = self.candidacy.get(name, (t, None))
                self.candidacy[name] = (min(since, t), epoch)
            elif what.role != "leader":
                self.candidacy.pop(name, None)      # given up
        elif kind is Step:
            self._step(name, t, what)
        elif kind is InstallView and not what.restored:
            v = what.view
            self.views.setdefault(v.view_id, {}).setdefault(name, t)
            c = self.candidacy.get(name)
            if v.leader.name == name and c is not None and c[1] is not None:
                tk = self.takeovers.get((name, c[1]))
                if tk is not None and tk.view is None:
                    tk.view, tk.view_at, tk.touched = v.view_id, t, t
                del self.candidacy[name]
            for tk in self.takeovers.values():
                if tk.view == v.view_id:
                    tk.touched = max(tk.touched, t)

    def _mcast(self, msg_id: str, t: float) -> _Mcast:
        tr = self.mcasts.get(msg_id)
        if tr is None:
            tr = self.mcasts[msg_id] = _Mcast(msg_id)
        tr.touched = max(tr.touched, t)
        return tr

    def _takeover(self, candidate: str, epoch: int, t: float) -> _Takeover:
        tk = self.takeovers.get((candidate, epoch))
        if tk is None:
            tk = self.takeovers[(candidate, epoch)] = _Takeover(candidate, epoch)
        tk.touched = max(tk.touched, t)
        return tk

    def _step(self, name: str, t: float, s: Step) -> None:
        if s.what in ("inquiry", "promised", "fill"):
            tk = self._takeover(name, s.epoch, t)
            since, _ = self.candidacy.get(name, (t, None))
            self.candidacy[name] = (since, s.epoch)
            if tk.start is None:
                tk.start = min(since, t)
            table = {"inquiry": tk.inquiries, "promised": tk.promised, "fill": tk.fills}[s.what]
            table.setdefault(s.peer, t)
        else:                           # at the peer: the candidate is s.peer
            tk = self._takeover(s.peer, s.epoch, t)
            (tk.inquired if s.what == "inquired" else tk.promises).setdefault(name, t)

    # -- writing -------------------------------------------------------------------------

    def flush(self, quiet: float = QUIET, now: Optional[float] = None) -> int:
        """Write the traces nothing came for in `quiet` seconds; how many."""
        now = time.time() if now is None else now
        with self.lock:
            done_m = [k for k, tr in self.mcasts.items() if now - tr.touched >= quiet]
            done_t = [k for k, tk in self.takeovers.items() if now - tk.touched >= quiet]
            traces = [self.mcasts.pop(k).spans() for k in done_m]
            traces += [self.takeovers.pop(k).spans(self.views) for k in done_t]
        for spans in traces:
            self._write(spans)
        return len(traces)

    def _write(self, spans: list[Span]) -> None:
        if not spans:
            return
        self.written += 1
        if self.out is not None:
            self.out.write(json.dumps(otlp_request(spans, self.service),
                                      separators=(",", ":")) + "\n")
        if self.exporter is not None:
            self.exporter.export(_sdk_spans(spans, self.service))

    def close(self) -> None:
        self.flush(quiet=-1.0)
        if self.out is not None:
            self.out.close()
            self.out = None
        if self.exporter is not None:
            self.exporter.shutdown()
            self.exporter = None


def otlp_request(spans: list[Span], service: str = "groupy-actors") -> dict[str, Any]:
    return {"resourceSpans": [{
        "resource": {"attributes": [_attr("service.name", service)]},
        "scopeSpans": [{"scope": {"name": "groupy_actors.observe"},
                        "spans": [s.otlp() for s in spans]}]}]}


def read(path: str) -> list[list[dict[str, Any]]]:
    """The traces of a trace file: a list of spans (OTLP/JSON dicts) each."""
    traces = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                req = json.loads(line)
                traces.append([s for rs in req["resourceSpans"] for ss in rs["scopeSpans"]
                               for s in ss["spans"]])
    return traces


def _otlp_exporter(endpoint: str) -> Any:
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    except ImportError:
        raise RuntimeError("an OTLP endpoint needs opentelemetry-exporter-otlp-proto-http "
                           "(pip install opentelemetry-exporter-otlp-proto-http)") from None
    return OTLPSpanExporter(endpoint=endpoint.rstrip("/") + "/v1/traces")


def _sdk_spans(spans: list[Span], service: str) -> list[Any]:
    """The same spans as OpenTelemetry SDK spans (ids and times kept)."""
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.trace import SpanContext, SpanKind, TraceFlags

    kinds = {INTERNAL: SpanKind.INTERNAL, PRODUCER: SpanKind.PRODUCER,
             CONSUMER: SpanKind.CONSUMER}
    resource = Resource.create({"service.name": service})
    out = []
    for s in spans:
        ctx = SpanContext(int(s.trace_id, 16), int(s.span_id, 16), False,
                          TraceFlags(TraceFlags.SAMPLED))
        parent = SpanContext(int(s.trace_id, 16), int(s.parent_id, 16), False,
                             TraceFlags(TraceFlags.SAMPLED)) if s.parent_id else None
        out.append(ReadableSpan(s.name, ctx, parent, resource, dict(s.attributes),
                                kind=kinds[s.kind], start_time=int(s.start * 1e9),
                                end_time=int(max(s.end, s.start) * 1e9)))
    return out

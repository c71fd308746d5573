"""Observability: metrics (OpenTelemetry, served for Prometheus), traces of
multicasts and takeovers (rebuilt from the members' records), and a live
web page - all optional, all off by default.

    pip install 'groupy-actors[observe]'      # metrics, OTLP (with its exporter)
    pip install 'groupy-actors[web]'          # the live page (aiohttp)

Importing this package imports neither: `Observing` loads them only when
asked for. Pieces:

  core/counters.py  every figure declared once (name, kind, unit, meaning, source)
  probe.py          in each member, only when asked: what the core does not count
  tap.py            a node's members' records, copied to the node's process
  hub.py            the observer's state of each member, fed by records
  metrics.py        OpenTelemetry instruments over the hub, /metrics
  traces.py         spans rebuilt from records: JSON file, OTLP
  web/              the live page (aiohttp, server-sent events)
  node.py           a node's process: reads its tap, serves the above
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Optional

from .probe import ProbeSettings


@dataclass(frozen=True)
class Options:
    """What to observe. `metrics_port`: serve /metrics there (0: any free
    port); `bind`: the address it and the web page listen on (loopback by
    default); `trace_file`: write traces there (OTLP/JSON lines);
    `trace_ratio`: the share of multicasts traced; `otlp`: an OTLP/HTTP
    endpoint (e.g. http://127.0.0.1:4318) for metrics and traces."""

    metrics_port: Optional[int] = None
    bind: str = "127.0.0.1"
    trace_file: Optional[str] = None
    trace_ratio: float = 1.0
    otlp: Optional[str] = None
    group: str = "default"

    @property
    def tracing(self) -> bool:
        return bool(self.trace_file or self.otlp)

    @property
    def probe(self) -> Optional[ProbeSettings]:
        counters = self.metrics_port is not None or bool(self.otlp)
        if not (counters or self.tracing):
            return None
        return ProbeSettings(counters=counters,
                             span_ratio=self.trace_ratio if self.tracing else 0.0,
                             takeovers=self.tracing)


class Observing:
    """A hub, and the metrics and traces over it that `options` ask for."""

    def __init__(self, options: Options, level: str = "", node: str = "",
                 traced: bool = True) -> None:
        from .hub import Hub
        self.options = options
        self.hub = Hub(options.group, node, level, traced)
        self.metrics: Any = None
        self.tracer: Any = None
        self.next_flush = 0.0
        try:
            if options.metrics_port is not None or options.otlp:
                from .metrics import Metrics
                self.metrics = Metrics(self.hub, options.metrics_port or 0, options.bind,
                                       options.otlp)
            if options.tracing:
                from .traces import Tracer
                self.tracer = Tracer(options.trace_ratio, options.trace_file, options.otlp)
                self.hub.on_raw.append(self.tracer.observed)
        except BaseException:
            self.close()
            raise

    def tick(self) -> None:
        """Now and then (the observer's loop): write out finished traces."""
        now = time.monotonic()
        if self.tracer is not None and now >= self.next_flush:
            self.next_flush = now + 1.0
            self.tracer.flush()

    def close(self) -> None:
        tracer, metrics, self.tracer, self.metrics = self.tracer, self.metrics, None, None
        try:
            if tracer is not None:
                tracer.close()
        finally:
            if metrics is not None:
                metrics.close()

"""Metrics through OpenTelemetry: every figure declared in core/counters.py,
read from a `Hub` when a reader collects, served for Prometheus on
`/metrics` (OpenTelemetry's Prometheus exporter, the default reader) and,
where `opentelemetry-exporter-otlp-proto-http` is installed and an endpoint
is given, pushed over OTLP too.

Optional: `pip install 'groupy-actors[observe]'`. Nothing here is imported
unless metrics are asked for; `missing()` says what to install otherwise.

All instruments but one are asynchronous (their callbacks read the hub at
collection time), so between scrapes metrics cost nothing but the hub's
bookkeeping; the takeover duration is a histogram recorded when a takeover
finishes. Labels: group, member, node, level (and role for groupy.role);
node figures carry node only.
"""
from __future__ import annotations

import importlib.util
import logging
import time
from typing import Any, Callable, Optional

from ..core.counters import DECLARED, ROLES, Declared
from .hub import Hub, MemberState

log = logging.getLogger(__name__)

NEEDED = ("opentelemetry.sdk", "opentelemetry.exporter.prometheus", "prometheus_client")
TAKEOVER_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class MetricsError(Exception):
    """Metrics could not be started (the message says why)."""


def missing() -> Optional[str]:
    """Why metrics cannot run here, or None."""
    for mod in NEEDED:
        try:
            found = importlib.util.find_spec(mod) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            return (f"metrics need OpenTelemetry ({mod} is missing): "
                    "pip install 'groupy-actors[observe]'")
    return None


def otlp_available() -> bool:
    try:
        return importlib.util.find_spec("opentelemetry.exporter.otlp.proto.http") is not None
    except ModuleNotFoundError:
        return False


def labels(m: MemberState) -> dict[str, str]:
    return {"group": m.group, "member": m.name, "node": m.node or "", "level": m.level}


class Metrics:
    """Instruments over `hub`, served on http://BIND:PORT/metrics."""

    def __init__(self, hub: Hub, port: int, bind: str = "127.0.0.1",
                 otlp_endpoint: Optional[str] = None, service: str = "groupy-actors") -> None:
        why = missing()
        if why:
            raise MetricsError(why)
        from opentelemetry.exporter.prometheus import PrometheusMetricReader
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.view import ExplicitBucketHistogramAggregation, View
        from opentelemetry.sdk.resources import Resource
        from prometheus_client import CollectorRegistry, start_http_server

        self.hub = hub
        self.registry = CollectorRegistry()
        readers: list[Any] = [PrometheusMetricReader(registry=self.registry,
                                                     scope_info_enabled=False)]
        if otlp_endpoint:
            if not otlp_available():
                raise MetricsError("an OTLP endpoint needs opentelemetry-exporter-otlp-proto-http "
                                   "(pip install opentelemetry-exporter-otlp-proto-http)")
            from opentelemetry.exporter.otlp.proto.http.metric_exporter import \
                OTLPMetricExporter
            from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
            readers.append(PeriodicExportingMetricReader(
                OTLPMetricExporter(endpoint=otlp_endpoint.rstrip("/") + "/v1/metrics")))
        views = [View(instrument_name="groupy.takeover.duration",
                      aggregation=ExplicitBucketHistogramAggregation(TAKEOVER_BUCKETS))]
        self.provider = MeterProvider(metric_readers=readers, views=views,
                                      resource=Resource.create({"service.name": service}))
        meter = self.provider.get_meter("groupy_actors.observe")
        self._cache: tuple[float, list[MemberState]] = (0.0, [])
        for d in DECLARED:
            self._instrument(meter, d)
        try:
            self.server, self.thread = start_http_server(port, addr=bind, registry=self.registry)
        except OSError as e:
            self.provider.shutdown()
            raise MetricsError(f"cannot serve metrics on {bind}:{port}: {e.strerror}") from None
        self.port = self.server.server_port
        self.bind = bind

    def _members(self) -> list[MemberState]:
        """The hub's members, copied once per collection (not per instrument)."""
        at, members = self._cache
        now = time.monotonic()
        if now - at > 0.2:
            members = self.hub.snapshot()
            self._cache = (now, members)
        return members

    def _instrument(self, meter: Any, d: Declared) -> None:
        from opentelemetry.metrics import Observation

        unit = "" if d.unit == "1" else d.unit
        if d.kind == "histogram":
            hist = meter.create_histogram(d.name, unit=unit, description=d.description)
            self.hub.on_takeover.append(lambda m, seconds: hist.record(seconds, labels(m)))
            return
        if d.scope == "node":
            def read(options: Any, d: Declared = d) -> list[Any]:
                figures = self.hub.node_figures
                if d.key not in figures:
                    return []
                return [Observation(figures[d.key], {"node": self.hub.node})]
        elif d.kind == "state":
            def read(options: Any, d: Declared = d) -> list[Any]:
                return [Observation(1 if m.role == role else 0, {**labels(m), "role": role})
                        for m in self._members() for role in ROLES]
        else:
            def read(options: Any, d: Declared = d) -> list[Any]:
                return [Observation(m.figure(d.key), labels(m)) for m in self._members()
                        if d.kind != "counter" or m.stats or d.key in _SHELL_KEYS]
        create: Callable[..., Any] = (meter.create_observable_counter if d.kind == "counter"
                                      else meter.create_observable_gauge)
        create(d.name, callbacks=[read], unit=unit, description=d.description)

    @property
    def url(self) -> str:
        return f"http://{self.bind}:{self.port}/metrics"

    def close(self) -> None:
        try:
            self.server.shutdown()
            self.server.server_close()
        finally:
            self.provider.shutdown()


_SHELL_KEYS = {"takeovers_started", "takeovers_finished", "expelled", "view_id", "view_size",
               "up"}

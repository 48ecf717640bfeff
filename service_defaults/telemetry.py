"""OpenTelemetry tracing for one process, set up from the standard `OTEL_*` variables.

Tracing is on when an OTLP endpoint is configured (`OTEL_EXPORTER_OTLP_ENDPOINT`
or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) and `OTEL_SDK_DISABLED` is not true;
spans then go out over OTLP/HTTP in batches. Off, nothing is wrapped at all:
no middleware, no transport, no hook, so the hot paths cost what they did.

Each app holds its own `Telemetry` rather than the process-global tracer
provider, so that tests can build many apps in one process; propagation uses
the global propagator (`OTEL_PROPAGATORS`, W3C trace context by default).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

import httpx
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.instrumentation.httpx import AsyncOpenTelemetryTransport, RequestInfo
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.trace import Span, Tracer

from service_defaults import otel_settings

if TYPE_CHECKING:
    import sqlalchemy as sa
    from opentelemetry.sdk.trace import TracerProvider

# The stable HTTP attribute names (`http.response.status_code`, `url.full`,
# `url.query` apart from the path), not the old ones the instrumentations still
# default to. They read this once, from the process's environment, when the first
# of them starts: hence here, before any can.
os.environ.setdefault("OTEL_SEMCONV_STABILITY_OPT_IN", "http")
log = logging.getLogger("frontdoor.telemetry")
# Spans are the one signal exported; metrics are scraped from /metrics. A no-op
# meter keeps the instrumentations from recording histograms nobody reads.
NO_METERS = NoOpMeterProvider()
# How long a stopping process waits for its last spans to leave.
FLUSH_ON_STOP_MS = 2000

# Called as each client span starts, to add what the call is for (a BFF's upstream).
HttpRequestHook = Callable[[Span, RequestInfo], Awaitable[None]]


class Telemetry:
    """One process's tracing: off (`enabled` False), or a tracer provider exporting OTLP."""

    def __init__(self, service_name: str, provider: TracerProvider | None = None) -> None:
        self.service_name = service_name
        self.provider = provider

    @property
    def enabled(self) -> bool:
        return self.provider is not None

    def tracer(self, name: str) -> Tracer:
        return trace.get_tracer(name, tracer_provider=self.provider)

    def http_transport(
        self, transport: httpx.AsyncBaseTransport, request_hook: HttpRequestHook | None = None
    ) -> httpx.AsyncBaseTransport:
        """A client span per call made through `transport` (each retry its own call)."""
        if self.provider is None:
            return transport
        return AsyncOpenTelemetryTransport(
            transport,
            tracer_provider=self.provider,
            meter_provider=NO_METERS,
            request_hook=_describe_call(request_hook),
        )

    def instrument_engine(self, engine: sa.Engine) -> None:
        """A span per statement on this SQLAlchemy engine."""
        if self.provider is None:
            return
        # The per-engine tracer the instrumentor itself builds; its `instrument()`
        # works once per process, and tests open many engines.
        from opentelemetry.instrumentation.sqlalchemy import engine as traced_engine

        tracer = _InRequestsOnly(
            trace.get_tracer(traced_engine.__name__, tracer_provider=self.provider)
        )
        usage = NO_METERS.get_meter(__name__).create_up_down_counter("db.client.connections")
        traced_engine.EngineTracer(tracer, engine, usage)  # type: ignore[no-untyped-call]

    def shutdown(self) -> None:
        """Send what is still buffered, for `FLUSH_ON_STOP_MS` at most.

        The exporter retries a dead collector for many seconds, and a process that
        takes that long to stop is killed by its supervisor mid-way anyway: the
        flush runs in a daemon thread that is left behind when the time is up.
        """
        if self.provider is not None:
            flush = threading.Thread(target=self.provider.shutdown, daemon=True)
            flush.start()
            flush.join(FLUSH_ON_STOP_MS / 1000)


DISABLED = Telemetry("")


def create_telemetry(service_name: str, environ: Mapping[str, str] | None = None) -> Telemetry:
    """Tracing as the `OTEL_*` variables say (see `service_defaults.otel_settings`);
    `OTEL_SERVICE_NAME` names the process, else `service_name` (the deployable)."""
    environ = os.environ if environ is None else environ
    name = otel_settings.service_name(environ, service_name)
    endpoint = otel_settings.traces_endpoint(environ)
    if endpoint is None:
        return Telemetry(name)
    return Telemetry(name, otel_settings.create_tracer_provider(environ, name, endpoint))


class _InRequestsOnly(Tracer):
    """Starts spans only inside a traced operation: readiness pings and start-up
    migrations would otherwise be a trace of one statement each, every few seconds."""

    def __init__(self, tracer: Tracer) -> None:
        self._tracer = tracer

    def start_span(
        self, name: str, context: Context | None = None, *args: Any, **kwargs: Any
    ) -> Span:
        if not trace.get_current_span(context).get_span_context().is_valid:
            return trace.INVALID_SPAN
        return self._tracer.start_span(name, context, *args, **kwargs)

    def start_as_current_span(self, *args: Any, **kwargs: Any) -> Any:
        return self._tracer.start_as_current_span(*args, **kwargs)


def redacted_query(query: str | bytes) -> str:
    """The parameters' names without their values (`limit=*&cursor=*`): a span must
    not hold what a query may carry (a token a client put in a URL, say)."""
    if isinstance(query, bytes):
        query = query.decode("latin-1")
    return "&".join(f"{part.partition('=')[0]}=*" for part in query.split("&") if part)


def _describe_call(hook: HttpRequestHook | None) -> HttpRequestHook:
    async def describe(span: Span, request: RequestInfo) -> None:
        try:
            url = request.url
            if isinstance(url, httpx.URL) and url.query:
                span.set_attribute(
                    "url.full", str(url.copy_with(query=redacted_query(url.query).encode()))
                )
            if hook is not None:
                await hook(span, request)
        except Exception:  # a hook's bug must not fail the call it describes
            log.exception("span hook failed")

    return describe

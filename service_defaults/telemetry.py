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
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

import httpx
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.instrumentation.httpx import AsyncOpenTelemetryTransport, RequestInfo
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.trace import Span, Tracer

from service_defaults.settings import ConfigError

if TYPE_CHECKING:
    import aiohttp
    import redis.asyncio
    import sqlalchemy as sa
    from opentelemetry.sdk.trace import TracerProvider

log = logging.getLogger("frontdoor.telemetry")
ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
# Spans are the one signal exported; metrics are scraped from /metrics. A no-op
# meter keeps the instrumentations from recording histograms nobody reads.
NO_METERS = NoOpMeterProvider()
SAMPLERS = (
    "always_on",
    "always_off",
    "traceidratio",
    "parentbased_always_on",
    "parentbased_always_off",
    "parentbased_traceidratio",
)
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
            request_hook=_failsafe(request_hook) if request_hook else None,
        )

    def aiohttp_trace_configs(self) -> list[aiohttp.TraceConfig]:
        """For an aiohttp session: a client span per request, with trace context injected."""
        if self.provider is None:
            return []
        from opentelemetry.instrumentation._semconv import _StabilityMode
        from opentelemetry.instrumentation.aiohttp_client import create_trace_config

        # Told the semantic conventions outright: only the instrumentor reads the opt-in.
        config: aiohttp.TraceConfig = create_trace_config(
            tracer_provider=self.provider,
            meter_provider=NO_METERS,
            sem_conv_opt_in_mode=_StabilityMode.HTTP,
        )
        return [config]

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

    def instrument_redis(self, client: redis.asyncio.Redis) -> None:
        """A span per command (and per pipeline) sent by this client."""
        if self.provider is None:
            return
        from opentelemetry.instrumentation.redis import RedisInstrumentor

        RedisInstrumentor.instrument_client(client, tracer_provider=self.provider)

    def shutdown(self) -> None:
        """Send what is still buffered, briefly: a dead collector must not hold up a stop."""
        if self.provider is not None:
            self.provider.force_flush(FLUSH_ON_STOP_MS)
            self.provider.shutdown()


DISABLED = Telemetry("")


def create_telemetry(service_name: str, environ: Mapping[str, str] | None = None) -> Telemetry:
    """`OTEL_SERVICE_NAME` names the process, else `service_name` (the deployable).

    The SDK reads the rest itself: `OTEL_TRACES_SAMPLER` (parent-based always-on
    by default), `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_BSP_*` and the exporter's
    `OTEL_EXPORTER_OTLP_*` (endpoint, headers, timeout).
    """
    environ = os.environ if environ is None else environ
    # The stable HTTP attribute names (`http.response.status_code`, `url.full`),
    # not the old ones the instrumentations still default to.
    os.environ.setdefault("OTEL_SEMCONV_STABILITY_OPT_IN", "http")
    name = environ.get("OTEL_SERVICE_NAME") or service_name
    disabled = environ.get("OTEL_SDK_DISABLED", "false").strip().lower()
    if disabled not in ("true", "false", ""):
        raise ConfigError(f"OTEL_SDK_DISABLED: expected true or false, got {disabled!r}")
    if disabled == "true" or not any(environ.get(v) for v in ENDPOINT_VARIABLES):
        return Telemetry(name)
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    _check_sampler(environ)
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return Telemetry(name, provider)


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


def _check_sampler(environ: Mapping[str, str]) -> None:
    # The SDK would log a warning and sample everything: a typo must stop start-up instead.
    sampler = environ.get("OTEL_TRACES_SAMPLER", "").strip().lower()
    if sampler and sampler not in SAMPLERS:
        raise ConfigError(f"OTEL_TRACES_SAMPLER: expected one of {', '.join(SAMPLERS)}")
    if sampler.endswith("traceidratio"):
        try:
            ratio = float(environ.get("OTEL_TRACES_SAMPLER_ARG", "1.0"))
        except ValueError:
            ratio = -1.0
        if not 0.0 <= ratio <= 1.0:
            raise ConfigError("OTEL_TRACES_SAMPLER_ARG: expected a ratio between 0 and 1")


def _failsafe(hook: HttpRequestHook) -> HttpRequestHook:
    async def guarded(span: Span, request: RequestInfo) -> None:
        try:
            await hook(span, request)
        except Exception:  # a hook's bug must not fail the call it describes
            log.exception("span hook failed")

    return guarded

"""The server span of every request: OpenTelemetry's ASGI middleware, named after the route.

    [trust filter] -> OpenTelemetryMiddleware -> route namer -> the app

The maintained ASGI instrumentation starts the span and continues the caller's
trace. Its name and `http.route` need the route, which is known only once the
app has routed the request: the namer sets them when the response starts, from
the route label the app left in the scope (litestar's `path_template`, or the
edge's route name). Behind the trust filter, a caller that is not trusted to
speak for the trace (a client of the edge) starts a new trace, and what it
sent is kept as a span link.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from opentelemetry import propagate, trace
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.trace import Span
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.types import AttributeValue

from service_defaults.request_context import ROUTE_KEY, route_label
from service_defaults.telemetry import NO_METERS, Telemetry, redacted_query

# Probes and scrapes arrive every few seconds and say nothing about a request.
UNTRACED_PATHS = "/livez$,/readyz$,/metrics$"
_CLIENT_TRACE_KEY = "frontdoor.client_traceparent"
# Everything the propagators read (W3C trace context and baggage by default): a
# caller that may not continue its trace may not hand down baggage either.
_TRACE_HEADERS = tuple(name.encode() for name in propagate.get_global_textmap().fields)
_W3C = TraceContextTextMapPropagator()


def instrument_server(
    app: ASGIApp, telemetry: Telemetry, *, trusts_trace_of: Callable[[Scope], bool] | None = None
) -> ASGIApp:
    """`app` with a server span per request; `app` itself when tracing is off.

    `trusts_trace_of(scope)` says whether the caller may continue its own trace;
    without it every caller may (the services and BFFs, reached only by our own).
    """
    if not telemetry.enabled:
        return app
    traced: ASGIApp = OpenTelemetryMiddleware(  # type: ignore[assignment]  # loosely typed
        _RouteNamer(app),
        excluded_urls=UNTRACED_PATHS,
        default_span_details=_span_details,
        server_request_hook=_on_request_start,
        tracer_provider=telemetry.provider,
        meter_provider=NO_METERS,
        exclude_spans=["receive", "send"],
    )
    if trusts_trace_of is not None:
        traced = _TraceTrustFilter(traced, trusts_trace_of)
    return traced


def _span_details(scope: Scope) -> tuple[str, dict[str, Any]]:
    # Renamed to "GET /orders/{order_id:str}" once routed; the method is all that is known yet.
    return str(scope.get("method", "HTTP")), {}


class _RouteNamer:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        span = trace.get_current_span()
        if scope["type"] != ScopeType.HTTP or not span.is_recording():
            await self.app(scope, receive, send)
            return

        async def send_named(message: Message) -> None:
            if message["type"] == "http.response.start":
                _name(span, scope)
            await send(message)

        await self.app(scope, receive, send_named)


def _name(span: Span, scope: Scope) -> None:
    route = route_label(scope)
    span.update_name(f"{scope.get('method', 'HTTP')} {route}")
    attributes: dict[str, str] = {"http.route": route}
    if scope.get(ROUTE_KEY):  # a name the app gave its route (the edge's route file)
        attributes["frontdoor.route"] = route
    request_id = scope.get("state", {}).get("request_id")
    if request_id:
        attributes["frontdoor.request_id"] = request_id
    span.set_attributes(attributes)


class _TraceTrustFilter:
    """Drops the trace headers of a caller that may not continue its trace, keeping them aside."""

    def __init__(self, app: ASGIApp, trusts: Callable[[Scope], bool]) -> None:
        self.app = app
        self._trusts = trusts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP and not self._trusts(scope):
            headers = scope["headers"]
            if any(name.lower() in _TRACE_HEADERS for name, _ in headers):
                sent = next((v for k, v in headers if k.lower() == b"traceparent"), None)
                scope = {  # type: ignore[assignment]
                    **scope,
                    "headers": [(k, v) for k, v in headers if k.lower() not in _TRACE_HEADERS],
                    _CLIENT_TRACE_KEY: sent,
                }
        await self.app(scope, receive, send)


def _on_request_start(span: Span, scope: dict[str, Any]) -> None:
    if scope.get("query_string"):
        span.set_attribute("url.query", redacted_query(scope["query_string"]))
    sent = scope.get(_CLIENT_TRACE_KEY)
    if not sent:
        return
    context = trace.get_current_span(
        _W3C.extract({"traceparent": sent.decode("latin-1")})
    ).get_span_context()
    if context.is_valid:
        span.add_link(context, {"frontdoor.link": "client_traceparent"})


def annotate_request(attributes: Mapping[str, AttributeValue]) -> None:
    """Add what the pattern decided (auth outcome, limiter decision, degraded
    sections) to the span of the request being handled; nothing when untraced."""
    span = trace.get_current_span()
    if span.is_recording():
        span.set_attributes(attributes)

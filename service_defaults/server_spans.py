"""The server span of every request: OpenTelemetry's ASGI middleware, named after the route.

    OpenTelemetryMiddleware -> route namer -> the app

The maintained ASGI instrumentation starts the span and continues the caller's
trace: the BFFs and services are reached only by our own processes. Its name and
`http.route` need the route, which is known only once the app has routed the
request: the namer sets them when the response starts, from the route label the
app left in the scope (litestar's `path_template`). The edge, which decides whose
trace to continue, makes its own spans (`edge/tracing.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from opentelemetry import trace
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.trace import Span
from opentelemetry.util.types import AttributeValue

from service_defaults.request_context import route_label
from service_defaults.telemetry import NO_METERS, Telemetry, redacted_query

# Probes and scrapes arrive every few seconds and say nothing about a request.
UNTRACED_PATHS = "/livez$,/readyz$,/metrics$"


def instrument_server(app: ASGIApp, telemetry: Telemetry) -> ASGIApp:
    """`app` with a server span per request; `app` itself when tracing is off."""
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
    request_id = scope.get("state", {}).get("request_id")
    if request_id:
        attributes["frontdoor.request_id"] = request_id
    span.set_attributes(attributes)


def _on_request_start(span: Span, scope: dict[str, Any]) -> None:
    # The parameters' names, not their values (see `redacted_query`).
    if scope.get("query_string"):
        span.set_attribute("url.query", redacted_query(scope["query_string"]))


def annotate_request(attributes: Mapping[str, AttributeValue]) -> None:
    """Add what the pattern decided (auth outcome, limiter decision, degraded
    sections) to the span of the request being handled; nothing when untraced."""
    span = trace.get_current_span()
    if span.is_recording():
        span.set_attributes(attributes)

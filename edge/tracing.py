"""The edge's spans, made by hand: one per proxied request, one per upstream call.

Everywhere else the maintained instrumentations make the spans. Here they would
cost the edge 45% of its throughput before a single span is recorded (measured
with `OTEL_TRACES_SAMPLER=always_off`: OpenTelemetry's ASGI middleware and aiohttp
trace hooks build their attributes and wrappers for every request whether sampled
or not), on the one process every request crosses. These two spans carry the same
semantic-convention attributes with a fraction of the work.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from opentelemetry import context, propagate, trace
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode, Tracer
from yarl import URL

from service_defaults.request_context import ROUTE_KEY, route_label
from service_defaults.telemetry import Telemetry, redacted_query

# Everything the propagators read (W3C trace context and baggage by default).
TRACE_HEADERS = frozenset(name.encode() for name in propagate.get_global_textmap().fields)


def _carrier(headers: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    return {
        name.decode("latin-1").lower(): value.decode("latin-1")
        for name, value in headers
        if name.lower() in TRACE_HEADERS
    }


class EdgeServerSpans:
    """A server span around each request but the edge's own probes and scrapes.

    Only a caller that `trusts_trace_of` accepts (a proxy in front of the edge)
    continues its trace; anyone else starts a new one, and the traceparent it sent
    becomes a span link, so no client can join or flood a trace it likes.
    """

    def __init__(
        self,
        app: ASGIApp,
        tracer: Tracer,
        *,
        untraced: frozenset[str],
        trusts_trace_of: Callable[[Scope], bool],
    ) -> None:
        self.app = app
        self._tracer = tracer
        self._untraced = untraced
        self._trusts = trusts_trace_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["path"] in self._untraced:
            await self.app(scope, receive, send)
            return
        sent = _carrier(scope["headers"])
        parent: context.Context | None = None
        links: tuple[Link, ...] = ()
        if sent and self._trusts(scope):
            parent = propagate.extract(sent)
        elif "traceparent" in sent:
            client = trace.get_current_span(propagate.extract(sent)).get_span_context()
            links = (
                (Link(client, {"frontdoor.link": "client_traceparent"}),) if client.is_valid else ()
            )
        method = scope["method"]
        attributes: dict[str, Any] = {
            "http.request.method": method,
            "url.scheme": scope.get("scheme", "https"),
            "url.path": scope["path"],
            "network.protocol.version": scope.get("http_version", "1.1"),
        }
        if query := scope.get("query_string"):
            attributes["url.query"] = redacted_query(query)
        if client_peer := scope.get("client"):
            attributes["client.address"] = client_peer[0]
        span = self._tracer.start_span(
            method, parent, kind=SpanKind.SERVER, attributes=attributes, links=links
        )
        token = context.attach(trace.set_span_in_context(span, parent))

        async def send_traced(message: Message) -> None:
            if message["type"] == "http.response.start":
                _answered(span, scope, message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_traced)
        except BaseException as exc:
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            raise
        finally:
            context.detach(token)
            span.end()


def _answered(span: Span, scope: Scope, status: int) -> None:
    route = route_label(scope)
    span.update_name(f"{scope['method']} {route}")  # type: ignore[typeddict-item]
    attributes: dict[str, Any] = {"http.route": route, "http.response.status_code": status}
    if scope.get(ROUTE_KEY):
        attributes["frontdoor.route"] = route
    if request_id := scope.get("state", {}).get("request_id"):
        attributes["frontdoor.request_id"] = request_id
    span.set_attributes(attributes)
    if status >= 500:  # a server span's error is the server's own failure, not a 4xx
        span.set_status(Status(StatusCode.ERROR))


class UpstreamCallSpans:
    """The client span of one upstream call, and the trace context it sends."""

    def __init__(self, telemetry: Telemetry) -> None:
        self._tracer = telemetry.tracer("frontdoor.edge.proxy")

    def start(self, method: str, url: URL) -> tuple[Span, list[tuple[bytes, bytes]]]:
        """The span, and the headers (`traceparent`, ...) that make it the upstream's parent."""
        attributes: dict[str, Any] = {
            "http.request.method": method,
            "server.address": url.host or "",
            "server.port": url.port or 80,
            "url.full": str(url.with_query(redacted_query(url.raw_query_string))),
        }
        span = self._tracer.start_span(method, kind=SpanKind.CLIENT, attributes=attributes)
        carrier: dict[str, str] = {}
        propagate.inject(carrier, context=trace.set_span_in_context(span))
        return span, [(k.encode("latin-1"), v.encode("latin-1")) for k, v in carrier.items()]

    @staticmethod
    def answered(span: Span, status: int) -> None:
        span.set_attribute("http.response.status_code", status)
        if status >= 400:  # a client span's error is any failed answer
            span.set_status(Status(StatusCode.ERROR))

    @staticmethod
    def failed(span: Span, exc: BaseException) -> None:
        span.record_exception(exc)
        span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
        span.set_attribute("error.type", type(exc).__name__)

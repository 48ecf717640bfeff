"""The edge's spans, made by hand: one per proxied request, one per upstream call.

Everywhere else the maintained instrumentations make the spans. Here they would
cost the edge 45% of its throughput before a single span is recorded (measured
with `OTEL_TRACES_SAMPLER=always_off`: OpenTelemetry's ASGI middleware and aiohttp
trace hooks build their attributes and wrappers for every request whether sampled
or not), on the one process every request crosses. These two spans carry the same
semantic-convention attributes with a fraction of the work.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from opentelemetry import context, propagate, trace
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode, Tracer

from edge.exchange import Exchange
from edge.request_fields import RequestFields
from service_defaults.telemetry import Telemetry, redacted_query

# Everything the propagators read (W3C trace context and baggage by default).
TRACE_HEADERS = frozenset(name.encode() for name in propagate.get_global_textmap().fields)


def _carrier(fields: RequestFields) -> dict[str, str]:
    return {
        name.decode("latin-1"): value.decode("latin-1")
        for name in TRACE_HEADERS
        if (value := fields.first(name)) is not None
    }


class EdgeServerSpans:
    """A server span around each proxied request (probes and scrapes get none).

    Only a caller that `trusts_trace_of` accepts (a proxy in front of the edge)
    continues its trace; anyone else starts a new one, and the traceparent it sent
    becomes a span link, so no client can join or flood a trace it likes.
    """

    def __init__(self, tracer: Tracer, *, trusts_trace_of: Callable[[str], bool]) -> None:
        self._tracer = tracer
        self._trusts = trusts_trace_of

    def start(self, exchange: Exchange, fields: RequestFields) -> tuple[Span, object]:
        """The span, current until `finish` is given the token returned with it."""
        sent = _carrier(fields)
        parent: context.Context | None = None
        links: tuple[Link, ...] = ()
        if sent and self._trusts(exchange.peer):
            parent = propagate.extract(sent)
        elif "traceparent" in sent:
            client = trace.get_current_span(propagate.extract(sent)).get_span_context()
            links = (
                (Link(client, {"frontdoor.link": "client_traceparent"}),) if client.is_valid else ()
            )
        attributes: dict[str, Any] = {
            "http.request.method": exchange.method,
            "url.scheme": "https",
            "url.path": exchange.raw_path.decode("latin-1"),
            "network.protocol.version": exchange.http_version,
            "client.address": exchange.peer,
        }
        if exchange.query:
            attributes["url.query"] = redacted_query(exchange.query)
        span = self._tracer.start_span(
            exchange.method, parent, kind=SpanKind.SERVER, attributes=attributes, links=links
        )
        return span, context.attach(trace.set_span_in_context(span, parent))

    @staticmethod
    def finish(span: Span, token: object, exchange: Exchange, notes: dict[str, str | int]) -> None:
        route = exchange.route or "unmatched"
        span.update_name(f"{exchange.method} {route}")
        attributes: dict[str, Any] = {
            **notes,
            "http.route": route,
            "http.response.status_code": exchange.status,
            "frontdoor.request_id": exchange.request_id,
        }
        if exchange.route:
            attributes["frontdoor.route"] = route
        span.set_attributes(attributes)
        if exchange.status >= 500 or not exchange.status:
            # A server span's error is the server's own failure, not a 4xx.
            span.set_status(Status(StatusCode.ERROR))
        context.detach(token)  # type: ignore[arg-type]  # the token `start` returned
        span.end()


class UpstreamCallSpans:
    """The client span of one upstream call, and the trace context it sends."""

    def __init__(self, telemetry: Telemetry) -> None:
        self._tracer = telemetry.tracer("frontdoor.edge.proxy")

    def start(
        self, method: str, origin: str, target: bytes
    ) -> tuple[Span, list[tuple[bytes, bytes]]]:
        """The span, and the headers (`traceparent`, ...) that make it the upstream's parent."""
        address = urlsplit(origin)
        path, _, query = target.partition(b"?")
        shown = path.decode("latin-1") + ("?" + redacted_query(query) if query else "")
        attributes: dict[str, Any] = {
            "http.request.method": method,
            "server.address": address.hostname or "",
            "server.port": address.port or 80,
            "url.full": origin + shown,
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

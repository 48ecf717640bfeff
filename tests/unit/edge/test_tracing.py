"""The edge's own spans: whose trace it continues, what it links, what it sends on."""

from __future__ import annotations

from types import SimpleNamespace
from typing import cast

from opentelemetry import baggage, trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from edge.exchange import Exchange
from edge.request_fields import RequestFields
from edge.tracing import EdgeServerSpans, UpstreamCallSpans
from service_defaults.telemetry import Telemetry

CLIENT_TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CLIENT_TRACEPARENT = f"00-{CLIENT_TRACE_ID}-00f067aa0ba902b7-01".encode()


def request(
    telemetry: Telemetry, headers: list[tuple[bytes, bytes]], *, trusted: bool, status: int = 200
) -> list[object]:
    """One request through the server spans; what the proxy saw of the baggage."""
    exchange = SimpleNamespace(
        method="GET",
        raw_path=b"/api/web/dashboard",
        query=b"limit=5&token=s3cret",
        http_version="1.1",
        peer="203.0.113.7",
        route="",
        status=0,
        request_id="rid-1",
    )
    spans = EdgeServerSpans(telemetry.tracer("test"), trusts_trace_of=lambda _: trusted)
    span, token = spans.start(cast("Exchange", exchange), RequestFields(headers))
    seen = [baggage.get_baggage("tenant")]
    exchange.route, exchange.status = "web", status
    EdgeServerSpans.finish(span, token, cast("Exchange", exchange), {})
    return seen


def test_a_trusted_proxy_continues_its_trace(
    telemetry: Telemetry, exported: InMemorySpanExporter
) -> None:
    request(telemetry, [(b"traceparent", CLIENT_TRACEPARENT)], trusted=True)

    [span] = exported.get_finished_spans()
    assert f"{span.context.trace_id:032x}" == CLIENT_TRACE_ID
    assert span.links == ()


def test_an_untrusted_client_starts_a_new_trace_linked_to_its_own(
    telemetry: Telemetry, exported: InMemorySpanExporter
) -> None:
    seen = request(
        telemetry,
        [(b"traceparent", CLIENT_TRACEPARENT), (b"baggage", b"tenant=admin")],
        trusted=False,
    )

    [span] = exported.get_finished_spans()
    assert f"{span.context.trace_id:032x}" != CLIENT_TRACE_ID
    assert span.parent is None
    [link] = span.links
    assert f"{link.context.trace_id:032x}" == CLIENT_TRACE_ID
    assert seen == [None], "an untrusted caller's baggage is not handed down"


def test_the_server_span_names_the_route_request_id_and_status(
    telemetry: Telemetry, exported: InMemorySpanExporter
) -> None:
    request(telemetry, [], trusted=False, status=503)

    [span] = exported.get_finished_spans()
    assert span.kind == SpanKind.SERVER
    assert span.name == "GET web"
    assert span.attributes is not None
    assert span.attributes["http.route"] == span.attributes["frontdoor.route"] == "web"
    assert span.attributes["frontdoor.request_id"] == "rid-1"
    assert span.attributes["http.response.status_code"] == 503
    assert span.attributes["url.query"] == "limit=*&token=*"
    assert span.status.status_code == StatusCode.ERROR


def test_an_upstream_call_sends_its_own_span_as_the_parent(
    telemetry: Telemetry, exported: InMemorySpanExporter
) -> None:
    calls = UpstreamCallSpans(telemetry)
    with telemetry.tracer("test").start_as_current_span("request") as server:
        span, headers = calls.start("GET", "http://127.0.0.1:8101", b"/api/web/x?cursor=abc")
        UpstreamCallSpans.answered(span, 502)
        span.end()

    [call] = [s for s in exported.get_finished_spans() if s.kind == SpanKind.CLIENT]
    assert call.parent is not None and call.parent.span_id == server.get_span_context().span_id
    sent = dict(headers)[b"traceparent"].decode()
    assert sent.startswith(f"00-{call.context.trace_id:032x}-{call.context.span_id:016x}-")
    assert call.attributes is not None
    assert call.attributes["url.full"] == "http://127.0.0.1:8101/api/web/x?cursor=*"
    assert call.status.status_code == StatusCode.ERROR
    assert trace.get_current_span() is trace.INVALID_SPAN

"""The edge's own spans: whose trace it continues, what it links, what it sends on."""

from __future__ import annotations

from litestar.types import HTTPRequestEvent, Message, Receive, Scope, Send
from opentelemetry import baggage, trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from yarl import URL

from edge.tracing import EdgeServerSpans, UpstreamCallSpans
from service_defaults.request_context import ROUTE_KEY
from service_defaults.telemetry import Telemetry

CLIENT_TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CLIENT_TRACEPARENT = f"00-{CLIENT_TRACE_ID}-00f067aa0ba902b7-01".encode()


async def request(
    telemetry: Telemetry, headers: list[tuple[bytes, bytes]], *, trusted: bool, status: int = 200
) -> list[object]:
    """One request through the server spans; what the app saw of the baggage."""
    seen: list[object] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        scope[ROUTE_KEY] = "web"  # type: ignore[literal-required]
        seen.append(baggage.get_baggage("tenant"))
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def receive() -> HTTPRequestEvent:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        pass

    spans = EdgeServerSpans(
        app,
        telemetry.tracer("test"),
        untraced=frozenset({"/readyz"}),
        trusts_trace_of=lambda _: trusted,
    )
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/api/web/dashboard",
        "query_string": b"limit=5&token=s3cret",
        "headers": headers,
        "client": ("203.0.113.7", 5000),
        "state": {"request_id": "rid-1"},
    }
    await spans(scope, receive, send)  # type: ignore[arg-type]
    return seen


async def test_a_trusted_proxy_continues_its_trace(
    telemetry: Telemetry, exported: InMemorySpanExporter
) -> None:
    await request(telemetry, [(b"traceparent", CLIENT_TRACEPARENT)], trusted=True)

    [span] = exported.get_finished_spans()
    assert f"{span.context.trace_id:032x}" == CLIENT_TRACE_ID
    assert span.links == ()


async def test_an_untrusted_client_starts_a_new_trace_linked_to_its_own(
    telemetry: Telemetry, exported: InMemorySpanExporter
) -> None:
    seen = await request(
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


async def test_the_server_span_names_the_route_request_id_and_status(
    telemetry: Telemetry, exported: InMemorySpanExporter
) -> None:
    await request(telemetry, [], trusted=False, status=503)

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
        span, headers = calls.start("GET", URL("http://127.0.0.1:8101/api/web/x?cursor=abc"))
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

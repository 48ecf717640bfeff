"""Each attempt of a BFF's call is a client span that names its upstream, retry and circuit."""

from __future__ import annotations

import httpx
import respx
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from bff_kit.settings import BffSettings
from bff_kit.upstreams import Upstreams
from service_defaults.telemetry import Telemetry
from tests.unit.bff_kit.conftest import SERVICE, WIDGET, WIDGET_URL


async def test_a_retried_call_is_one_span_per_attempt_counting_resends() -> None:
    exported = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exported))
    with respx.MockRouter() as wire:
        wire.get(WIDGET_URL).mock(
            side_effect=[httpx.ConnectError("reset"), httpx.Response(200, json=WIDGET)]
        )
        upstreams = Upstreams(
            BffSettings(),
            network=httpx.MockTransport(wire.async_handler),
            telemetry=Telemetry("bff", provider),
        )
        async with upstreams.add("svc", SERVICE).open_client() as http:
            with provider.get_tracer("test").start_as_current_span("screen"):
                response = await http.get("/widgets/w1")

    assert response.status_code == 200
    attempts = [s for s in exported.get_finished_spans() if s.kind == SpanKind.CLIENT]
    assert [s.attributes and s.attributes["http.request.resend_count"] for s in attempts] == [0, 1]
    assert [s.status.status_code for s in attempts] == [StatusCode.ERROR, StatusCode.UNSET]
    for span in attempts:
        assert span.attributes is not None
        assert span.attributes["frontdoor.upstream"] == "svc"
        assert span.attributes["frontdoor.breaker.state"] == "closed"

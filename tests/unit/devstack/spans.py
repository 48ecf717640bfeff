"""Real spans for the trace store's tests: made by the SDK, encoded by its own OTLP encoder."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.util.types import AttributeValue

Attributes = Mapping[str, AttributeValue]


class Processes:
    """One tracer provider per service, like the five processes, all finishing into one list."""

    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self._providers: dict[str, TracerProvider] = {}

    def tracer(self, service: str) -> trace.Tracer:
        if service not in self._providers:
            provider = TracerProvider(resource=Resource.create({"service.name": service}))
            provider.add_span_processor(SimpleSpanProcessor(self.exporter))
            self._providers[service] = provider
        return self._providers[service].get_tracer("tests")

    @contextmanager
    def span(
        self,
        service: str,
        name: str,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: Attributes | None = None,
        error: str | None = None,
    ) -> Iterator[trace.Span]:
        with self.tracer(service).start_as_current_span(
            name, kind=kind, attributes=attributes, record_exception=False
        ) as span:
            if error is not None:
                span.set_status(Status(StatusCode.ERROR, error))
            yield span

    def finished(self) -> tuple[ReadableSpan, ...]:
        return self.exporter.get_finished_spans()

    def export(self) -> ExportTraceServiceRequest:
        """Every finished span in one export request, and none of them again next time."""
        spans = self.exporter.get_finished_spans()
        self.exporter.clear()
        return encode_spans(spans)

    def body(self) -> bytes:
        encoded: bytes = self.export().SerializeToString()
        return encoded


def server(request_id: str, route: str, status: int = 200, **more: AttributeValue) -> Attributes:
    return {
        "frontdoor.request_id": request_id,
        "http.request.method": "GET",
        "http.route": route,
        "url.path": route,
        "http.response.status_code": status,
        **{key.replace("__", "."): value for key, value in more.items()},
    }


def call(status: int = 200, **more: AttributeValue) -> Attributes:
    return {
        "http.request.method": "GET",
        "http.response.status_code": status,
        **{key.replace("__", "."): value for key, value in more.items()},
    }


def dashboard_request(processes: Processes, request_id: str) -> None:
    """What a web dashboard request leaves behind: the edge, the web BFF, users and orders."""
    with (
        processes.span(
            "edge", "GET web", SpanKind.SERVER, server(request_id, "web", frontdoor__route="web")
        ),
        processes.span("edge", "GET", SpanKind.CLIENT, call()),
        processes.span(
            "bff_web", "GET /api/web/dashboard", SpanKind.SERVER, server(request_id, "/dashboard")
        ),
    ):
        for upstream, route in (("users", "/users/me"), ("orders", "/orders/stats")):
            with (
                processes.span(
                    "bff_web", "GET", SpanKind.CLIENT, call(frontdoor__upstream=upstream)
                ),
                processes.span(
                    upstream, f"GET {route}", SpanKind.SERVER, server(request_id, route)
                ),
                processes.span(
                    upstream,
                    "SELECT",
                    SpanKind.CLIENT,
                    {"db.system": "sqlite", "db.statement": "SELECT 1"},
                ),
            ):
                pass

"""Tracing from the OTEL_* variables: off unless asked, spans named by route, trust at the edge."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Annotated

import httpx
import pytest
import sqlalchemy as sa
from litestar import get
from litestar.params import PathParameter
from litestar.testing import AsyncTestClient
from litestar.types import Scope
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from opentelemetry.trace import SpanKind

from service_defaults.app import create_service_app
from service_defaults.server_spans import annotate_request, instrument_server
from service_defaults.settings import ConfigError
from service_defaults.telemetry import DISABLED, Telemetry, create_telemetry

ENDPOINT = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}


def test_tracing_is_off_without_an_endpoint() -> None:
    assert not create_telemetry("orders", {}).enabled


def test_sdk_disabled_wins_over_an_endpoint() -> None:
    assert not create_telemetry("orders", {**ENDPOINT, "OTEL_SDK_DISABLED": "true"}).enabled


def test_an_endpoint_turns_tracing_on_under_the_deployables_name() -> None:
    telemetry = create_telemetry("orders", ENDPOINT)
    try:
        assert telemetry.enabled
        assert telemetry.service_name == "orders"
    finally:
        telemetry.shutdown()


def test_otel_service_name_renames_the_process() -> None:
    telemetry = create_telemetry("orders", {**ENDPOINT, "OTEL_SERVICE_NAME": "orders-eu"})
    try:
        assert telemetry.service_name == "orders-eu"
        assert telemetry.provider is not None
        assert telemetry.provider.resource.attributes["service.name"] == "orders-eu"
    finally:
        telemetry.shutdown()


@pytest.mark.parametrize(
    ("environ", "setting"),
    [
        ({"OTEL_TRACES_SAMPLER": "sometimes"}, "OTEL_TRACES_SAMPLER"),
        (
            {"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "2"},
            "OTEL_TRACES_SAMPLER_ARG",
        ),
        ({"OTEL_SDK_DISABLED": "maybe"}, "OTEL_SDK_DISABLED"),
    ],
)
def test_a_bad_tracing_variable_stops_start_up_naming_it(
    environ: dict[str, str], setting: str
) -> None:
    with pytest.raises(ConfigError, match=setting):
        create_telemetry("orders", {**ENDPOINT, **environ})


def test_untraced_app_is_not_wrapped() -> None:
    async def app(scope: Scope, receive: object, send: object) -> None: ...

    assert instrument_server(app, DISABLED) is app


@get("/things/{thing_id:int}", sync_to_thread=False)
def thing(thing_id: Annotated[int, PathParameter()]) -> dict[str, int]:
    annotate_request({"frontdoor.auth.outcome": "accepted"})
    return {"id": thing_id}


async def test_server_span_is_named_after_the_route_and_carries_the_request_id(
    telemetry: Telemetry, exported: InMemorySpanExporter
) -> None:
    app = create_service_app(title="t", route_handlers=[thing], telemetry=telemetry)
    async with AsyncTestClient(app=app) as client:
        response = await client.get("/things/7", headers={"X-Request-Id": "rid-1"})

    [span] = exported.get_finished_spans()
    assert response.status_code == 200
    assert span.kind == SpanKind.SERVER
    assert span.name == "GET /things/{thing_id}"
    assert span.attributes is not None
    assert span.attributes["http.route"] == "/things/{thing_id}"
    assert span.attributes["frontdoor.request_id"] == "rid-1"
    assert span.attributes["frontdoor.auth.outcome"] == "accepted"


async def test_unmatched_path_is_one_low_cardinality_span_name(
    telemetry: Telemetry, exported: InMemorySpanExporter
) -> None:
    app = create_service_app(title="t", route_handlers=[thing], telemetry=telemetry)
    async with AsyncTestClient(app=app) as client:
        assert (await client.get("/no/such/path/12345")).status_code == 404

    [span] = exported.get_finished_spans()
    assert span.name == "GET unmatched"


async def test_probes_are_not_traced(telemetry: Telemetry, exported: InMemorySpanExporter) -> None:
    app = create_service_app(title="t", route_handlers=[thing], telemetry=telemetry)
    async with AsyncTestClient(app=app) as client:
        assert (await client.get("/livez")).status_code == 200
        assert (await client.get("/readyz")).status_code == 200

    assert exported.get_finished_spans() == ()


async def test_traced_client_sends_its_span_as_the_trace_context(
    telemetry: Telemetry, exported: InMemorySpanExporter
) -> None:
    sent: list[httpx.Request] = []

    def downstream(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200)

    transport = telemetry.http_transport(httpx.MockTransport(downstream))
    with telemetry.tracer("test").start_as_current_span("request"):
        async with httpx.AsyncClient(transport=transport) as client:
            await client.get("http://downstream.test/thing")

    call = next(s for s in exported.get_finished_spans() if s.kind == SpanKind.CLIENT)
    assert (
        sent[0]
        .headers["traceparent"]
        .startswith(f"00-{call.context.trace_id:032x}-{call.context.span_id:016x}-")
    )


def test_statements_are_traced_inside_an_operation_only(
    telemetry: Telemetry, exported: InMemorySpanExporter
) -> None:
    engine = sa.create_engine("sqlite://")
    telemetry.instrument_engine(engine)
    with engine.connect() as connection:
        connection.execute(sa.text("SELECT 1"))  # a readiness ping, say: no trace of its own
        with telemetry.tracer("test").start_as_current_span("request"):
            connection.execute(sa.text("SELECT 2"))

    statements = [s for s in exported.get_finished_spans() if s.kind == SpanKind.CLIENT]
    assert len(statements) == 1
    assert statements[0].attributes is not None
    assert statements[0].attributes["db.statement"] == "SELECT 2"
    assert statements[0].attributes["db.system"] == "sqlite"


class StuckExporter(SpanExporter):
    """A collector that never answers: every export blocks until the test lets go."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.exporting = threading.Event()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.exporting.set()
        self.release.wait()
        return SpanExportResult.SUCCESS


def test_a_dead_collector_does_not_hold_up_the_stop() -> None:
    exporter = StuckExporter()
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(exporter))
    telemetry = Telemetry("test", provider)
    with telemetry.tracer("test").start_as_current_span("last request"):
        pass
    try:
        telemetry.shutdown()  # returns, though the export it started is still stuck

        assert exporter.exporting.is_set()
        assert not exporter.release.is_set()
    finally:
        exporter.release.set()


def test_the_sampler_comes_from_the_given_environment() -> None:
    telemetry = create_telemetry("orders", {**ENDPOINT, "OTEL_TRACES_SAMPLER": "always_off"})
    try:
        assert telemetry.provider is not None
        assert telemetry.provider.sampler is ALWAYS_OFF
    finally:
        telemetry.shutdown()


async def test_a_server_span_keeps_the_querys_names_not_its_values(
    telemetry: Telemetry, exported: InMemorySpanExporter
) -> None:
    app = create_service_app(title="t", route_handlers=[thing], telemetry=telemetry)
    async with AsyncTestClient(app=app) as client:
        await client.get("/things/1?access_token=s3cret&limit=5")

    [span] = exported.get_finished_spans()
    assert span.attributes is not None
    assert span.attributes["url.query"] == "access_token=*&limit=*"
    assert not any("s3cret" in str(value) for value in span.attributes.values())


async def test_a_client_span_keeps_the_querys_names_not_its_values(
    telemetry: Telemetry, exported: InMemorySpanExporter
) -> None:
    transport = telemetry.http_transport(httpx.MockTransport(lambda _: httpx.Response(200)))
    async with httpx.AsyncClient(transport=transport) as client:
        await client.get("http://downstream.test/orders?cursor=s3cret")

    [span] = exported.get_finished_spans()
    assert span.attributes is not None
    assert span.attributes["url.full"] == "http://downstream.test/orders?cursor=*"

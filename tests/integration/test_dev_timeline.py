"""The dev trace store as a real process, and the edge's timeline over the session stack."""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind
from opentelemetry.util.types import AttributeValue

from devstack.stack import Stack
from devstack.topology import MODULES, ProcessSpec, Topology
from tests.running_stack import bearer, free_port, login

pytestmark = pytest.mark.integration
# Spans leave each process within its batch delay (200 ms); a busy machine may take longer.
ARRIVAL_S = 10.0


def store_process(name: str, **settings: str) -> Stack:
    port = free_port()
    env = {"TRACE_STORE_PORT": str(port), "OTEL_SDK_DISABLED": "true"}
    env |= {f"TRACE_STORE_{key.upper()}": value for key, value in settings.items()}
    spec = ProcessSpec(name, MODULES["trace_store"], env, f"http://127.0.0.1:{port}/readyz")
    stack = Stack([spec], tls=ssl.create_default_context(), echo=False)
    try:
        stack.start()
    except BaseException:
        stack.stop()
        raise
    return stack


def url_of(stack: Stack) -> str:
    [spec] = stack.specs.values()
    return spec.ready_url.removesuffix("/readyz")


@pytest.fixture
def store() -> Iterator[Stack]:
    stack = store_process("trace_store")
    try:
        yield stack
    finally:
        stack.stop()


def export_one_request(endpoint: str, request_id: str) -> None:
    """What a process's tracing does: the SDK's own OTLP/HTTP exporter, protobuf over HTTP."""
    provider = TracerProvider(resource=Resource.create({"service.name": "orders"}))
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    tracer = provider.get_tracer("tests")
    attributes: dict[str, AttributeValue] = {
        "frontdoor.request_id": request_id,
        "http.route": "/orders",
        "http.status_code": 200,
    }
    with (
        tracer.start_as_current_span("GET /orders", kind=SpanKind.SERVER, attributes=attributes),
        tracer.start_as_current_span(
            "SELECT", kind=SpanKind.CLIENT, attributes={"db.system": "sqlite"}
        ),
    ):
        pass
    provider.shutdown()


def wait_for_request(base_url: str, request_id: str) -> httpx.Response:
    deadline = time.monotonic() + ARRIVAL_S
    with httpx.Client(base_url=base_url, trust_env=False) as client:
        while True:
            answer = client.get(f"/api/requests/{request_id}")
            if answer.status_code != 404 or time.monotonic() > deadline:
                return answer
            time.sleep(0.1)


def test_an_sdk_export_reaches_the_store_and_its_api(store: Stack) -> None:
    export_one_request(f"{url_of(store)}/v1/traces", "it-export-1")

    answer = wait_for_request(url_of(store), "it-export-1")

    assert answer.status_code == 200
    spans = answer.json()["spans"]
    assert [(s["name"], s["service"], s["kind"]) for s in spans] == [
        ("GET /orders", "orders", "SERVER"),
        ("SELECT", "orders", "CLIENT"),
    ]
    assert spans[1]["parent_span_id"] == spans[0]["span_id"]
    with httpx.Client(base_url=url_of(store), trust_env=False) as client:
        [summary] = client.get("/api/requests").json()
    assert (summary["request_id"], summary["status"], summary["services"]) == (
        "it-export-1",
        200,
        ["orders"],
    )


def test_the_store_forwards_every_export_unchanged(store: Stack) -> None:
    forwarding = store_process("forwarding", forward_to=url_of(store))
    try:
        export_one_request(f"{url_of(forwarding)}/v1/traces", "it-forwarded")

        here = wait_for_request(url_of(forwarding), "it-forwarded")
        there = wait_for_request(url_of(store), "it-forwarded")
    finally:
        forwarding.stop()

    assert here.status_code == there.status_code == 200
    assert here.json()["spans"] == there.json()["spans"]


def test_a_store_that_forwards_to_nothing_keeps_receiving(store: Stack) -> None:
    forwarding = store_process("forwarding", forward_to=f"http://127.0.0.1:{free_port()}")
    try:
        export_one_request(f"{url_of(forwarding)}/v1/traces", "it-dead-end")

        answer = wait_for_request(url_of(forwarding), "it-dead-end")
        ready = httpx.get(f"{url_of(forwarding)}/readyz", trust_env=False).json()
    finally:
        forwarding.stop()

    assert answer.status_code == 200
    assert ready["status"] == "ready"
    output = forwarding.processes["forwarding"].output()
    assert output.count("could not forward spans") == 1, output


def test_the_session_stack_wires_every_process_to_its_store(
    stack: Stack, topology: Topology
) -> None:
    store = topology.internal_url("trace_store")

    for name, spec in stack.specs.items():
        if name == "trace_store":
            continue
        assert spec.env["OTEL_EXPORTER_OTLP_ENDPOINT"] == store, name
        assert spec.env["OTEL_SERVICE_NAME"] == name
    assert stack.specs["edge"].env["EDGE_DEV_TRACE_STORE_URL"] == store
    assert httpx.get(f"{store}/readyz", trust_env=False).status_code == 200


def timeline_of(edge: httpx.Client, request_id: str, services: set[str]) -> dict[str, Any]:
    """The edge's JSON of one request, once spans of every one of `services` are in it."""
    deadline = time.monotonic() + ARRIVAL_S
    while True:
        answer = edge.get(f"/_dev/requests/{request_id}", params={"format": "json"})
        body: dict[str, Any] = answer.json()
        found = {span["service"] for span in body.get("spans", [])}
        if services <= found or time.monotonic() > deadline:
            assert answer.status_code == 200, body
            assert services <= found, f"spans of {sorted(found)} only"
            return body
        time.sleep(0.2)


@pytest.mark.parametrize(
    ("path", "services"),
    [
        ("/api/web/dashboard", {"edge", "bff_web", "users", "orders"}),
        ("/api/mobile/home", {"edge", "bff_mobile", "users", "orders"}),
    ],
)
def test_one_screen_request_shows_every_process_it_crossed(
    edge: httpx.Client, path: str, services: set[str]
) -> None:
    token = login(edge, "alice")
    screen = edge.get(path, headers=bearer(token))
    assert screen.status_code == 200, screen.text
    request_id = screen.headers["x-request-id"]

    body = timeline_of(edge, request_id, services)
    page = edge.get(f"/_dev/requests/{request_id}")

    assert body["request_id"] == request_id
    assert page.status_code == 200
    for service in services:
        assert f'<span class="svc">{service}</span>' in page.text
    index = edge.get("/_dev/requests").text
    assert f'href="/_dev/requests/{request_id}"' in index

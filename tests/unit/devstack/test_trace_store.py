"""The trace store's HTTP side: OTLP/HTTP in (protobuf and JSON), the query API out."""

from __future__ import annotations

import gzip
import json
from collections.abc import AsyncIterator

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from opentelemetry.trace import SpanKind

from devstack.trace_buffer import TraceBuffer
from devstack.trace_spans import BadExport, parse_json
from devstack.trace_store import MAX_BODY_BYTES, Settings, create_app, load_settings
from service_defaults.settings import ConfigError
from tests.unit.devstack.spans import Processes, dashboard_request, server

PROTOBUF = {"content-type": "application/x-protobuf"}
Client = AsyncTestClient[Litestar]


@pytest.fixture
async def store() -> AsyncIterator[Client]:
    async with AsyncTestClient(app=create_app(Settings(), TraceBuffer())) as client:
        yield client


async def test_protobuf_export_is_answered_in_protobuf_and_queryable_by_request_id(
    store: Client,
) -> None:
    processes = Processes()
    dashboard_request(processes, "rid-dashboard")

    answer = await store.post("/v1/traces", content=processes.body(), headers=PROTOBUF)

    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/x-protobuf"
    assert not ExportTraceServiceResponse.FromString(answer.content).HasField("partial_success")
    trace = (await store.get("/api/requests/rid-dashboard")).json()
    assert trace["request_id"] == "rid-dashboard"
    spans = trace["spans"]
    assert len(spans) == 9
    assert [span["start_unix_nano"] for span in spans] == sorted(
        span["start_unix_nano"] for span in spans
    )
    root = spans[0]
    assert (root["service"], root["kind"], root["parent_span_id"]) == ("edge", "SERVER", "")
    assert {span["service"] for span in spans} == {"edge", "bff_web", "users", "orders"}
    by_id = {span["span_id"]: span for span in spans}
    assert all(span["parent_span_id"] in by_id for span in spans[1:])
    bff = next(span for span in spans if span["name"] == "GET /api/web/dashboard")
    assert by_id[bff["parent_span_id"]]["kind"] == "CLIENT"
    assert bff["attributes"]["frontdoor.request_id"] == "rid-dashboard"
    assert set(bff) >= {"trace_id", "end_unix_nano", "status", "status_message", "events", "links"}


async def test_request_list_is_newest_first_with_the_root_spans_facts(store: Client) -> None:
    processes = Processes()
    dashboard_request(processes, "rid-first")
    with processes.span(
        "edge", "POST token", SpanKind.SERVER, server("rid-second", "token", status=401)
    ):
        pass
    await store.post("/v1/traces", content=processes.body(), headers=PROTOBUF)

    listed = (await store.get("/api/requests")).json()

    assert [item["request_id"] for item in listed] == ["rid-second", "rid-first"]
    second, first = listed
    assert second["status"] == 401
    assert second["services"] == ["edge"]
    assert first["services"] == ["edge", "bff_web", "users", "orders"]
    assert (first["method"], first["route"], first["status"], first["error"]) == (
        "GET",
        "web",
        200,
        False,
    )
    assert first["duration_ms"] > 0
    assert first["trace_id"] != second["trace_id"]
    assert [i["request_id"] for i in (await store.get("/api/requests?limit=1")).json()] == [
        "rid-second"
    ]


async def test_a_failed_span_marks_the_request_as_an_error(store: Client) -> None:
    processes = Processes()
    with (
        processes.span("edge", "GET web", SpanKind.SERVER, server("rid-failed", "web")),
        processes.span("edge", "GET", SpanKind.CLIENT, error="connection refused"),
    ):
        pass
    await store.post("/v1/traces", content=processes.body(), headers=PROTOBUF)

    [summary] = (await store.get("/api/requests")).json()
    spans = (await store.get("/api/requests/rid-failed")).json()["spans"]

    assert summary["error"] is True
    assert [(s["status"], s["status_message"]) for s in spans][1] == ("ERROR", "connection refused")


async def test_otlp_json_export_keeps_its_hex_ids(store: Client) -> None:
    trace_id, span_id = "5b8efff798038103d269b633813fc60c", "eee19b7ec3c1b174"
    export = {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": "users"}}]
                },
                "scopeSpans": [
                    {
                        "scope": {"name": "manual"},
                        "spans": [
                            {
                                "traceId": trace_id,
                                "spanId": span_id,
                                "name": "GET /users/me",
                                "kind": 2,
                                "startTimeUnixNano": "1700000000000000000",
                                "endTimeUnixNano": "1700000000005000000",
                                "attributes": [
                                    {"key": "frontdoor.request_id", "value": {"stringValue": "j1"}},
                                    {
                                        "key": "http.response.status_code",
                                        "value": {"intValue": "200"},
                                    },
                                ],
                                "status": {"code": 1},
                                "unknownFieldFromANewerSdk": True,
                            }
                        ],
                    }
                ],
            }
        ]
    }

    answer = await store.post("/v1/traces", json=export)

    assert answer.status_code == 200
    assert answer.json() == {}
    [span] = (await store.get(f"/api/traces/{trace_id}")).json()["spans"]
    assert (span["trace_id"], span["span_id"], span["service"]) == (trace_id, span_id, "users")
    assert (span["kind"], span["status"], span["scope"]) == ("SERVER", "OK", "manual")
    assert span["attributes"] == {"frontdoor.request_id": "j1", "http.response.status_code": 200}
    assert span["end_unix_nano"] - span["start_unix_nano"] == 5_000_000


async def test_gzip_export_is_accepted(store: Client) -> None:
    processes = Processes()
    dashboard_request(processes, "rid-gzip")

    answer = await store.post(
        "/v1/traces",
        content=gzip.compress(processes.body()),
        headers={**PROTOBUF, "content-encoding": "gzip"},
    )

    assert answer.status_code == 200
    assert (await store.get("/api/requests/rid-gzip")).status_code == 200


async def test_spans_without_valid_ids_are_counted_as_rejected(store: Client) -> None:
    span = {"traceId": "00" * 16, "spanId": "ab" * 8, "name": "zero trace id"}
    export = {"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}

    answer = await store.post("/v1/traces", json=export)

    assert answer.status_code == 200
    assert answer.json()["partialSuccess"]["rejectedSpans"] == "1"
    assert (await store.get("/api/requests")).json() == []


@pytest.mark.parametrize(
    ("content_type", "body", "status"),
    [
        ("text/plain", b"spans", 415),
        ("application/x-protobuf", b"\xff\xff\xff\xff not protobuf", 400),
        ("application/json", b"{not json", 400),
        ("application/json", b"[1, 2]", 400),
        ("application/json", b'{"resourceSpans": "many"}', 400),
        ("application/json", b"[" * 100_000, 400),
        ("application/json", b"\xff\xfe", 400),
    ],
)
async def test_bad_export_is_a_problem_not_a_crash(
    store: Client, content_type: str, body: bytes, status: int
) -> None:
    answer = await store.post("/v1/traces", content=body, headers={"content-type": content_type})

    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["status"] == status
    assert (await store.get("/readyz")).status_code == 200


async def test_export_over_the_cap_is_413(store: Client) -> None:
    answer = await store.post("/v1/traces", content=b"\0" * (MAX_BODY_BYTES + 1), headers=PROTOBUF)

    assert answer.status_code == 413
    assert answer.json()["status"] == 413


async def test_gzip_that_inflates_past_the_cap_is_413(store: Client) -> None:
    bomb = gzip.compress(b"\0" * (MAX_BODY_BYTES + 1024))

    answer = await store.post(
        "/v1/traces", content=bomb, headers={**PROTOBUF, "content-encoding": "gzip"}
    )

    assert len(bomb) < MAX_BODY_BYTES // 100
    assert answer.status_code == 413


@pytest.mark.parametrize(
    ("encoding", "body", "status"), [("br", b"x", 415), ("gzip", b"not gzip", 400)]
)
async def test_unreadable_content_encoding_is_refused(
    store: Client, encoding: str, body: bytes, status: int
) -> None:
    answer = await store.post(
        "/v1/traces", content=body, headers={**PROTOBUF, "content-encoding": encoding}
    )

    assert answer.status_code == status


@pytest.mark.parametrize("path", ["/v1/metrics", "/v1/logs"])
async def test_metrics_and_logs_are_accepted_and_dropped(store: Client, path: str) -> None:
    assert (await store.post(path, content=b"", headers=PROTOBUF)).status_code == 200
    answer = await store.post(path, json={"resourceMetrics": []})
    assert (answer.status_code, answer.json()) == (200, {})


@pytest.mark.parametrize("path", ["/api/requests/unknown", "/api/traces/" + "ab" * 16])
async def test_unknown_request_or_trace_is_a_404_problem(store: Client, path: str) -> None:
    answer = await store.get(path)

    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"


async def test_readiness_reports_how_many_traces_are_held(store: Client) -> None:
    processes = Processes()
    dashboard_request(processes, "rid-ready")
    await store.post("/v1/traces", content=processes.body(), headers=PROTOBUF)

    body = (await store.get("/readyz")).json()

    assert body["status"] == "ready"
    assert body["info"]["traces"] == "1"


def test_settings_come_from_trace_store_variables() -> None:
    settings = load_settings(
        {
            "TRACE_STORE_PORT": "9999",
            "TRACE_STORE_MAX_TRACES": "7",
            "TRACE_STORE_FORWARD_TO": "http://collector:4318/",
            "OTEL_EXPORTER_OTLP_HEADERS": "api-key=secret%20value",
        }
    )

    assert (settings.port, settings.max_traces) == (9999, 7)
    assert settings.forward_url == "http://collector:4318/v1/traces"
    assert settings.forward_headers == {"api-key": "secret value"}


def test_the_full_traces_url_wins_over_the_base_url() -> None:
    settings = Settings(forward_to="http://a:4318", forward_traces_to="http://b:4318/custom")

    assert settings.forward_url == "http://b:4318/custom"


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"TRACE_STORE_MAX_TRACES": "0"}, "TRACE_STORE_MAX_TRACES"),
        ({"TRACE_STORE_FORWARD_TO": "collector:4318"}, "TRACE_STORE_FORWARD_TO"),
        ({"TRACE_STORE_FORWARD_TO": "http://127.0.0.1:8301"}, "TRACE_STORE_FORWARD_TO"),
        (
            {
                "TRACE_STORE_PORT": "9000",
                "TRACE_STORE_FORWARD_TRACES_TO": "http://localhost:9000/v1/traces",
            },
            "TRACE_STORE_FORWARD_TO",
        ),
    ],
)
def test_bad_settings_name_their_variable(environ: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError, match=named):
        load_settings(environ)


def test_a_span_id_of_the_wrong_type_is_a_bad_export() -> None:
    span = {"traceId": 5, "name": "ids are strings"}
    body = json.dumps({"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}).encode()

    with pytest.raises(BadExport, match="not an OTLP JSON trace export"):
        parse_json(body)

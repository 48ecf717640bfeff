"""The edge's dev timeline pages, against the real trace store app in-process."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from litestar import Litestar
from litestar.di import Provide
from litestar.testing import AsyncTestClient
from opentelemetry.trace import SpanKind

from devstack.certs import ensure_dev_certificates
from devstack.stack import REPO_ROOT
from devstack.trace_buffer import TraceBuffer
from devstack.trace_spans import spans_of
from devstack.trace_store import Settings as StoreSettings
from devstack.trace_store import create_app as create_store_app
from edge.app import create_app as create_edge_app
from edge.dev_timeline import create_dev_timeline_routes, is_dev_timeline_path
from edge.settings import Settings, load_settings
from edge.trace_store_client import TraceStoreClient
from service_defaults.app import create_service_app
from service_defaults.settings import ConfigError
from tests.unit.devstack.spans import Processes, call, dashboard_request, server

Client = AsyncTestClient[Litestar]
HOSTILE = '"><script>alert(1)</script><img src=x onerror=alert(2)>'


def timeline(transport: httpx.AsyncBaseTransport) -> Litestar:
    store = TraceStoreClient(httpx.AsyncClient(base_url="http://store.test", transport=transport))
    provide = Provide(lambda: store, sync_to_thread=False)
    return create_service_app(title="edge", route_handlers=[create_dev_timeline_routes(provide)])


@pytest.fixture
def buffer() -> TraceBuffer:
    return TraceBuffer()


@pytest.fixture
async def edge(buffer: TraceBuffer) -> AsyncIterator[Client]:
    # litestar's ASGI types are narrower than httpx's, and the same protocol.
    store = httpx.ASGITransport(app=create_store_app(StoreSettings(), buffer))  # type: ignore[arg-type]
    async with AsyncTestClient(app=timeline(store)) as client:
        yield client


def held(buffer: TraceBuffer, processes: Processes) -> None:
    buffer.add(spans_of(processes.export()).spans)


def rows(page: str) -> list[str]:
    return re.findall(r'<li class="row[^"]*">', page)


async def test_the_waterfall_has_a_row_per_span_indented_by_depth(
    edge: Client, buffer: TraceBuffer
) -> None:
    processes = Processes()
    dashboard_request(processes, "rid-1")
    held(buffer, processes)

    page = await edge.get("/_dev/requests/rid-1")

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert len(rows(page.text)) == 9
    depths = [float(d) / 1.1 for d in re.findall(r"padding-left:([\d.]+)rem", page.text)]
    assert [round(d) for d in depths] == [0, 1, 2, 3, 4, 5, 3, 4, 5]
    # Coloured by process, in the order each joined the request.
    assert re.findall(r'<span class="chip s(\d)">(\w+)</span>', page.text) == [
        ("0", "edge"),
        ("1", "bff_web"),
        ("2", "users"),
        ("3", "orders"),
    ]
    assert 'style="left:0.000%;width:100.000%"' in page.text  # the root spans the whole bar
    assert "Spans may still be arriving" not in page.text


async def test_span_text_is_escaped_and_no_script_may_run(
    edge: Client, buffer: TraceBuffer
) -> None:
    processes = Processes()
    attributes = {**server("rid-evil", HOSTILE), "user_agent.original": HOSTILE}
    with processes.span("edge", HOSTILE, SpanKind.SERVER, attributes, error=HOSTILE):
        pass
    held(buffer, processes)

    for path in ("/_dev/requests/rid-evil", "/_dev/requests"):
        page = await edge.get(path)
        assert "<script" not in page.text, path
        assert "<img" not in page.text, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text, path
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "script-src" not in policy


async def test_badges_show_what_each_call_went_through(edge: Client, buffer: TraceBuffer) -> None:
    processes = Processes()
    edge_server = server(
        "rid-b",
        "web",
        frontdoor__route="web",
        frontdoor__auth__outcome="accepted",
        frontdoor__rate_limit__policy="api",
        frontdoor__rate_limit__decision="allowed",
        frontdoor__rate_limit__remaining=119,
    )
    with (
        processes.span("edge", "GET web", SpanKind.SERVER, edge_server),
        processes.span("edge", "GET", SpanKind.CLIENT, call()),
        processes.span(
            "bff_web",
            "GET /api/web/dashboard",
            SpanKind.SERVER,
            server("rid-b", "/dashboard", frontdoor__degraded_sections=["stats", "recent_orders"]),
        ),
    ):
        with processes.span(
            "bff_web",
            "GET",
            SpanKind.CLIENT,
            call(503, http__request__resend_count=2, frontdoor__breaker__state="open"),
            error="orders answered 503",
        ):
            pass
        with (
            processes.span(
                "bff_web", "GET", SpanKind.CLIENT, call(304, frontdoor__cache="not_modified")
            ),
            processes.span("users", "GET /users/me", SpanKind.SERVER, server("rid-b", "/users/me")),
            processes.span(
                "users",
                "SELECT",
                SpanKind.CLIENT,
                {"db.system": "sqlite", "db.statement": "SELECT * FROM users"},
            ),
        ):
            pass
    held(buffer, processes)

    page = (await edge.get("/_dev/requests/rid-b")).text

    for badge in (
        '<span class="badge ">edge route web</span>',
        '<span class="badge ">auth accepted</span>',
        '<span class="badge ">rate limit api: allowed, 119 left</span>',
        '<span class="badge warn">degraded: stats, recent_orders</span>',
        '<span class="badge warn">retry #2</span>',
        '<span class="badge bad">breaker open</span>',
        '<span class="badge bad">503</span>',
        '<span class="badge bad">ERROR: orders answered 503</span>',
        '<span class="badge ">cache not_modified</span>',
        '<span class="badge ">db sqlite</span>',
        '<span class="badge ok">200</span>',
        '<span class="badge ">route /dashboard</span>',
    ):
        assert badge in page, badge
    assert '<code title="SELECT * FROM users">SELECT * FROM users</code>' in page
    assert len(re.findall(r'<li class="row s\d failed">', page)) == 1


async def test_a_call_without_the_called_process_spans_yet_says_spans_are_arriving(
    edge: Client, buffer: TraceBuffer
) -> None:
    processes = Processes()
    dashboard_request(processes, "rid-partial")
    spans = spans_of(processes.export()).spans
    buffer.add([span for span in spans if span.service != "orders"])

    page = (await edge.get("/_dev/requests/rid-partial")).text

    assert "Spans may still be arriving: 1 call(s) have no spans yet" in page
    assert '<a href="/_dev/requests/rid-partial">Reload</a>' in page


async def test_a_trace_without_its_root_yet_says_spans_are_arriving(
    edge: Client, buffer: TraceBuffer
) -> None:
    processes = Processes()
    dashboard_request(processes, "rid-no-root")
    spans = spans_of(processes.export()).spans
    buffer.add([span for span in spans if span.service != "edge"])

    page = (await edge.get("/_dev/requests/rid-no-root")).text

    assert "Spans may still be arriving: the request&#x27;s first span has not arrived" in page


async def test_json_format_returns_the_stores_answer(edge: Client, buffer: TraceBuffer) -> None:
    processes = Processes()
    dashboard_request(processes, "rid-json")
    held(buffer, processes)

    answer = await edge.get("/_dev/requests/rid-json?format=json")

    assert answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert body["request_id"] == "rid-json"
    assert {span["service"] for span in body["spans"]} == {"edge", "bff_web", "users", "orders"}


async def test_an_unknown_request_is_a_friendly_404_page(edge: Client) -> None:
    page = await edge.get("/_dev/requests/not-here-yet")
    as_json = await edge.get("/_dev/requests/not-here-yet?format=json")

    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "No spans of request <code>not-here-yet</code> (yet)" in page.text
    assert '<a href="/_dev/requests/not-here-yet">Reload</a>' in page.text
    assert as_json.status_code == 404
    assert as_json.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("request_id", ["bad%20id", "x" * 129, "%3Cscript%3E", "caf%C3%A9"])
async def test_a_malformed_request_id_is_a_400_problem(edge: Client, request_id: str) -> None:
    answer = await edge.get(f"/_dev/requests/{request_id}")

    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(("output", "limit"), [("json", "0"), ("xml", "5")])
async def test_bad_query_parameters_are_problems(edge: Client, output: str, limit: str) -> None:
    answer = await edge.get(f"/_dev/requests?format={output}&limit={limit}")

    assert answer.status_code == 422  # a parameter out of range or not one of its values
    assert answer.headers["content-type"] == "application/problem+json"


def down(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


@pytest.mark.parametrize(
    ("answer", "status", "detail"),
    [
        (down, 503, "The trace store is not running"),
        (lambda _: httpx.Response(200, text="<html>"), 502, "unreadable"),
        (lambda _: httpx.Response(500), 502, "unreadable"),
    ],
)
@pytest.mark.parametrize("path", ["/_dev/requests", "/_dev/requests/rid-1"])
async def test_a_store_that_cannot_answer_is_a_problem(
    answer: Callable[[httpx.Request], httpx.Response], status: int, detail: str, path: str
) -> None:
    async with AsyncTestClient(app=timeline(httpx.MockTransport(answer))) as client:
        response = await client.get(path)

    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert detail in response.json()["detail"]


async def test_the_index_lists_requests_newest_first_linking_to_each(
    edge: Client, buffer: TraceBuffer
) -> None:
    processes = Processes()
    dashboard_request(processes, "rid-older")
    with processes.span("edge", "GET web", SpanKind.SERVER, server("rid-newer", "web", status=404)):
        pass
    # The timeline's own page views are traced too; the index leaves them out.
    route = "/_dev/requests/{request_id:str}"
    with processes.span("edge", f"GET {route}", SpanKind.SERVER, server("rid-self", route)):
        pass
    held(buffer, processes)

    page = (await edge.get("/_dev/requests")).text

    assert re.findall(r'<a href="/_dev/requests/([^"]+)">', page) == ["rid-newer", "rid-older"]
    assert '<span class="badge warn">404</span>' in page
    assert "edge, bff_web, users, orders" in page
    listed = (await edge.get("/_dev/requests?format=json&limit=1")).json()
    assert [item["request_id"] for item in listed] == ["rid-newer"]


async def test_an_empty_index_says_so(edge: Client) -> None:
    page = await edge.get("/_dev/requests")

    assert page.status_code == 200
    assert "None yet" in page.text


def test_only_the_timeline_paths_are_the_timeline() -> None:
    assert is_dev_timeline_path("/_dev/requests")
    assert is_dev_timeline_path("/_dev/requests/abc")
    assert not is_dev_timeline_path("/_dev/requestsx")
    assert not is_dev_timeline_path("/api/web/_dev/requests")


def edge_settings(tmp_path: Path, **more: str) -> Settings:
    certs = ensure_dev_certificates(tmp_path / "certs")
    return Settings(
        tls_certfile=str(certs.cert_file),
        tls_keyfile=str(certs.key_file),
        routes_file=str(REPO_ROOT / "infra" / "edge" / "routes.yaml"),
        **more,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("method", ["GET", "HEAD"])
async def test_a_production_edge_has_no_timeline(tmp_path: Path, method: str) -> None:
    app = create_edge_app(edge_settings(tmp_path, environment="production"))

    async with AsyncTestClient(app=app) as client:
        for path in ("/_dev/requests", "/_dev/requests/rid-1"):
            assert (await client.request(method, path)).status_code == 404


def test_the_store_url_is_refused_outside_dev_mode() -> None:
    environ = {
        "EDGE_TLS_CERTFILE": "cert.pem",
        "EDGE_TLS_KEYFILE": "key.pem",
        "EDGE_DEV_TRACE_STORE_URL": "http://127.0.0.1:8301",
    }

    with pytest.raises(ConfigError, match=r"EDGE_DEV_TRACE_STORE_URL .*EDGE_ENVIRONMENT=dev"):
        load_settings(environ)
    assert load_settings({**environ, "EDGE_ENVIRONMENT": "dev"}).dev_trace_store_url

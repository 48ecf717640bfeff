"""Metrics every app has: RED per route, process metrics, JWKS fetches, `/metrics` for loopback."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx
import pytest
from litestar import Litestar, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.testing import AsyncTestClient
from litestar.types import ASGIApp, Receive, Scope, Send
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from service_defaults.app import create_service_app
from service_defaults.metrics import (
    DURATION_BUCKETS,
    HttpMetrics,
    JwksFetches,
    check_networks,
    create_metrics_handler,
    create_registry,
)

REQUESTS = "frontdoor_http_requests_total"
DURATION_COUNT = "frontdoor_http_request_duration_seconds_count"
PROCESS_SERIES = (
    "process_cpu_seconds_total",
    "process_resident_memory_bytes",
    "process_open_fds",
    "python_gc_collections_total",
    "python_info",
)


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    for family in text_string_to_metric_families(generate_latest(registry).decode()):
        for series in family.samples:
            if series.name == name and series.labels == labels:
                return series.value
    return None


def series_names(registry: CollectorRegistry) -> set[str]:
    text = generate_latest(registry).decode()
    return {s.name for family in text_string_to_metric_families(text) for s in family.samples}


async def fetch(app: Litestar, path: str, *, peer: str, method: str = "GET") -> httpx.Response:
    """A request from `peer`, which the litestar test client cannot choose."""
    # Litestar's ASGI types are narrower than the plain mappings httpx names.
    transport = httpx.ASGITransport(app=app, client=(peer, 50000))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://app.test") as client:
        return await client.request(method, path)


@get("/things/{name:str}", sync_to_thread=False)
def thing(name: FromPath[str]) -> dict[str, str]:
    if name == "missing":
        raise NotFoundException("no such thing")
    return {"name": name}


@get("/broken", sync_to_thread=False)
def broken() -> None:
    raise RuntimeError("a bug")


def sample_app(registry: CollectorRegistry, **options: Any) -> Litestar:
    return create_service_app(
        title="t", route_handlers=[thing, broken], registry=registry, **options
    )


@pytest.mark.parametrize(
    ("peer", "status"),
    [("127.0.0.1", 200), ("::1", 200), ("127.0.0.2", 404), ("10.0.0.7", 404)],
    ids=["loopback-v4", "loopback-v6", "other-loopback-address", "another-host"],
)
async def test_metrics_answer_only_loopback_by_default(peer: str, status: int) -> None:
    app = sample_app(create_registry())

    response = await fetch(app, "/metrics", peer=peer)

    assert response.status_code == status
    assert ("process_cpu_seconds_total" in response.text) is (status == 200)


async def test_the_test_clients_peer_without_an_address_is_refused() -> None:
    async with AsyncTestClient(app=sample_app(create_registry())) as client:
        response = await client.get("/metrics")

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("allowed_from", "peer", "status"),
    [
        ([], "127.0.0.1", 404),
        (["10.0.0.0/8"], "10.1.2.3", 200),
        (["10.0.0.0/8"], "127.0.0.1", 404),
    ],
    ids=["nobody", "the-network-allowed", "loopback-not-listed"],
)
async def test_metrics_answer_the_networks_configured(
    allowed_from: Sequence[str], peer: str, status: int
) -> None:
    app = sample_app(create_registry(), metrics_allowed_from=allowed_from)

    response = await fetch(app, "/metrics", peer=peer)

    assert response.status_code == status


async def test_a_handler_with_no_allow_list_answers_anyone() -> None:
    registry = create_registry()
    Counter("sample_events", "Events.", registry=registry).inc()
    app = Litestar(route_handlers=[create_metrics_handler(registry, allowed_from=None)])

    response = await fetch(app, "/metrics", peer="203.0.113.9")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "sample_events_total 1.0" in response.text


def test_a_registry_carries_the_process_metrics() -> None:
    assert set(PROCESS_SERIES) <= series_names(create_registry())


async def test_requests_are_counted_by_route_template_method_and_status() -> None:
    registry = create_registry()
    app = sample_app(registry)
    async with AsyncTestClient(app=app) as client:
        for name in ("a", "b", "c"):
            assert (await client.get(f"/things/{name}")).status_code == 200
        assert (await client.get("/things/missing")).status_code == 404
        assert (await client.get("/nowhere/at/all")).status_code == 404
        assert (await client.delete("/things/a")).status_code == 405
        assert (await client.get("/broken")).status_code == 500

    route = "/things/{name}"
    assert sample(registry, REQUESTS, route=route, method="GET", status="200") == 3
    assert sample(registry, REQUESTS, route=route, method="GET", status="404") == 1
    assert sample(registry, REQUESTS, route="unmatched", method="GET", status="404") == 1
    assert sample(registry, REQUESTS, route="unmatched", method="DELETE", status="405") == 1
    assert sample(registry, REQUESTS, route="/broken", method="GET", status="500") == 1
    assert sample(registry, DURATION_COUNT, route=route, method="GET") == 4
    # The raw path never becomes a label value.
    assert "/things/a" not in generate_latest(registry).decode()


async def test_a_made_up_method_is_counted_as_other() -> None:
    registry = create_registry()

    await fetch(sample_app(registry), "/things/a", peer="127.0.0.1", method="BREW")

    assert sample(registry, REQUESTS, route="unmatched", method="_OTHER", status="405") == 1
    assert "BREW" not in generate_latest(registry).decode()


def test_the_recorder_keeps_one_series_per_label_set() -> None:
    registry = CollectorRegistry()
    metrics = HttpMetrics(registry)

    metrics.record("/a", "GET", 200, 0.003)
    metrics.record("/a", "GET", 200, 0.2)
    metrics.record("/a", "GET", 503, 4.0)

    assert sample(registry, REQUESTS, route="/a", method="GET", status="200") == 2
    assert sample(registry, REQUESTS, route="/a", method="GET", status="503") == 1
    bucket = "frontdoor_http_request_duration_seconds_bucket"
    assert sample(registry, bucket, route="/a", method="GET", le="0.005") == 1
    assert sample(registry, bucket, route="/a", method="GET", le="0.25") == 2
    assert sample(registry, bucket, route="/a", method="GET", le="10.0") == 3


async def test_litestar_writes_the_path_template_into_the_scope_the_outer_middleware_holds() -> (
    None
):
    app = sample_app(create_registry())
    seen: list[Scope] = []

    def spy(inner: ASGIApp) -> ASGIApp:
        async def outermost(scope: Scope, receive: Receive, send: Send) -> None:
            seen.append(scope)
            await inner(scope, receive, send)

        return outermost

    app.asgi_handler = spy(app.asgi_handler)
    async with AsyncTestClient(app=app) as client:
        await client.get("/things/a")

    [scope] = seen
    assert scope.get("path_template") == "/things/{name}"


def test_jwks_fetches_show_both_outcomes_from_the_start() -> None:
    registry = CollectorRegistry()
    fetches = JwksFetches(registry)

    assert sample(registry, "frontdoor_jwks_fetches_total", outcome="ok") == 0
    fetches("ok")
    fetches("ok")
    fetches("failed")

    assert sample(registry, "frontdoor_jwks_fetches_total", outcome="ok") == 2
    assert sample(registry, "frontdoor_jwks_fetches_total", outcome="failed") == 1


def test_an_entry_that_is_no_network_is_refused_naming_the_variable() -> None:
    check_networks("X_METRICS_ALLOWED_FROM", ["10.0.0.0/8", "::1"])

    with pytest.raises(ValueError, match=r"^X_METRICS_ALLOWED_FROM: 'nonsense' is not"):
        check_networks("X_METRICS_ALLOWED_FROM", ["10.0.0.0/8", "nonsense"])


def test_the_recorder_writes_what_prometheus_clients_own_metrics_write() -> None:
    # What dashboards and the devstack parse was written by prometheus_client's
    # Counter and Histogram: the same names, help, labels, buckets and numbers.
    registry, reference = CollectorRegistry(), CollectorRegistry()
    metrics = HttpMetrics(registry)
    requests = Counter(
        "frontdoor_http_requests",
        "Requests answered, by route, method and status.",
        ["route", "method", "status"],
        registry=reference,
    )
    durations = Histogram(
        "frontdoor_http_request_duration_seconds",
        "Time from the request's arrival to the end of its response, by route and method.",
        ["route", "method"],
        buckets=DURATION_BUCKETS,
        registry=reference,
    )
    # On a bound, between bounds, past the last one; a second route and status.
    for route, status, duration_s in [
        ("/a", 200, 0.001),
        ("/a", 200, 0.0031),
        ("/a", 200, 2.5),
        ("/a", 503, 12.0),
        ("/b/{id}", 404, 0.0),
    ]:
        metrics.record(route, "GET", status, duration_s)
        requests.labels(route, "GET", str(status)).inc()
        durations.labels(route, "GET").observe(duration_s)

    assert generate_latest(registry).decode() == generate_latest(reference).decode()


def test_a_second_recorder_in_one_registry_is_refused() -> None:
    registry = CollectorRegistry()
    HttpMetrics(registry)

    with pytest.raises(ValueError, match="Duplicated timeseries"):
        HttpMetrics(registry)

"""What the edge tells its operators: /livez, /readyz and Prometheus metrics."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.edge_harness import EdgeUnderTest, edge_under_test

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EdgeUnderTest]:
    with edge_under_test(tmp_path_factory.mktemp("edge-observability")) as running:
        yield running


@pytest.fixture(scope="module")
def client(edge: EdgeUnderTest) -> Iterator[httpx.Client]:
    with edge.client() as running:
        yield running


def sample(client: httpx.Client, name: str, **labels: str) -> float:
    """The current value of one series on /metrics, 0 if it does not exist yet."""
    response = client.get("/metrics")
    assert response.status_code == 200
    for family in text_string_to_metric_families(response.text):
        for series in family.samples:
            if series.name == name and series.labels == labels:
                return float(series.value)
    return 0.0


def test_livez_is_200(client: httpx.Client) -> None:
    response = client.get("/livez")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reports_routes_and_jwks_ok(client: httpx.Client) -> None:
    response = client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"routes": "ok", "jwks": "ok"}}


def test_metrics_are_prometheus_text_for_a_local_caller(client: httpx.Client) -> None:
    response = client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "# TYPE frontdoor_http_requests_total counter" in response.text


def test_requests_are_counted_by_route_method_and_status(client: httpx.Client) -> None:
    ok = {"route": "open", "method": "GET", "status": "200"}
    missing = {"route": "unmatched", "method": "GET", "status": "404"}
    refused = {"route": "get-only", "method": "POST", "status": "405"}
    before = [sample(client, "frontdoor_http_requests_total", **s) for s in (ok, missing, refused)]

    for _ in range(3):
        assert client.get("/open/x").status_code == 200
    assert client.get(f"/nowhere/{uuid.uuid4().hex}").status_code == 404
    assert client.post("/readonly").status_code == 405

    after = [sample(client, "frontdoor_http_requests_total", **s) for s in (ok, missing, refused)]
    assert [a - b for a, b in zip(after, before, strict=True)] == [3, 1, 1]
    duration = "frontdoor_http_request_duration_seconds_count"
    assert sample(client, duration, route="open", method="GET") >= 3


def test_rate_limit_decisions_are_counted(client: httpx.Client) -> None:
    allowed = {"policy": "per-address", "decision": "allowed"}
    limited = {"policy": "per-address", "decision": "limited"}
    before = [
        sample(client, "frontdoor_edge_rate_limit_decisions_total", **s) for s in (allowed, limited)
    ]

    statuses = [client.get("/anon-limited/x").status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    after = [
        sample(client, "frontdoor_edge_rate_limit_decisions_total", **s) for s in (allowed, limited)
    ]
    assert [a - b for a, b in zip(after, before, strict=True)] == [3, 1]


def test_upstream_errors_are_counted_by_route_and_kind(client: httpx.Client) -> None:
    series = {"route": "dead", "kind": "unreachable"}
    before = sample(client, "frontdoor_edge_upstream_errors_total", **series)

    assert client.get("/dead/x").status_code == 502

    assert sample(client, "frontdoor_edge_upstream_errors_total", **series) - before == 1
    assert (
        sample(client, "frontdoor_http_requests_total", route="dead", method="GET", status="502")
        >= 1
    )

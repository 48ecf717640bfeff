"""The web BFF as a process: its page and script, /metrics, /readyz, circuits, dev-only faults."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from bff_web.app import create_app
from tests.unit.bff_web.conftest import (
    AUTH,
    PROBLEM_JSON,
    Client,
    Services,
    metric,
    scrape,
    web_settings,
)

DASHBOARD = "/api/web/dashboard"
CALLS = "frontdoor_bff_upstream_calls_total"
RETRIES = "frontdoor_bff_upstream_retries_total"


async def test_root_serves_the_web_page(client: Client) -> None:
    response = await client.get("/")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["cache-control"] == "no-cache"
    assert "<html" in response.text.lower()


async def test_script_is_served_under_app(client: Client) -> None:
    response = await client.get("/app/app.js")

    assert response.status_code == 200
    assert "javascript" in response.headers["content-type"]
    assert "/api/web/" in response.text


async def test_metrics_count_upstream_calls_by_outcome(client: Client) -> None:
    await client.get(DASHBOARD, headers=AUTH)

    response = await scrape(client)

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert metric(response.text, CALLS, upstream="users", outcome="ok") == 1.0
    assert metric(response.text, CALLS, upstream="orders", outcome="ok") == 2.0


async def test_readyz_shows_both_circuits_closed(client: Client) -> None:
    response = await client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["info"] == {"circuit:users": "closed", "circuit:orders": "closed"}


async def test_open_orders_circuit_degrades_the_dashboard_without_calling_orders(
    services: Services,
) -> None:
    app = create_app(web_settings(breaker_failure_threshold=2), transport=services.transport)
    services.orders_down()
    async with AsyncTestClient(app=app) as client:
        await client.get(DASHBOARD, headers=AUTH)  # opens the orders circuit
        calls_so_far = [route.call_count for route in services.dashboard_orders]

        response = await client.get(DASHBOARD, headers=AUTH)
        readyz = await client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["degraded"] == ["recent_orders", "stats"]
    assert [route.call_count for route in services.dashboard_orders] == calls_so_far
    # Shown for people, not acted on: the BFF stays ready with one service down.
    assert readyz.status_code == 200
    assert readyz.json()["info"] == {"circuit:users": "closed", "circuit:orders": "open"}


# Fault injection: dev mode only


async def test_orders_down_fault_degrades_the_dashboard_without_calling_orders(
    dev_client: Client, services: Services
) -> None:
    response = await dev_client.get(DASHBOARD, headers={**AUTH, "X-Fault": "orders=down"})

    assert response.status_code == 200
    assert response.json()["degraded"] == ["recent_orders", "stats"]
    assert response.headers["x-degraded"] == "recent_orders, stats"
    assert not any(route.called for route in services.dashboard_orders)
    assert services.me.called


async def test_users_503_fault_is_retried_then_fails_the_dashboard_with_502(
    dev_client: Client, services: Services
) -> None:
    response = await dev_client.get(DASHBOARD, headers={**AUTH, "X-Fault": "users=status:503"})
    metrics = await scrape(dev_client)

    assert response.status_code == 502
    assert response.headers["content-type"] == PROBLEM_JSON
    assert not services.me.called
    # Three attempts, one call: the breaker and the outcome count the call once.
    assert metric(metrics.text, RETRIES, upstream="users") == 2.0
    assert metric(metrics.text, CALLS, upstream="users", outcome="status_503") == 1.0


async def test_slow_orders_fault_past_the_edge_budget_degrades_the_dashboard(
    dev_client: Client,
) -> None:
    # The budget leaves the (mocked) users call room on a loaded machine; orders
    # sleeps well past it.
    headers = {**AUTH, "X-Fault": "orders=slow:3000", "x-request-budget-ms": "500"}

    response = await dev_client.get(DASHBOARD, headers=headers)

    assert response.status_code == 200
    assert response.json()["degraded"] == ["recent_orders", "stats"]


async def test_slow_orders_fault_within_the_budget_only_delays(dev_client: Client) -> None:
    response = await dev_client.get(DASHBOARD, headers={**AUTH, "X-Fault": "orders=slow:50"})

    assert response.status_code == 200
    assert response.json()["degraded"] == []


async def test_fault_header_is_ignored_in_production(client: Client, services: Services) -> None:
    response = await client.get(DASHBOARD, headers={**AUTH, "X-Fault": "orders=down"})

    assert response.status_code == 200
    assert response.json()["degraded"] == []
    assert all(route.called for route in services.dashboard_orders)

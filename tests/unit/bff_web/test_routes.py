"""The web BFF's dashboard: one round trip, a required profile, optional orders and stats."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.unit.bff_web.conftest import (
    AUTH,
    PROBLEM_JSON,
    PROFILE,
    STATS,
    Client,
    Services,
    order,
    page,
    slow,
)
from tests.unit.fake_services import Rendezvous

DASHBOARD = "/api/web/dashboard"


# The dashboard: the profile is required, recent orders and statistics are optional


async def test_dashboard_combines_the_profile_recent_orders_and_stats(
    client: Client, services: Services
) -> None:
    placed = order("00000000000000000000000000000004", "placed", "EUR", 1500, 2, 1)
    services.orders.respond(
        json=page(placed, order("00000000000000000000000000000002", "shipped", "USD", 700, 1))
    )

    response = await client.get(DASHBOARD, headers=AUTH)

    assert response.status_code == 200
    assert "x-degraded" not in response.headers
    body = response.json()
    assert body == {
        "profile": {
            "id": PROFILE["id"],
            "display_name": PROFILE["display_name"],
            "email": PROFILE["email"],
        },
        "recent_orders": [
            {
                "id": "00000000000000000000000000000004",
                "status": "placed",
                "created_at": "2026-11-20T10:00:00Z",
                "item_count": 3,
                "total": {"currency": "EUR", "amount_minor": 1500},
                "items": placed["items"],
            },
            {
                "id": "00000000000000000000000000000002",
                "status": "shipped",
                "created_at": "2026-11-20T10:00:00Z",
                "item_count": 1,
                "total": {"currency": "USD", "amount_minor": 700},
                "items": [
                    {"sku": "SKU-0", "name": "Item 0", "quantity": 1, "unit_price_minor": 100}
                ],
            },
        ],
        "stats": STATS,
        "degraded": [],
    }


async def test_dashboard_without_orders_has_an_empty_list_not_a_degraded_one(
    client: Client,
) -> None:
    response = await client.get(DASHBOARD, headers=AUTH)

    assert response.status_code == 200
    assert response.json()["recent_orders"] == []
    assert response.json()["degraded"] == []


async def test_dashboard_asks_for_the_five_most_recent_orders(
    client: Client, services: Services
) -> None:
    await client.get(DASHBOARD, headers=AUTH)

    assert services.orders.calls.last.request.url.params["limit"] == "5"


async def test_authorization_and_request_id_are_forwarded_to_every_call(
    client: Client, services: Services
) -> None:
    await client.get(DASHBOARD, headers={**AUTH, "X-Request-Id": "rid-web-1"})

    for route in (services.me, services.orders, services.stats):
        sent = route.calls.last.request
        assert sent.headers["authorization"] == AUTH["Authorization"]
        assert sent.headers["x-request-id"] == "rid-web-1"


@pytest.mark.parametrize("authorization", [None, "Basic YWxpY2U6YWxpY2U=", "Bearer "], ids=str)
async def test_missing_bearer_token_is_401_without_calling_the_services(
    client: Client, services: Services, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}

    response = await client.get(DASHBOARD, headers=headers)

    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.headers["www-authenticate"] == "Bearer"
    assert not services.service_calls


async def test_orders_down_degrades_the_dashboard(client: Client, services: Services) -> None:
    services.orders_down()

    response = await client.get(DASHBOARD, headers=AUTH)

    assert response.status_code == 200
    body = response.json()
    assert body["profile"]["id"] == PROFILE["id"]
    assert body["recent_orders"] is None
    assert body["stats"] is None
    assert body["degraded"] == ["recent_orders", "stats"]
    assert response.headers["x-degraded"] == "recent_orders, stats"


async def test_only_the_failing_section_is_degraded(client: Client, services: Services) -> None:
    services.stats.respond(500)
    services.orders.respond(
        json=page(order("00000000000000000000000000000001", "placed", "EUR", 100, 1))
    )

    response = await client.get(DASHBOARD, headers=AUTH)

    assert response.status_code == 200
    body = response.json()
    assert body["degraded"] == ["stats"]
    assert body["stats"] is None
    assert [o["id"] for o in body["recent_orders"]] == ["00000000000000000000000000000001"]
    assert response.headers["x-degraded"] == "stats"


@pytest.mark.parametrize(
    "failure",
    [httpx.ReadTimeout("too slow"), httpx.Response(200, content=b"<html>not json</html>")],
    ids=["timeout", "invalid-json"],
)
async def test_orders_failing_in_other_ways_degrades_too(
    client: Client, services: Services, failure: Exception | httpx.Response
) -> None:
    services.orders.mock(side_effect=[failure])

    response = await client.get(DASHBOARD, headers=AUTH)

    assert response.status_code == 200
    assert response.json()["degraded"] == ["recent_orders"]


async def test_users_down_fails_the_dashboard_with_502_problem(
    client: Client, services: Services
) -> None:
    services.me.mock(side_effect=httpx.ConnectError("connection refused"))

    response = await client.get(DASHBOARD, headers=AUTH)

    assert response.status_code == 502
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["request_id"] == response.headers["x-request-id"]


async def test_users_timeout_is_504_problem(client: Client, services: Services) -> None:
    services.me.mock(side_effect=httpx.ReadTimeout("too slow"))

    response = await client.get(DASHBOARD, headers=AUTH)

    assert response.status_code == 504
    assert response.headers["content-type"] == PROBLEM_JSON


@pytest.mark.parametrize(
    "profile",
    [b"<html>not json</html>", b'{"id": "u-alice", "email": "alice@example.com"}'],
    ids=["invalid-json", "missing-field"],
)
async def test_unusable_profile_is_502(client: Client, services: Services, profile: bytes) -> None:
    services.me.respond(200, content=profile)

    response = await client.get(DASHBOARD, headers=AUTH)

    assert response.status_code == 502
    assert response.headers["content-type"] == PROBLEM_JSON


async def test_orders_refusing_the_token_is_401_not_a_degraded_page(
    client: Client, services: Services
) -> None:
    challenge = 'Bearer error="invalid_token"'
    for route in services.dashboard_orders:
        route.respond(401, headers={"www-authenticate": challenge})

    response = await client.get(DASHBOARD, headers=AUTH)

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == challenge


async def test_all_three_calls_are_in_flight_at_the_same_time(
    client: Client, services: Services
) -> None:
    rendezvous = Rendezvous(parties=3)
    services.me.mock(side_effect=rendezvous.answering(PROFILE))
    services.orders.mock(side_effect=rendezvous.answering(page()))
    services.stats.mock(side_effect=rendezvous.answering(STATS))

    response = await client.get(DASHBOARD, headers=AUTH)

    assert response.status_code == 200
    assert response.json()["degraded"] == [], "the three calls did not overlap"


async def test_edge_budget_bounds_the_dashboard(client: Client, services: Services) -> None:
    services.stats.mock(side_effect=slow(STATS, delay_s=2.0))
    started = time.monotonic()

    response = await client.get(DASHBOARD, headers={**AUTH, "x-request-budget-ms": "500"})

    assert time.monotonic() - started < 1.5
    assert response.status_code == 200
    assert response.json()["degraded"] == ["stats"]
    budget = services.me.calls.last.request.headers["x-request-budget-ms"]
    assert 0 < int(budget) <= 500

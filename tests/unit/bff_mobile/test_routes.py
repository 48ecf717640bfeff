"""The phone's screens: compact shapes, home's aggregation and degradation, the order pages."""

from __future__ import annotations

import httpx
import pytest

from tests.unit.bff_mobile.conftest import (
    AUTH,
    LATEST,
    ORDERS,
    PROBLEM_JSON,
    PROFILE,
    STATS,
    Client,
    Services,
    page,
)
from tests.unit.fake_services import Rendezvous

HOME = "/api/mobile/home"
ORDER_LIST = "/api/mobile/orders"
# What a phone on a slow network may be sent for the home screen.
HOME_BUDGET_BYTES = 1024


# Home: the name is required; the order count and the last order are optional


async def test_home_shows_name_order_count_and_last_order_only(client: Client) -> None:
    response = await client.get(HOME, headers=AUTH)

    assert response.status_code == 200
    assert response.json() == {
        "name": "Alice Example",
        "order_count": 7,
        "last_order": {
            "id": "00000000000000000000000000000007",
            "status": "placed",
            "created_at": "2026-11-21T09:30:00Z",
        },
        "degraded": [],
    }
    assert "x-degraded" not in response.headers


async def test_home_without_orders_has_a_null_last_order_and_is_not_degraded(
    client: Client, services: Services
) -> None:
    services.stats.respond(json={"order_count": 0, "by_status": {}})
    services.orders.respond(json=page())

    response = await client.get(HOME, headers=AUTH)

    assert response.status_code == 200
    assert response.json() == {
        "name": "Alice Example",
        "order_count": 0,
        "last_order": None,
        "degraded": [],
    }


@pytest.mark.parametrize("name", ["A" * 200, "Ж" * 200], ids=["ascii", "two-byte"])
async def test_home_stays_within_its_payload_budget_with_a_long_name(
    client: Client, services: Services, name: str
) -> None:
    services.me.respond(json={**PROFILE, "display_name": name})
    services.orders.respond(json=page({**LATEST, "id": "o-" + "9" * 36}))

    response = await client.get(HOME, headers=AUTH)

    assert response.json()["name"] == name
    assert len(response.content) < HOME_BUDGET_BYTES


async def test_home_asks_for_a_single_latest_order(client: Client, services: Services) -> None:
    await client.get(HOME, headers=AUTH)

    assert services.orders.calls.last.request.url.params["limit"] == "1"


async def test_authorization_is_forwarded_to_every_call(client: Client, services: Services) -> None:
    await client.get(HOME, headers=AUTH)

    for route in services.all:
        assert route.calls.last.request.headers["authorization"] == AUTH["Authorization"]


@pytest.mark.parametrize("authorization", [None, "Basic YWxpY2U6YWxpY2U=", "Bearer "], ids=str)
async def test_missing_bearer_token_is_401_without_calling_the_services(
    client: Client, services: Services, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}

    response = await client.get(HOME, headers=headers)

    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM_JSON
    assert not services.service_calls


async def test_orders_down_degrades_home(client: Client, services: Services) -> None:
    services.orders_down()

    response = await client.get(HOME, headers=AUTH)

    assert response.status_code == 200
    assert response.json() == {
        "name": "Alice Example",
        "order_count": None,
        "last_order": None,
        "degraded": ["order_count", "last_order"],
    }
    assert response.headers["x-degraded"] == "order_count, last_order"


@pytest.mark.parametrize(
    "failure",
    [httpx.ReadTimeout("too slow"), httpx.Response(200, content=b"{not json")],
    ids=["timeout", "invalid-json"],
)
async def test_stats_failing_degrades_only_the_order_count(
    client: Client, services: Services, failure: Exception | httpx.Response
) -> None:
    services.stats.mock(side_effect=[failure])

    response = await client.get(HOME, headers=AUTH)

    assert response.status_code == 200
    body = response.json()
    assert body["degraded"] == ["order_count"]
    assert body["order_count"] is None
    assert body["last_order"]["id"] == "00000000000000000000000000000007"


async def test_users_unreachable_is_502_problem(client: Client, services: Services) -> None:
    services.me.mock(side_effect=httpx.ConnectError("connection refused"))

    response = await client.get(HOME, headers=AUTH)

    assert response.status_code == 502
    assert response.headers["content-type"] == PROBLEM_JSON


async def test_invalid_json_from_users_is_502(client: Client, services: Services) -> None:
    services.me.respond(200, content=b"{not json")

    response = await client.get(HOME, headers=AUTH)

    assert response.status_code == 502
    assert response.headers["content-type"] == PROBLEM_JSON


async def test_service_refusing_the_token_is_401(client: Client, services: Services) -> None:
    services.me.respond(401, headers={"www-authenticate": 'Bearer error="invalid_token"'})

    response = await client.get(HOME, headers=AUTH)

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'


async def test_all_three_calls_are_made_at_the_same_time(
    client: Client, services: Services
) -> None:
    rendezvous = Rendezvous(parties=3)
    services.me.mock(side_effect=rendezvous.answering(PROFILE))
    services.stats.mock(side_effect=rendezvous.answering(STATS))
    services.orders.mock(side_effect=rendezvous.answering(page(LATEST)))

    response = await client.get(HOME, headers=AUTH)

    assert response.status_code == 200
    assert response.json()["degraded"] == [], "the users and orders calls did not overlap"


# Orders


async def test_order_rows_carry_only_what_the_list_shows(
    client: Client, services: Services
) -> None:
    services.orders.respond(json=page(LATEST, next_cursor="c-2"))

    response = await client.get(ORDER_LIST, params={"cursor": "c-1"}, headers=AUTH)

    assert response.status_code == 200
    assert response.json() == {
        "items": [
            {
                "id": "00000000000000000000000000000007",
                "status": "placed",
                "total_minor": 2500,
                "currency": "EUR",
                "created_at": "2026-11-21T09:30:00Z",
            }
        ],
        "next_cursor": "c-2",
    }
    assert dict(services.orders.calls.last.request.url.params) == {"limit": "10", "cursor": "c-1"}


@pytest.mark.parametrize("limit", ["21", "0"])
async def test_page_size_outside_1_to_20_is_422_without_calling_orders(
    client: Client, services: Services, limit: str
) -> None:
    response = await client.get(ORDER_LIST, params={"limit": limit}, headers=AUTH)

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["limit"]
    assert not services.orders.called


async def test_order_detail_totals_each_line(client: Client, services: Services) -> None:
    items = [
        {"sku": "SKU-1", "name": "Mug", "quantity": 2, "unit_price_minor": 1250},
        {"sku": "SKU-2", "name": "Tea", "quantity": 3, "unit_price_minor": 399},
    ]
    services.router.get(f"{ORDERS}/orders/00000000000000000000000000000007").respond(
        json={**LATEST, "items": items, "total_minor": 3697}
    )

    response = await client.get("/api/mobile/orders/00000000000000000000000000000007", headers=AUTH)

    assert response.status_code == 200
    assert response.json() == {
        "id": "00000000000000000000000000000007",
        "status": "placed",
        "currency": "EUR",
        "total_minor": 3697,
        "created_at": "2026-11-21T09:30:00Z",
        "lines": [
            {"name": "Mug", "quantity": 2, "total_minor": 2500},
            {"name": "Tea", "quantity": 3, "total_minor": 1197},
        ],
    }


async def test_unknown_order_is_404_with_the_service_detail(
    client: Client, services: Services
) -> None:
    services.router.get(f"{ORDERS}/orders/00000000000000000000000000000194").respond(
        404, json={"status": 404, "detail": "No order 00000000000000000000000000000194."}
    )

    response = await client.get("/api/mobile/orders/00000000000000000000000000000194", headers=AUTH)

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["detail"] == "No order 00000000000000000000000000000194."

"""The web BFF's screens: the dashboard's aggregation and degradation, the orders pages."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from tests.unit.bff_web.conftest import (
    AUTH,
    ORDERS,
    PROBLEM_JSON,
    PROFILE,
    STATS,
    Client,
    Rendezvous,
    Services,
    order,
    page,
    slow,
)

DASHBOARD = "/api/web/dashboard"
ORDERS_PAGE = "/api/web/orders"
MUG = {"sku": "SKU-1", "name": "Mug", "quantity": 2, "unit_price_minor": 1250}
NEW_ORDER = {"currency": "EUR", "items": [MUG]}
KEY = {"Idempotency-Key": "checkout-42"}


# The dashboard: the profile is required, recent orders and statistics are optional


async def test_dashboard_combines_the_profile_recent_orders_and_stats(
    client: Client, services: Services
) -> None:
    placed = order("o-4", "placed", "EUR", 1500, 2, 1)
    services.orders.respond(json=page(placed, order("o-2", "shipped", "USD", 700, 1)))

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
                "id": "o-4",
                "status": "placed",
                "created_at": "2026-11-20T10:00:00Z",
                "item_count": 3,
                "total": {"currency": "EUR", "amount_minor": 1500},
                "items": placed["items"],
            },
            {
                "id": "o-2",
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
    assert not services.router.calls


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
    services.orders.respond(json=page(order("o-1", "placed", "EUR", 100, 1)))

    response = await client.get(DASHBOARD, headers=AUTH)

    assert response.status_code == 200
    body = response.json()
    assert body["degraded"] == ["stats"]
    assert body["stats"] is None
    assert [o["id"] for o in body["recent_orders"]] == ["o-1"]
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
    services.stats.mock(side_effect=slow(STATS, delay_s=1.0))
    started = time.monotonic()

    response = await client.get(DASHBOARD, headers={**AUTH, "x-request-budget-ms": "200"})

    assert time.monotonic() - started < 1.0
    assert response.status_code == 200
    assert response.json()["degraded"] == ["stats"]
    budget = services.me.calls.last.request.headers["x-request-budget-ms"]
    assert 0 < int(budget) <= 200


# Orders: one upstream call each, so its failure is the answer


async def test_orders_page_passes_limit_cursor_and_status_and_shapes_rows(
    client: Client, services: Services
) -> None:
    services.orders.respond(
        json=page(order("o-9", "placed", "EUR", 4200, 2, 3), next_cursor="c-next")
    )

    response = await client.get(
        ORDERS_PAGE, params={"limit": 2, "cursor": "c-1", "status": "placed"}, headers=AUTH
    )

    assert response.status_code == 200
    assert response.json() == {
        "items": [
            {
                "id": "o-9",
                "status": "placed",
                "created_at": "2026-11-20T10:00:00Z",
                "currency": "EUR",
                "total_minor": 4200,
                "item_count": 5,
            }
        ],
        "next_cursor": "c-next",
    }
    params = services.orders.calls.last.request.url.params
    assert dict(params) == {"limit": "2", "cursor": "c-1", "status": "placed"}


async def test_orders_page_defaults_to_ten_rows_and_no_filters(
    client: Client, services: Services
) -> None:
    await client.get(ORDERS_PAGE, headers=AUTH)

    assert dict(services.orders.calls.last.request.url.params) == {"limit": "10"}


@pytest.mark.parametrize("limit", ["51", "0", "many"])
async def test_bad_page_size_is_422_naming_limit_without_calling_orders(
    client: Client, services: Services, limit: str
) -> None:
    response = await client.get(ORDERS_PAGE, params={"limit": limit}, headers=AUTH)

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    assert [e["field"] for e in response.json()["errors"]] == ["limit"]
    assert not services.orders.called


async def test_orders_page_with_orders_down_is_502(client: Client, services: Services) -> None:
    services.orders.mock(side_effect=httpx.ConnectError("connection refused"))

    response = await client.get(ORDERS_PAGE, headers=AUTH)

    assert response.status_code == 502
    assert response.headers["content-type"] == PROBLEM_JSON


async def test_order_detail_is_the_service_order(client: Client, services: Services) -> None:
    the_order = order("o-1", "placed", "EUR", 300, 3)
    services.router.get(f"{ORDERS}/orders/o-1").respond(json={**the_order, "owner": "u-alice"})

    response = await client.get("/api/web/orders/o-1", headers=AUTH)

    assert response.status_code == 200
    assert response.json() == the_order


async def test_unknown_order_is_404_problem_with_the_service_detail(
    client: Client, services: Services
) -> None:
    services.router.get(f"{ORDERS}/orders/o-404").respond(
        404, json={"status": 404, "title": "Not Found", "detail": "No order o-404."}
    )

    response = await client.get("/api/web/orders/o-404", headers=AUTH)

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["detail"] == "No order o-404."


async def test_new_order_without_idempotency_key_is_400_without_calling_orders(
    client: Client, services: Services
) -> None:
    response = await client.post(ORDERS_PAGE, json=NEW_ORDER, headers=AUTH)

    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM_JSON
    assert "Idempotency-Key" in response.json()["detail"]
    assert not services.create.called


async def test_new_order_forwards_the_key_and_the_body(client: Client, services: Services) -> None:
    created = order("o-5", "placed", "EUR", 2500, 2)
    services.create.respond(201, json=created)

    response = await client.post(ORDERS_PAGE, json=NEW_ORDER, headers={**AUTH, **KEY})

    assert response.status_code == 201
    assert response.json() == created
    sent = services.create.calls.last.request
    assert sent.headers["idempotency-key"] == "checkout-42"
    assert sent.headers["authorization"] == AUTH["Authorization"]
    assert sent.headers["content-type"] == "application/json"
    assert json.loads(sent.content) == NEW_ORDER


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"currency": "EUR"}, "items"),
        ({"currency": "EUR", "items": []}, "items"),
        (
            {"currency": "EUR", "items": [{**MUG, "quantity": "two"}]},
            "items[0].quantity",
        ),
    ],
    ids=["missing-items", "no-items", "wrong-type"],
)
async def test_malformed_new_order_is_422_naming_the_field_without_calling_orders(
    client: Client, services: Services, body: dict[str, object], field: str
) -> None:
    response = await client.post(ORDERS_PAGE, json=body, headers={**AUTH, **KEY})

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    assert field in [e["field"] for e in response.json()["errors"]]
    assert not services.create.called


async def test_reused_idempotency_key_is_the_services_422(
    client: Client, services: Services
) -> None:
    detail = "This Idempotency-Key was already used with a different request body."
    services.create.respond(422, json={"status": 422, "title": "Unprocessable", "detail": detail})

    response = await client.post(ORDERS_PAGE, json=NEW_ORDER, headers={**AUTH, **KEY})

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["detail"] == detail


async def test_services_field_errors_reach_the_browser(client: Client, services: Services) -> None:
    services.create.respond(
        422,
        json={
            "status": 422,
            "detail": "currency: unsupported",
            "errors": [{"field": "currency", "message": "unsupported"}],
        },
    )

    response = await client.post(ORDERS_PAGE, json=NEW_ORDER, headers={**AUTH, **KEY})

    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "currency", "message": "unsupported"}]


async def test_new_order_is_sent_once_even_when_orders_is_unreachable(
    client: Client, services: Services
) -> None:
    services.create.mock(side_effect=httpx.ConnectError("connection refused"))

    response = await client.post(ORDERS_PAGE, json=NEW_ORDER, headers={**AUTH, **KEY})

    assert response.status_code == 502
    assert services.create.call_count == 1


async def test_new_order_without_a_token_is_401_without_calling_orders(
    client: Client, services: Services
) -> None:
    response = await client.post(ORDERS_PAGE, json=NEW_ORDER, headers=KEY)

    assert response.status_code == 401
    assert not services.router.calls


async def test_cancel_is_forwarded(client: Client, services: Services) -> None:
    cancelled = order("o-1", "cancelled", "EUR", 300, 3)
    route = services.router.post(f"{ORDERS}/orders/o-1/cancel").respond(json=cancelled)

    response = await client.post("/api/web/orders/o-1/cancel", headers=AUTH)

    assert response.status_code == 200
    assert response.json() == cancelled
    assert route.calls.last.request.headers["authorization"] == AUTH["Authorization"]


async def test_cancelling_a_shipped_order_is_the_services_409(
    client: Client, services: Services
) -> None:
    detail = "The order has shipped and can no longer be cancelled."
    services.router.post(f"{ORDERS}/orders/o-1/cancel").respond(
        409, json={"status": 409, "title": "Conflict", "detail": detail}
    )

    response = await client.post("/api/web/orders/o-1/cancel", headers=AUTH)

    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["detail"] == detail

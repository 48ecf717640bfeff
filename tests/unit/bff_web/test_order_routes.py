"""The web BFF's orders pages and actions: one orders call each, so its failure is the answer."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.unit.bff_web.conftest import (
    AUTH,
    ORDERS,
    PROBLEM_JSON,
    Client,
    Services,
    order,
    page,
)

ORDERS_PAGE = "/api/web/orders"
MUG = {"sku": "SKU-1", "name": "Mug", "quantity": 2, "unit_price_minor": 1250}
NEW_ORDER = {"currency": "EUR", "items": [MUG]}
KEY = {"Idempotency-Key": "checkout-42"}


async def test_orders_page_passes_limit_cursor_and_status_and_shapes_rows(
    client: Client, services: Services
) -> None:
    services.orders.respond(
        json=page(
            order("00000000000000000000000000000009", "placed", "EUR", 4200, 2, 3),
            next_cursor="c-next",
        )
    )

    response = await client.get(
        ORDERS_PAGE, params={"limit": 2, "cursor": "c-1", "status": "placed"}, headers=AUTH
    )

    assert response.status_code == 200
    assert response.json() == {
        "items": [
            {
                "id": "00000000000000000000000000000009",
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
    the_order = order("00000000000000000000000000000001", "placed", "EUR", 300, 3)
    services.router.get(f"{ORDERS}/orders/00000000000000000000000000000001").respond(
        json={**the_order, "owner": "u-alice"}
    )

    response = await client.get("/api/web/orders/00000000000000000000000000000001", headers=AUTH)

    assert response.status_code == 200
    assert response.json() == the_order


async def test_unknown_order_is_404_problem_with_the_service_detail(
    client: Client, services: Services
) -> None:
    services.router.get(f"{ORDERS}/orders/00000000000000000000000000000194").respond(
        404,
        json={
            "status": 404,
            "title": "Not Found",
            "detail": "No order 00000000000000000000000000000194.",
        },
    )

    response = await client.get("/api/web/orders/00000000000000000000000000000194", headers=AUTH)

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["detail"] == "No order 00000000000000000000000000000194."


async def test_new_order_without_idempotency_key_is_400_without_calling_orders(
    client: Client, services: Services
) -> None:
    response = await client.post(ORDERS_PAGE, json=NEW_ORDER, headers=AUTH)

    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM_JSON
    assert "Idempotency-Key" in response.json()["detail"]
    assert not services.create.called


async def test_new_order_forwards_the_key_and_the_body(client: Client, services: Services) -> None:
    created = order("00000000000000000000000000000005", "placed", "EUR", 2500, 2)
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
    assert not services.service_calls


async def test_cancel_is_forwarded(client: Client, services: Services) -> None:
    cancelled = order("00000000000000000000000000000001", "cancelled", "EUR", 300, 3)
    route = services.router.post(
        f"{ORDERS}/orders/00000000000000000000000000000001/cancel"
    ).respond(json=cancelled)

    response = await client.post(
        "/api/web/orders/00000000000000000000000000000001/cancel", headers=AUTH
    )

    assert response.status_code == 200
    assert response.json() == cancelled
    assert route.calls.last.request.headers["authorization"] == AUTH["Authorization"]


async def test_cancelling_a_shipped_order_is_the_services_409(
    client: Client, services: Services
) -> None:
    detail = "The order has shipped and can no longer be cancelled."
    services.router.post(f"{ORDERS}/orders/00000000000000000000000000000001/cancel").respond(
        409, json={"status": 409, "title": "Conflict", "detail": detail}
    )

    response = await client.post(
        "/api/web/orders/00000000000000000000000000000001/cancel", headers=AUTH
    )

    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["detail"] == detail

"""The /orders endpoints over HTTP: ownership, auth, reads, validation, cancellation."""

from __future__ import annotations

from typing import Any

import pytest

from tests.token_issuer import TestIssuer
from tests.unit.orders.samples import ALICE, BOB, Auth, Client, order_body

PROBLEM_JSON = "application/problem+json"


async def place(client: Client, auth: Auth, owner: str, *prices: int) -> dict[str, Any]:
    response = await client.post("/orders", json=order_body(*prices), headers=auth(owner))
    assert response.status_code == 201, response.text
    order: dict[str, Any] = response.json()
    return order


async def test_missing_token_is_401_with_www_authenticate(client: Client) -> None:
    response = await client.get("/orders")

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-type"] == PROBLEM_JSON


async def test_token_from_unknown_key_is_401(client: Client) -> None:
    forged = TestIssuer().token(ALICE)
    response = await client.get("/orders", headers={"Authorization": f"Bearer {forged}"})

    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_created_order_totals_integer_minor_units(client: Client, auth: Auth) -> None:
    order = await place(client, auth, ALICE, 1250, 399)

    assert order["status"] == "placed"
    assert order["currency"] == "EUR"
    assert order["total_minor"] == 2 * 1250 + 2 * 399
    assert [item["line_total_minor"] for item in order["items"]] == [2500, 798]
    assert order["created_at"].endswith("Z")


async def test_created_order_reads_back_by_id(client: Client, auth: Auth) -> None:
    order = await place(client, auth, ALICE, 1250)

    response = await client.get(f"/orders/{order['id']}", headers=auth(ALICE))

    assert response.status_code == 200
    assert response.json() == order


async def test_foreign_order_is_404(client: Client, auth: Auth) -> None:
    order = await place(client, auth, ALICE)

    response = await client.get(f"/orders/{order['id']}", headers=auth(BOB))

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_JSON


async def test_unknown_and_foreign_order_answer_identically(client: Client, auth: Auth) -> None:
    order = await place(client, auth, ALICE)
    headers = {**auth(BOB), "X-Request-ID": "same-id"}

    foreign = await client.get(f"/orders/{order['id']}", headers=headers)
    unknown = await client.get(f"/orders/{'0' * 32}", headers=headers)

    assert foreign.status_code == unknown.status_code == 404
    assert set(foreign.headers) == set(unknown.headers)
    # Only `instance` differs: it echoes the path that was asked for.
    assert {**foreign.json(), "instance": ""} == {**unknown.json(), "instance": ""}


async def test_problem_body_carries_the_request_id(client: Client, auth: Auth) -> None:
    response = await client.get("/orders/nope", headers={**auth(ALICE), "X-Request-ID": "req-123"})

    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["request_id"] == "req-123"
    assert response.json()["instance"] == "/orders/nope"


async def test_list_shows_only_own_orders_newest_first(client: Client, auth: Auth) -> None:
    first = await place(client, auth, ALICE, 100)
    await place(client, auth, BOB, 200)
    second = await place(client, auth, ALICE, 300)

    response = await client.get("/orders", headers=auth(ALICE))

    assert response.status_code == 200
    assert [o["id"] for o in response.json()["items"]] == [second["id"], first["id"]]
    assert response.json()["next_cursor"] is None


async def test_cursor_pagination_walks_every_order_once(client: Client, auth: Auth) -> None:
    placed = [(await place(client, auth, ALICE, price))["id"] for price in range(100, 800, 100)]
    seen: list[str] = []
    pages = 0
    cursor: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/orders", params=params, headers=auth(ALICE))).json()
        pages += 1
        assert len(page["items"]) <= 3
        seen += [order["id"] for order in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == list(reversed(placed))
    assert pages == 3


async def test_empty_cursor_is_the_first_page(client: Client, auth: Auth) -> None:
    order = await place(client, auth, ALICE)

    response = await client.get("/orders?cursor=", headers=auth(ALICE))

    assert [o["id"] for o in response.json()["items"]] == [order["id"]]


async def test_status_filter_returns_only_that_status(client: Client, auth: Auth) -> None:
    kept = await place(client, auth, ALICE)
    cancelled = await place(client, auth, ALICE)
    await client.post(f"/orders/{cancelled['id']}/cancel", headers=auth(ALICE))

    placed = await client.get("/orders", params={"status": "placed"}, headers=auth(ALICE))
    gone = await client.get("/orders", params={"status": "cancelled"}, headers=auth(ALICE))

    assert [o["id"] for o in placed.json()["items"]] == [kept["id"]]
    assert [o["id"] for o in gone.json()["items"]] == [cancelled["id"]]


async def test_unknown_status_filter_is_422(client: Client, auth: Auth) -> None:
    response = await client.get("/orders", params={"status": "lost"}, headers=auth(ALICE))

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "status"


async def test_page_size_over_100_is_422(client: Client, auth: Auth) -> None:
    response = await client.get("/orders", params={"limit": 101}, headers=auth(ALICE))

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["errors"][0]["field"] == "limit"


async def test_page_size_zero_is_422(client: Client, auth: Auth) -> None:
    response = await client.get("/orders", params={"limit": 0}, headers=auth(ALICE))

    assert response.status_code == 422


async def test_page_size_100_is_accepted(client: Client, auth: Auth) -> None:
    await place(client, auth, ALICE)

    response = await client.get("/orders", params={"limit": 100}, headers=auth(ALICE))

    assert response.status_code == 200
    assert len(response.json()["items"]) == 1


@pytest.mark.parametrize(
    "cursor",
    ["not base64!", "bm90IGpzb24", "W10", "WyJ5ZXN0ZXJkYXkiLCJhYmMiXQ", "é"],
    ids=["not-base64", "not-json", "empty-array", "not-a-timestamp", "non-ascii"],
)
async def test_malformed_cursor_is_400(client: Client, auth: Auth, cursor: str) -> None:
    response = await client.get("/orders", params={"cursor": cursor}, headers=auth(ALICE))

    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM_JSON
    assert "cursor" in response.json()["detail"]


async def test_stats_route_is_not_shadowed_by_order_id(client: Client, auth: Auth) -> None:
    response = await client.get("/orders/stats", headers=auth(ALICE))

    assert response.status_code == 200
    assert response.json() == {
        "order_count": 0,
        "by_status": {"placed": 0, "shipped": 0, "cancelled": 0},
    }


async def test_stats_count_only_own_orders_by_status(client: Client, auth: Auth) -> None:
    await place(client, auth, ALICE)
    cancelled = await place(client, auth, ALICE)
    await client.post(f"/orders/{cancelled['id']}/cancel", headers=auth(ALICE))
    await place(client, auth, BOB)

    stats = (await client.get("/orders/stats", headers=auth(ALICE))).json()

    assert stats == {"order_count": 2, "by_status": {"placed": 1, "shipped": 0, "cancelled": 1}}


async def test_missing_field_is_422_naming_it(client: Client, auth: Auth) -> None:
    body = order_body()
    del body["currency"]

    response = await client.post("/orders", json=body, headers=auth(ALICE))

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["errors"][0]["field"] == "currency"
    assert response.json()["request_id"]


async def test_malformed_json_is_400(client: Client, auth: Auth) -> None:
    response = await client.post(
        "/orders",
        content=b'{"currency": "EUR", "items": [',
        headers={**auth(ALICE), "Content-Type": "application/json"},
    )

    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM_JSON
    assert "JSON" in response.json()["detail"]


@pytest.mark.parametrize("price", [12.5, 12.0, "1250"])
async def test_float_price_is_422(client: Client, auth: Auth, price: object) -> None:
    body = order_body()
    body["items"][0]["unit_price_minor"] = price

    response = await client.post("/orders", json=body, headers=auth(ALICE))

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "items[0].unit_price_minor"
    assert (await client.get("/orders/stats", headers=auth(ALICE))).json()["order_count"] == 0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"currency": "eur"}, "currency"),
        ({"currency": "EURO"}, "currency"),
        ({"items": []}, "items"),
        (
            {"items": [{"sku": "A", "name": "A", "quantity": 0, "unit_price_minor": 1}]},
            "items[0].quantity",
        ),
        (
            {"items": [{"sku": "", "name": "A", "quantity": 1, "unit_price_minor": 1}]},
            "items[0].sku",
        ),
        (
            {"items": [{"sku": "A", "name": "A", "quantity": 1, "unit_price_minor": -1}]},
            "items[0].unit_price_minor",
        ),
    ],
)
async def test_out_of_range_order_field_is_422(
    client: Client, auth: Auth, change: dict[str, Any], field: str
) -> None:
    response = await client.post("/orders", json={**order_body(), **change}, headers=auth(ALICE))

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field


async def test_cancel_placed_order_returns_it_cancelled(client: Client, auth: Auth) -> None:
    order = await place(client, auth, ALICE)

    response = await client.post(f"/orders/{order['id']}/cancel", headers=auth(ALICE))

    assert response.status_code == 200
    assert response.json() == {**order, "status": "cancelled"}
    again = await client.get(f"/orders/{order['id']}", headers=auth(ALICE))
    assert again.json()["status"] == "cancelled"


async def test_cancelling_twice_is_idempotent(client: Client, auth: Auth) -> None:
    order = await place(client, auth, ALICE)
    await client.post(f"/orders/{order['id']}/cancel", headers=auth(ALICE))

    response = await client.post(f"/orders/{order['id']}/cancel", headers=auth(ALICE))

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"


async def test_cancel_foreign_order_is_404_and_leaves_it_placed(client: Client, auth: Auth) -> None:
    order = await place(client, auth, ALICE)

    response = await client.post(f"/orders/{order['id']}/cancel", headers=auth(BOB))

    assert response.status_code == 404
    mine = await client.get(f"/orders/{order['id']}", headers=auth(ALICE))
    assert mine.json()["status"] == "placed"


async def test_cancel_shipped_is_409(seeded_client: Client, auth: Auth) -> None:
    shipped = await seeded_client.get("/orders", params={"status": "shipped"}, headers=auth(ALICE))
    order_id = shipped.json()["items"][0]["id"]

    response = await seeded_client.post(f"/orders/{order_id}/cancel", headers=auth(ALICE))

    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM_JSON
    still = await seeded_client.get(f"/orders/{order_id}", headers=auth(ALICE))
    assert still.json()["status"] == "shipped"

"""Idempotent order creation: replays, conflicts, concurrent retries, key validation."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from tests.unit.orders.samples import ALICE, BOB, Auth, Client, order_body


def as_bytes(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(name.encode(), value.encode()) for name, value in headers.items()]


async def test_same_idempotency_key_and_body_returns_same_order(client: Client, auth: Auth) -> None:
    headers = {**auth(ALICE), "Idempotency-Key": "checkout-1"}

    first = await client.post("/orders", json=order_body(1250), headers=headers)
    retry = await client.post("/orders", json=order_body(1250), headers=headers)

    assert first.status_code == retry.status_code == 201
    assert "idempotent-replayed" not in first.headers
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.json() == first.json()
    assert (await client.get("/orders/stats", headers=auth(ALICE))).json()["order_count"] == 1


async def test_replay_ignores_json_formatting_and_key_order(client: Client, auth: Auth) -> None:
    headers = {**auth(ALICE), "Idempotency-Key": "checkout-2", "Content-Type": "application/json"}
    body = order_body(1250)
    reordered = json.dumps({"items": body["items"], "currency": "EUR"}, indent=2)

    first = await client.post("/orders", content=json.dumps(body), headers=headers)
    retry = await client.post("/orders", content=reordered, headers=headers)

    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.json()["id"] == first.json()["id"]


async def test_same_key_different_body_is_422(client: Client, auth: Auth) -> None:
    headers = {**auth(ALICE), "Idempotency-Key": "checkout-3"}
    await client.post("/orders", json=order_body(1250), headers=headers)

    response = await client.post("/orders", json=order_body(9999), headers=headers)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert "Idempotency-Key" in response.json()["detail"]
    assert (await client.get("/orders/stats", headers=auth(ALICE))).json()["order_count"] == 1


async def test_same_key_from_two_users_creates_two_orders(client: Client, auth: Auth) -> None:
    alice = await client.post(
        "/orders", json=order_body(), headers={**auth(ALICE), "Idempotency-Key": "k"}
    )
    bob = await client.post(
        "/orders", json=order_body(), headers={**auth(BOB), "Idempotency-Key": "k"}
    )

    assert "idempotent-replayed" not in bob.headers
    assert alice.json()["id"] != bob.json()["id"]


async def test_requests_without_a_key_each_create_an_order(client: Client, auth: Auth) -> None:
    await client.post("/orders", json=order_body(), headers=auth(ALICE))
    await client.post("/orders", json=order_body(), headers=auth(ALICE))

    assert (await client.get("/orders/stats", headers=auth(ALICE))).json()["order_count"] == 2


async def test_concurrent_retries_create_one_order(client: Client, auth: Auth) -> None:
    headers = {**auth(ALICE), "Idempotency-Key": "double-click"}
    # The test client handles one request at a time; ASGITransport lets the ten overlap.
    transport = httpx.ASGITransport(app=client.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://orders.test") as direct:
        responses = await asyncio.gather(
            *(direct.post("/orders", json=order_body(1250), headers=headers) for _ in range(10))
        )

    assert {response.status_code for response in responses} == {201}
    assert len({response.json()["id"] for response in responses}) == 1
    replayed = [r for r in responses if r.headers.get("idempotent-replayed") == "true"]
    assert len(replayed) == 9
    listed = (await client.get("/orders", headers=auth(ALICE))).json()["items"]
    assert [order["id"] for order in listed] == [responses[0].json()["id"]]


@pytest.mark.parametrize(
    "key",
    [b"", b"x" * 256, "caf\xe9".encode("latin-1"), b"tab\there"],
    ids=["empty", "too-long", "non-ascii", "control-character"],
)
async def test_malformed_idempotency_key_is_400(client: Client, auth: Auth, key: bytes) -> None:
    response = await client.post(
        "/orders", json=order_body(), headers=[*as_bytes(auth(ALICE)), (b"Idempotency-Key", key)]
    )

    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["detail"]
    assert (await client.get("/orders/stats", headers=auth(ALICE))).json()["order_count"] == 0


async def test_idempotency_key_of_255_characters_is_accepted(client: Client, auth: Auth) -> None:
    headers = {**auth(ALICE), "Idempotency-Key": "k" * 255}

    response = await client.post("/orders", json=order_body(), headers=headers)

    assert response.status_code == 201

"""The dashboard screen: shape, auth forwarding, concurrency, and upstream failures."""

from __future__ import annotations

import httpx
import pytest

from tests.unit.bff_web.conftest import (
    AUTH,
    PROFILE,
    Client,
    Rendezvous,
    Services,
    order,
    page,
)

PROBLEM_JSON = "application/problem+json"
DASHBOARD = "/api/web/dashboard"


async def test_dashboard_combines_the_profile_and_recent_orders(
    client: Client, services: Services
) -> None:
    services.orders.respond(
        json=page(
            order("o-4", "placed", "EUR", 1500, 2, 1),
            order("o-3", "cancelled", "EUR", 9900, 5),
            order("o-2", "shipped", "USD", 700, 1),
            order("o-1", "delivered", "EUR", 250, 1, 1, 1),
        )
    )

    response = await client.get(DASHBOARD, headers=AUTH)

    assert response.status_code == 200
    body = response.json()
    assert body["profile"] == {
        "id": PROFILE["id"],
        "display_name": PROFILE["display_name"],
        "email": PROFILE["email"],
    }
    assert [(o["id"], o["status"], o["item_count"]) for o in body["recent_orders"]] == [
        ("o-4", "placed", 3),
        ("o-3", "cancelled", 5),
        ("o-2", "shipped", 1),
        ("o-1", "delivered", 3),
    ]
    assert body["recent_orders"][0]["total"] == {"currency": "EUR", "amount_minor": 1500}
    # Cancelled orders do not count; each currency is summed on its own.
    assert body["recent_total"] == [
        {"currency": "EUR", "amount_minor": 1750},
        {"currency": "USD", "amount_minor": 700},
    ]


async def test_dashboard_without_orders_has_empty_lists(client: Client) -> None:
    response = await client.get(DASHBOARD, headers=AUTH)

    assert response.status_code == 200
    assert response.json()["recent_orders"] == []
    assert response.json()["recent_total"] == []


async def test_dashboard_asks_for_the_five_most_recent_orders(
    client: Client, services: Services
) -> None:
    await client.get(DASHBOARD, headers=AUTH)

    assert services.orders.calls.last.request.url.params["limit"] == "5"


async def test_authorization_and_request_id_are_forwarded_to_both_services(
    client: Client, services: Services
) -> None:
    await client.get(DASHBOARD, headers={**AUTH, "X-Request-Id": "rid-web-1"})

    for route in (services.me, services.orders):
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
    assert not services.me.called
    assert not services.orders.called


async def test_users_unreachable_is_502_problem(client: Client, services: Services) -> None:
    services.me.mock(side_effect=httpx.ConnectError("connection refused"))

    response = await client.get(DASHBOARD, headers=AUTH)

    assert response.status_code == 502
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["request_id"] == response.headers["x-request-id"]


async def test_orders_timeout_is_504_problem(client: Client, services: Services) -> None:
    services.orders.mock(side_effect=httpx.ReadTimeout("too slow"))

    response = await client.get(DASHBOARD, headers=AUTH)

    assert response.status_code == 504
    assert response.headers["content-type"] == PROBLEM_JSON


@pytest.mark.parametrize("broken", ["me", "orders"])
async def test_invalid_json_from_a_service_is_502(
    client: Client, services: Services, broken: str
) -> None:
    getattr(services, broken).respond(200, content=b"<html>not json</html>")

    response = await client.get(DASHBOARD, headers=AUTH)

    assert response.status_code == 502
    assert response.headers["content-type"] == PROBLEM_JSON


async def test_payload_missing_a_field_the_bff_uses_is_502(
    client: Client, services: Services
) -> None:
    services.me.respond(json={"id": "u-alice", "email": "alice@example.com"})

    response = await client.get(DASHBOARD, headers=AUTH)

    assert response.status_code == 502


async def test_service_refusing_the_token_is_401(client: Client, services: Services) -> None:
    challenge = 'Bearer error="invalid_token"'
    services.orders.respond(401, headers={"www-authenticate": challenge})

    response = await client.get(DASHBOARD, headers=AUTH)

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == challenge


async def test_both_services_are_called_at_the_same_time(
    client: Client, services: Services
) -> None:
    rendezvous = Rendezvous(parties=2)
    services.me.mock(side_effect=rendezvous.answering(PROFILE))
    services.orders.mock(side_effect=rendezvous.answering(page()))

    response = await client.get(DASHBOARD, headers=AUTH)

    assert response.status_code == 200, "the users and orders calls did not overlap"

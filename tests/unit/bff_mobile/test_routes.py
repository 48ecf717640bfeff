"""The home screen: compact shape, auth forwarding, concurrency, and upstream failures."""

from __future__ import annotations

import httpx
import pytest

from tests.unit.bff_mobile.conftest import (
    AUTH,
    LATEST,
    PROFILE,
    STATS,
    Client,
    Rendezvous,
    Services,
    page,
)

PROBLEM_JSON = "application/problem+json"
HOME = "/api/mobile/home"


async def test_home_shows_name_order_count_and_last_order_only(client: Client) -> None:
    response = await client.get(HOME, headers=AUTH)

    assert response.status_code == 200
    assert response.json() == {
        "name": "Alice Example",
        "order_count": 7,
        "last_order": {"id": "o-7", "status": "placed", "created_at": "2026-11-21T09:30:00Z"},
    }


async def test_home_without_orders_has_a_null_last_order(
    client: Client, services: Services
) -> None:
    services.stats.respond(json={"order_count": 0, "by_status": {}})
    services.latest.respond(json=page())

    response = await client.get(HOME, headers=AUTH)

    assert response.status_code == 200
    assert response.json() == {"name": "Alice Example", "order_count": 0, "last_order": None}


async def test_home_asks_for_a_single_latest_order(client: Client, services: Services) -> None:
    await client.get(HOME, headers=AUTH)

    assert services.latest.calls.last.request.url.params["limit"] == "1"


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
    assert not any(route.called for route in services.all)


async def test_users_unreachable_is_502_problem(client: Client, services: Services) -> None:
    services.me.mock(side_effect=httpx.ConnectError("connection refused"))

    response = await client.get(HOME, headers=AUTH)

    assert response.status_code == 502
    assert response.headers["content-type"] == PROBLEM_JSON


async def test_orders_timeout_is_504_problem(client: Client, services: Services) -> None:
    services.stats.mock(side_effect=httpx.ReadTimeout("too slow"))

    response = await client.get(HOME, headers=AUTH)

    assert response.status_code == 504
    assert response.headers["content-type"] == PROBLEM_JSON


@pytest.mark.parametrize("broken", ["me", "stats", "latest"])
async def test_invalid_json_from_a_service_is_502(
    client: Client, services: Services, broken: str
) -> None:
    getattr(services, broken).respond(200, content=b"{not json")

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
    services.latest.mock(side_effect=rendezvous.answering(page(LATEST)))

    response = await client.get(HOME, headers=AUTH)

    assert response.status_code == 200, "the users and orders calls did not overlap"

"""Strong ETags, If-None-Match and private caching on the phone's read screens."""

from __future__ import annotations

import pytest

from tests.unit.bff_mobile.conftest import AUTH, LATEST, ORDERS, STATS, Client, Services

HOME = "/api/mobile/home"
ORDER_LIST = "/api/mobile/orders"


async def etag_of(client: Client, path: str) -> str:
    response = await client.get(path, headers=AUTH)
    assert response.status_code == 200
    return response.headers["etag"]


@pytest.mark.parametrize(
    "path", [HOME, ORDER_LIST, "/api/mobile/orders/00000000000000000000000000000007"]
)
async def test_read_screens_carry_a_strong_etag_and_are_cached_privately(
    client: Client, services: Services, path: str
) -> None:
    services.router.get(f"{ORDERS}/orders/00000000000000000000000000000007").respond(json=LATEST)

    response = await client.get(path, headers=AUTH)

    assert response.status_code == 200
    etag = response.headers["etag"]
    assert etag.startswith('"')
    assert etag.endswith('"')
    assert not etag.startswith("W/")
    assert response.headers["cache-control"] == "private, no-cache"
    assert response.headers["vary"] == "Authorization"


async def test_matching_if_none_match_is_304_without_a_body(client: Client) -> None:
    etag = await etag_of(client, HOME)

    response = await client.get(HOME, headers={**AUTH, "If-None-Match": etag})

    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == etag
    assert response.headers["cache-control"] == "private, no-cache"


async def test_weak_form_of_the_same_tag_is_304(client: Client) -> None:
    etag = await etag_of(client, HOME)

    response = await client.get(HOME, headers={**AUTH, "If-None-Match": f"W/{etag}"})

    assert response.status_code == 304


async def test_tag_among_several_is_304(client: Client) -> None:
    etag = await etag_of(client, ORDER_LIST)

    response = await client.get(
        ORDER_LIST, headers={**AUTH, "If-None-Match": f'"stale-1", {etag} , "stale-2"'}
    )

    assert response.status_code == 304


async def test_different_tag_is_200_with_the_body(client: Client) -> None:
    response = await client.get(HOME, headers={**AUTH, "If-None-Match": '"not-the-tag"'})

    assert response.status_code == 200
    assert response.json()["name"] == "Alice Example"


async def test_star_matches_any_current_representation(client: Client) -> None:
    response = await client.get(HOME, headers={**AUTH, "If-None-Match": "*"})

    assert response.status_code == 304


async def test_changed_data_changes_the_etag(client: Client, services: Services) -> None:
    before = await etag_of(client, HOME)
    services.stats.respond(json={**STATS, "order_count": 8})

    response = await client.get(HOME, headers={**AUTH, "If-None-Match": before})

    assert response.status_code == 200
    assert response.json()["order_count"] == 8
    assert response.headers["etag"] != before


async def test_same_data_keeps_the_etag(client: Client) -> None:
    assert await etag_of(client, HOME) == await etag_of(client, HOME)

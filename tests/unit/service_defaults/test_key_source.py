"""JwksKeySource: refetch throttling for unknown kids, rotation, and outages of the issuer."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import jwt
import pytest
import respx

from service_defaults.tokens import InvalidToken, Principal
from tests.token_issuer import TestIssuer
from tests.unit.service_defaults.conftest import (
    JWKS_URL,
    FakeClock,
    make_verifier,
    valid_claims,
    with_kid,
)


async def test_unknown_kid_causes_one_refetch_under_concurrency(
    issuer: TestIssuer,
    wire: respx.MockRouter,
    http_client: httpx.AsyncClient,
    clock: FakeClock,
) -> None:
    route = wire.get(JWKS_URL).respond(json=issuer.jwks())
    verifier = make_verifier(http_client)
    await verifier.verify(issuer.token())
    clock.advance(11)  # past the 10 s refetch floor
    unknown = with_kid("unknown-kid")

    results = await asyncio.gather(
        *(verifier.verify(unknown) for _ in range(50)), return_exceptions=True
    )

    assert route.call_count == 2
    assert all(isinstance(result, InvalidToken) for result in results)


async def test_flood_of_random_kids_within_the_floor_fetches_nothing_more(
    issuer: TestIssuer, wire: respx.MockRouter, http_client: httpx.AsyncClient
) -> None:
    route = wire.get(JWKS_URL).respond(json=issuer.jwks())
    verifier = make_verifier(http_client)
    await verifier.verify(issuer.token())
    forged = TestIssuer()

    for _ in range(100):
        made_up = jwt.encode(
            valid_claims(), forged.private_key, algorithm="ES256", headers={"kid": uuid.uuid4().hex}
        )
        with pytest.raises(InvalidToken):
            await verifier.verify(made_up)

    assert route.call_count == 1


async def test_rotated_key_is_accepted_once_the_floor_allows_a_refetch(
    issuer: TestIssuer, wire: respx.MockRouter, http_client: httpx.AsyncClient
) -> None:
    rotated = TestIssuer()
    route = wire.get(JWKS_URL).mock(
        side_effect=[
            httpx.Response(200, json=issuer.jwks()),
            httpx.Response(200, json={"keys": issuer.jwks()["keys"] + rotated.jwks()["keys"]}),
        ]
    )
    verifier = make_verifier(http_client, refetch_floor_s=0)
    await verifier.verify(issuer.token())

    principal = await verifier.verify(rotated.token("bob"))

    assert principal.subject == "bob"
    assert route.call_count == 2
    assert (await verifier.verify(issuer.token("alice"))).subject == "alice"


def slow_jwks(*sets: dict[str, Any]) -> Callable[[httpx.Request], Awaitable[httpx.Response]]:
    """A JWKS side effect that answers `sets` in turn after a network-like pause."""
    answers = iter(sets)

    async def answer(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.01)
        return httpx.Response(200, json=next(answers))

    return answer


async def test_concurrent_first_verifications_share_one_fetch_and_all_succeed(
    issuer: TestIssuer, wire: respx.MockRouter, http_client: httpx.AsyncClient
) -> None:
    route = wire.get(JWKS_URL).mock(side_effect=slow_jwks(issuer.jwks()))
    verifier = make_verifier(http_client)

    results = await asyncio.gather(
        *(verifier.verify(issuer.token(f"user-{n}")) for n in range(50)), return_exceptions=True
    )

    assert route.call_count == 1
    assert [type(result) for result in results] == [Principal] * 50


async def test_concurrent_verifications_with_a_rotated_kid_share_one_refetch_and_all_succeed(
    issuer: TestIssuer,
    wire: respx.MockRouter,
    http_client: httpx.AsyncClient,
    clock: FakeClock,
) -> None:
    rotated = TestIssuer()
    both = {"keys": issuer.jwks()["keys"] + rotated.jwks()["keys"]}
    route = wire.get(JWKS_URL).mock(side_effect=slow_jwks(issuer.jwks(), both))
    verifier = make_verifier(http_client)
    await verifier.verify(issuer.token())
    clock.advance(11)
    token = rotated.token()

    results = await asyncio.gather(
        *(verifier.verify(token) for _ in range(50)), return_exceptions=True
    )

    assert route.call_count == 2
    assert [type(result) for result in results] == [Principal] * 50


@pytest.mark.parametrize(
    "outage",
    [
        httpx.Response(500),
        httpx.ConnectError("connection refused"),
        httpx.Response(200, text="<html>maintenance</html>"),
        httpx.Response(200, json=["not", "a", "jwks"]),
    ],
    ids=["http-500", "connect-error", "html-body", "json-array"],
)
async def test_known_keys_keep_verifying_when_the_jwks_endpoint_fails(
    outage: httpx.Response | httpx.ConnectError,
    issuer: TestIssuer,
    wire: respx.MockRouter,
    http_client: httpx.AsyncClient,
    clock: FakeClock,
) -> None:
    route = wire.get(JWKS_URL).mock(side_effect=[httpx.Response(200, json=issuer.jwks()), outage])
    verifier = make_verifier(http_client)
    await verifier.verify(issuer.token())
    clock.advance(301)  # the cached keys are stale: the next verification refetches

    principal = await verifier.verify(issuer.token("still-here"))

    assert principal.subject == "still-here"
    assert route.call_count == 2


async def test_a_fetch_whose_caller_was_cut_off_still_brings_the_keys(
    issuer: TestIssuer, wire: respx.MockRouter, http_client: httpx.AsyncClient
) -> None:
    async def slow_jwks(_: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.2)
        return httpx.Response(200, json=issuer.jwks())

    route = wire.get(JWKS_URL).mock(side_effect=slow_jwks)
    verifier = make_verifier(http_client)

    # The first caller's deadline ends mid-fetch (a service's cut-off does this).
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.05):
            await verifier.verify(issuer.token())
    principal = await verifier.verify(issuer.token())

    assert principal.subject == "user-1"
    assert route.call_count == 1  # the next caller waited for that same fetch


async def test_each_fetch_reports_its_outcome(
    issuer: TestIssuer, wire: respx.MockRouter, http_client: httpx.AsyncClient, clock: FakeClock
) -> None:
    wire.get(JWKS_URL).mock(
        side_effect=[
            httpx.Response(200, json=issuer.jwks()),
            httpx.Response(503),
            httpx.Response(200, json={"keys": "not a list"}),
        ]
    )
    outcomes: list[str] = []
    verifier = make_verifier(http_client, on_fetch=outcomes.append)

    await verifier.verify(issuer.token())
    for _ in range(2):
        clock.advance(301)  # stale keys: the next verification refetches
        await verifier.verify(issuer.token())

    assert outcomes == ["ok", "failed", "failed"]

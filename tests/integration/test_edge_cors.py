"""CORS per route, answered at the edge: preflights, allowed and refused origins."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.integration.edge_harness import EdgeUnderTest, edge_under_test

pytestmark = pytest.mark.integration

ALLOWED = "https://app.example"
EVIL = "https://evil.example"


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EdgeUnderTest]:
    with edge_under_test(tmp_path_factory.mktemp("edge-cors")) as running:
        yield running


@pytest.fixture(scope="module")
def client(edge: EdgeUnderTest) -> Iterator[httpx.Client]:
    with edge.client() as running:
        yield running


@pytest.fixture(scope="module")
def signed_in(edge: EdgeUnderTest) -> dict[str, str]:
    return {"Authorization": f"Bearer {edge.token('cors-user')}"}


def preflight(client: httpx.Client, origin: str, headers: str = "authorization") -> httpx.Response:
    return client.options(
        "/api/x",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": headers,
        },
    )


def vary(response: httpx.Response) -> set[str]:
    return {
        token.strip().lower()
        for value in response.headers.get_list("vary")
        for token in value.split(",")
    }


def test_preflight_from_an_allowed_origin_is_204_at_the_edge_without_a_token(
    edge: EdgeUnderTest, client: httpx.Client
) -> None:
    before = edge.upstream_calls()

    response = preflight(client, ALLOWED)

    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == ALLOWED
    assert "GET" in response.headers["access-control-allow-methods"]
    assert response.headers["access-control-allow-headers"] == "authorization"
    assert "origin" in vary(response)
    assert edge.upstream_calls() == before


def test_preflight_from_another_origin_is_403_without_allow_origin(
    edge: EdgeUnderTest, client: httpx.Client
) -> None:
    before = edge.upstream_calls()

    response = preflight(client, EVIL)

    assert response.status_code == 403
    assert "access-control-allow-origin" not in response.headers
    assert edge.upstream_calls() == before


def test_preflight_to_a_route_without_a_cors_policy_is_403(client: httpx.Client) -> None:
    response = client.options(
        "/open/x", headers={"Origin": ALLOWED, "Access-Control-Request-Method": "GET"}
    )

    assert response.status_code == 403
    assert "access-control-allow-origin" not in response.headers


def test_preflight_asking_for_an_unlisted_header_is_403(client: httpx.Client) -> None:
    response = preflight(client, ALLOWED, headers="authorization, x-secret")

    assert response.status_code == 403
    assert "access-control-allow-origin" not in response.headers


def test_actual_request_from_an_allowed_origin_gets_allow_origin_and_vary(
    client: httpx.Client, signed_in: dict[str, str]
) -> None:
    response = client.get("/api/x", headers={**signed_in, "Origin": ALLOWED})

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ALLOWED
    assert "origin" in vary(response)
    assert response.headers["access-control-expose-headers"] == "x-request-id"


def test_actual_request_from_another_origin_gets_no_allow_origin(
    client: httpx.Client, signed_in: dict[str, str]
) -> None:
    response = client.get("/api/x", headers={**signed_in, "Origin": EVIL})

    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
    assert "origin" in vary(response)


def test_refusal_to_an_allowed_origin_is_readable_by_that_origin(client: httpx.Client) -> None:
    # Without Access-Control-Allow-Origin the browser turns this 401 into an opaque
    # network error, and the page cannot tell an expired session from an outage.
    response = client.get("/api/x", headers={"Origin": ALLOWED})

    assert response.status_code == 401
    assert response.headers.get("access-control-allow-origin") == ALLOWED
    assert "origin" in vary(response)

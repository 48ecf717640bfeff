"""Rate limits kept in the edge's memory: per subject and per client address, with their headers."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.integration.edge_harness import EdgeUnderTest, edge_under_test

pytestmark = pytest.mark.integration

PER_USER_POLICY = '"per-user";q=5;w=60'
REMAINING = re.compile(r'"per-user";r=(\d+);t=(\d+)')


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EdgeUnderTest]:
    with edge_under_test(tmp_path_factory.mktemp("edge-rate-limits")) as running:
        yield running


@pytest.fixture(scope="module")
def client(edge: EdgeUnderTest) -> Iterator[httpx.Client]:
    with edge.client() as running:
        yield running


def bearer_for_new_subject(edge: EdgeUnderTest) -> dict[str, str]:
    return {"Authorization": f"Bearer {edge.token(f'limited-{uuid.uuid4().hex}')}"}


def test_subject_gets_its_quota_with_headers_then_429(
    edge: EdgeUnderTest, client: httpx.Client
) -> None:
    headers = bearer_for_new_subject(edge)
    before = edge.upstream_calls()

    allowed = [client.get("/limited/x", headers=headers) for _ in range(5)]
    refused = client.get("/limited/x", headers=headers)

    assert [r.status_code for r in allowed] == [200] * 5
    assert all(r.headers["ratelimit-policy"] == PER_USER_POLICY for r in allowed)
    remaining = []
    for response in allowed:
        match = REMAINING.fullmatch(response.headers["ratelimit"])
        assert match, response.headers["ratelimit"]
        remaining.append(int(match[1]))
        assert 0 < int(match[2]) <= 60
    assert remaining == [4, 3, 2, 1, 0]
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["status"] == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.headers["ratelimit-policy"] == PER_USER_POLICY
    assert edge.upstream_calls() - before == 5


def test_one_subjects_limit_leaves_another_subject_alone(
    edge: EdgeUnderTest, client: httpx.Client
) -> None:
    spent = bearer_for_new_subject(edge)
    for _ in range(6):
        client.get("/limited/x", headers=spent)
    assert client.get("/limited/x", headers=spent).status_code == 429

    response = client.get("/limited/x", headers=bearer_for_new_subject(edge))

    assert response.status_code == 200
    assert response.headers["ratelimit"].startswith('"per-user";r=4;')


def test_rate_limit_comes_after_authentication(client: httpx.Client) -> None:
    # An anonymous caller cannot spend (or probe) anyone's quota.
    response = client.get("/limited/x")

    assert response.status_code == 401
    assert "ratelimit" not in response.headers


def test_client_address_limit_refuses_the_fourth_request(
    edge: EdgeUnderTest, client: httpx.Client
) -> None:
    before = edge.upstream_calls()

    statuses = [client.get("/anon-limited/x").status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
    assert edge.upstream_calls() - before == 3


def test_spoofed_forwarded_for_does_not_buy_a_fresh_address_quota(client: httpx.Client) -> None:
    statuses = [client.get("/anon-limited/x").status_code for _ in range(4)]
    assert statuses[-1] == 429

    # No proxy is trusted: the TCP peer is the key, whatever the client claims.
    response = client.get("/anon-limited/x", headers={"X-Forwarded-For": "198.51.100.9"})

    assert response.status_code == 429

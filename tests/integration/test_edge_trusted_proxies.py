"""Behind a trusted load balancer, the client address comes from X-Forwarded-For."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from tests.integration.edge_harness import EdgeUnderTest, edge_under_test

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EdgeUnderTest]:
    # The tests connect from 127.0.0.1: here that is the load balancer.
    settings = {"EDGE_TRUSTED_PROXIES": json.dumps(["127.0.0.1/32"])}
    with edge_under_test(tmp_path_factory.mktemp("edge-trusted"), settings=settings) as running:
        yield running


@pytest.fixture(scope="module")
def client(edge: EdgeUnderTest) -> Iterator[httpx.Client]:
    with edge.client() as running:
        yield running


def test_per_address_limit_keys_on_the_forwarded_client(client: httpx.Client) -> None:
    first = {"X-Forwarded-For": "203.0.113.7"}
    other = {"X-Forwarded-For": "203.0.113.8"}

    statuses = [client.get("/anon-limited", headers=first).status_code for _ in range(4)]
    another_client = client.get("/anon-limited", headers=other)

    assert statuses == [200, 200, 200, 429]
    assert another_client.status_code == 200


def test_upstream_sees_the_trusted_chain_without_spoofed_entries(client: httpx.Client) -> None:
    response = client.get("/open/x", headers={"X-Forwarded-For": "6.6.6.6, 203.0.113.9"})

    headers = {name: value for name, value in response.json()["headers"]}
    # 203.0.113.9 was added by the trusted proxy; 6.6.6.6 was written by the client.
    assert headers["x-forwarded-for"] == "203.0.113.9, 127.0.0.1"

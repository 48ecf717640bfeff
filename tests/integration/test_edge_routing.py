"""Which route serves a path, and what reaches its upstream: matching, methods, prefix rewrites."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.integration.edge_harness import EdgeUnderTest, edge_under_test

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EdgeUnderTest]:
    with edge_under_test(tmp_path_factory.mktemp("edge-routing")) as running:
        yield running


@pytest.fixture(scope="module")
def client(edge: EdgeUnderTest) -> Iterator[httpx.Client]:
    with edge.client() as running:
        yield running


@pytest.fixture(scope="module")
def signed_in(edge: EdgeUnderTest) -> dict[str, str]:
    return {"Authorization": f"Bearer {edge.token('routing-user')}"}


def echoed(response: httpx.Response) -> dict[str, Any]:
    """What the echo backend saw; fails unless the request reached it and was answered."""
    assert response.status_code == 200, response.text
    seen: dict[str, Any] = response.json()
    return seen


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    return problem


def test_prefix_matches_itself_and_the_paths_below_it(
    client: httpx.Client, signed_in: dict[str, str]
) -> None:
    assert echoed(client.get("/api", headers=signed_in))["raw_path"] == "/api"
    assert echoed(client.get("/api/x", headers=signed_in))["raw_path"] == "/api/x"


def test_prefix_never_matches_a_longer_segment(
    edge: EdgeUnderTest, client: httpx.Client, signed_in: dict[str, str]
) -> None:
    before = edge.upstream_calls()

    problem = assert_problem(client.get("/apix", headers=signed_in), 404)

    assert problem["detail"] == "No route matches this path."
    assert edge.upstream_calls() == before


def test_exact_match_beats_a_prefix(client: httpx.Client) -> None:
    # /api/exact is `auth: none`; the /api prefix around it wants a token.
    assert echoed(client.get("/api/exact"))["raw_path"] == "/api/exact"
    assert client.get("/api/exact/below").status_code == 401


def test_longest_prefix_wins(client: httpx.Client) -> None:
    # /api/longer/prefix is `auth: none`, /api is not: the longer prefix decides.
    assert echoed(client.get("/api/longer/prefix/x"))["raw_path"] == "/api/longer/prefix/x"
    assert client.get("/api/longer").status_code == 401


def test_matching_is_case_sensitive(
    edge: EdgeUnderTest, client: httpx.Client, signed_in: dict[str, str]
) -> None:
    before = edge.upstream_calls()

    assert_problem(client.get("/API/x", headers=signed_in), 404)

    assert edge.upstream_calls() == before


def test_unmatched_path_is_404_problem_without_upstream_call(
    edge: EdgeUnderTest, client: httpx.Client
) -> None:
    before = edge.upstream_calls()

    problem = assert_problem(client.get("/nowhere/at/all"), 404)

    assert problem["title"] == "Not Found"
    assert edge.upstream_calls() == before


def test_problem_names_the_requested_path_as_its_instance(client: httpx.Client) -> None:
    # RFC 9457: `instance` is a URI reference to this occurrence; a relative
    # "nowhere/at/all/" would resolve to some other path.
    problem = assert_problem(client.get("/nowhere/at/all"), 404)

    assert problem["instance"] == "/nowhere/at/all"


def test_method_outside_the_routes_list_is_405_with_allow(
    edge: EdgeUnderTest, client: httpx.Client
) -> None:
    before = edge.upstream_calls()

    response = client.post("/readonly", content=b"{}")

    assert_problem(response, 405)
    # A route that allows GET allows HEAD: HEAD is GET without the body.
    assert response.headers["allow"] == "GET, HEAD"
    assert edge.upstream_calls() == before


def test_head_is_allowed_wherever_get_is(client: httpx.Client) -> None:
    response = client.head("/readonly")

    assert response.status_code == 200
    assert response.content == b""


def test_prefix_rewrite_replaces_the_matched_prefix_and_keeps_the_query(
    client: httpx.Client,
) -> None:
    seen = echoed(client.get("/v1/things/a?x=1"))

    assert seen["raw_path"] == "/things/a"
    assert seen["query"] == "x=1"


def test_prefix_rewrite_of_the_prefix_itself_is_the_new_prefix(client: httpx.Client) -> None:
    assert echoed(client.get("/v1/things"))["raw_path"] == "/things"

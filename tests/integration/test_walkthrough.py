"""The walkthrough (docs/walkthrough.md) against the real stack: login, screens through the
edge, refusals."""

from __future__ import annotations

import httpx
import jwt
import pytest

from devstack.stack import Stack
from devstack.topology import Topology
from tests.running_stack import access_entry, bearer, login
from tests.token_issuer import TestIssuer

pytestmark = pytest.mark.integration


def test_login_through_edge_returns_es256_bearer_token(edge: httpx.Client) -> None:
    response = edge.post("/auth/token", json={"username": "alice", "password": "alice"})

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] > 0
    header = jwt.get_unverified_header(body["access_token"])
    assert header["alg"] == "ES256"
    assert header["kid"]
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert {"iss", "aud", "sub", "iat", "exp"} <= claims.keys()


def test_wrong_password_and_unknown_user_get_the_same_401(edge: httpx.Client) -> None:
    wrong = edge.post("/auth/token", json={"username": "alice", "password": "nope"})
    unknown = edge.post("/auth/token", json={"username": "mallory", "password": "nope"})

    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]
    assert wrong.headers["content-type"] == "application/problem+json"


def test_login_missing_field_is_422_naming_it(edge: httpx.Client) -> None:
    response = edge.post("/auth/token", json={"username": "alice"})

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "password"


def test_dashboard_through_edge_shows_profile_and_recent_orders(edge: httpx.Client) -> None:
    token = login(edge, "alice")

    response = edge.get("/api/web/dashboard", headers=bearer(token))

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["profile"]["display_name"] == "Alice Example"
    assert body["recent_orders"], "the demo data gives alice orders"
    for order in body["recent_orders"]:
        assert isinstance(order["total"]["amount_minor"], int)
        assert order["items"], "recent orders carry their line items"
    assert body["stats"]["order_count"] >= len(body["recent_orders"])
    assert body["degraded"] == []
    assert "x-degraded" not in response.headers


def test_mobile_home_through_edge_is_a_compact_summary(edge: httpx.Client) -> None:
    token = login(edge, "bob")

    response = edge.get("/api/mobile/home", headers=bearer(token))

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["name"] == "Bob Example"
    assert body["order_count"] >= 1
    assert body["last_order"]["status"] in {"placed", "shipped", "cancelled"}
    assert set(body) == {"name", "order_count", "last_order", "degraded"}
    assert body["degraded"] == []


@pytest.mark.parametrize("path", ["/api/web/dashboard", "/api/mobile/home"])
def test_api_without_token_is_401_at_the_edge(edge: httpx.Client, path: str) -> None:
    response = edge.get(path)

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["request_id"] == response.headers["x-request-id"]


def test_token_from_another_issuer_key_is_401(edge: httpx.Client) -> None:
    forged = TestIssuer().token()

    response = edge.get("/api/web/dashboard", headers=bearer(forged))

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'


@pytest.mark.parametrize("path", ["/nothing", "/api", "/api/webx", "/authx/token"])
def test_unrouted_path_is_404_problem(edge: httpx.Client, path: str) -> None:
    response = edge.get(path)

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("raw", ["/api/web/%2e%2e/mobile/home", "/api/web/..%2fmobile"])
def test_traversal_path_is_400(edge: httpx.Client, raw: str) -> None:
    response = edge.get(httpx.URL(edge.base_url.join("/"), raw_path=raw.encode()))

    assert response.status_code == 400


def test_request_id_is_kept_echoed_and_forwarded(edge: httpx.Client, stack: Stack) -> None:
    token = login(edge, "alice")

    response = edge.get(
        "/api/web/dashboard", headers={**bearer(token), "X-Request-Id": "walkthrough-42"}
    )

    assert response.headers["x-request-id"] == "walkthrough-42"
    assert access_entry(stack.processes["orders"], "walkthrough-42")["status"] == 200
    assert access_entry(stack.processes["users"], "walkthrough-42")["status"] == 200


def test_edge_refuses_plain_http(topology: Topology) -> None:
    plain = f"http://127.0.0.1:{topology.ports['edge']}/livez"

    with pytest.raises(httpx.HTTPError):
        httpx.get(plain, timeout=2.0)

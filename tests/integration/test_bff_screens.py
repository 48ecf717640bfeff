"""The BFFs' screens through the edge: degradation, deadlines, caching, idempotent orders."""

from __future__ import annotations

import uuid

import httpx
import msgspec
import pytest

import bff_mobile.schemas as mobile
import bff_web.schemas as web
from devstack.stack import Stack
from devstack.topology import Topology
from tests.running_stack import bearer, login, wait_for_entry, wait_until_whole

pytestmark = pytest.mark.integration

NEW_ORDER = {
    "currency": "EUR",
    "items": [{"sku": "MUG-02", "name": "Mug", "quantity": 1, "unit_price_minor": 1200}],
}


def test_slow_optional_service_degrades_when_the_budget_runs_out(edge: httpx.Client) -> None:
    token = login(edge, "alice")

    response = edge.get(
        "/api/web/dashboard", headers={**bearer(token), "X-Fault": "orders=slow:3000"}
    )

    assert response.status_code == 200
    assert response.json()["degraded"] == ["recent_orders", "stats"]
    assert response.json()["profile"]["display_name"] == "Alice Example"


def test_slow_required_service_is_504(edge: httpx.Client) -> None:
    token = login(edge, "alice")

    response = edge.get(
        "/api/web/dashboard", headers={**bearer(token), "X-Fault": "users=slow:3000"}
    )

    assert response.status_code == 504
    assert response.headers["content-type"] == "application/problem+json"


def test_injected_outage_opens_the_circuit_without_calling_the_service(
    edge: httpx.Client, topology: Topology
) -> None:
    token = login(edge, "bob")
    for _ in range(3):
        edge.get("/api/mobile/home", headers={**bearer(token), "X-Fault": "orders=down"})

    readyz = httpx.get(topology.internal_url("bff_mobile") + "/readyz", trust_env=False)
    metrics = httpx.get(topology.internal_url("bff_mobile") + "/metrics", trust_env=False).text

    assert readyz.json()["info"]["circuit:orders"] == "open"
    assert 'frontdoor_bff_upstream_calls_total{outcome="circuit_open",upstream="orders"}' in metrics
    assert 'frontdoor_bff_circuit_state{upstream="orders"} 2.0' in metrics
    # After the cool-down one real request is the probe, and its success closes the circuit.
    wait_until_whole(edge, "/api/mobile/home", token)
    readyz = httpx.get(topology.internal_url("bff_mobile") + "/readyz", trust_env=False)
    assert readyz.json()["info"]["circuit:orders"] == "closed"


def test_mobile_home_fits_the_payload_budget_and_revalidates_with_etag(
    edge: httpx.Client,
) -> None:
    token = login(edge, "alice")
    first = edge.get("/api/mobile/home", headers=bearer(token))
    etag = first.headers["etag"]

    again = edge.get("/api/mobile/home", headers={**bearer(token), "If-None-Match": etag})

    assert first.status_code == 200
    assert len(first.content) < 1024, "the home screen's budget is 1 KiB"
    assert first.headers["cache-control"] == "private, no-cache"
    assert not etag.startswith("W/")
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag


def test_order_created_through_the_web_bff_is_idempotent_and_listed(edge: httpx.Client) -> None:
    token = login(edge, "alice")
    key = {"Idempotency-Key": f"web-{uuid.uuid4().hex}"}

    first = edge.post("/api/web/orders", json=NEW_ORDER, headers={**bearer(token), **key})
    retry = edge.post("/api/web/orders", json=NEW_ORDER, headers={**bearer(token), **key})
    keyless = edge.post("/api/web/orders", json=NEW_ORDER, headers=bearer(token))
    listed = edge.get("/api/web/orders", params={"status": "placed"}, headers=bearer(token))
    detail = edge.get(f"/api/mobile/orders/{first.json()['id']}", headers=bearer(token))

    assert first.status_code == retry.status_code == 201
    assert first.json()["id"] == retry.json()["id"]
    assert "idempotent-replayed" not in first.headers
    assert retry.headers["idempotent-replayed"] == "true"
    assert keyless.status_code == 400
    assert first.json()["id"] in {order["id"] for order in listed.json()["items"]}
    assert detail.json()["lines"] == [{"name": "Mug", "quantity": 1, "total_minor": 1200}]


def test_invalid_order_is_422_naming_the_field(edge: httpx.Client) -> None:
    token = login(edge, "alice")
    bad = {**NEW_ORDER, "items": [{**NEW_ORDER["items"][0], "quantity": 0}]}  # type: ignore[dict-item]

    response = edge.post(
        "/api/web/orders", json=bad, headers={**bearer(token), "Idempotency-Key": uuid.uuid4().hex}
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "items[0].quantity"


def test_someone_elses_order_is_404_through_both_bffs(edge: httpx.Client) -> None:
    alice, bob = login(edge, "alice"), login(edge, "bob")
    bobs = edge.get("/api/web/orders", params={"limit": 1}, headers=bearer(bob)).json()["items"][0]

    for path in (f"/api/web/orders/{bobs['id']}", f"/api/mobile/orders/{bobs['id']}"):
        assert edge.get(path, headers=bearer(alice)).status_code == 404, path
    cancel = edge.post(f"/api/web/orders/{bobs['id']}/cancel", headers=bearer(alice))
    assert cancel.status_code == 404


@pytest.mark.parametrize(
    ("service", "path", "structs"),
    [
        ("users", "/users/me", [web.Profile, mobile.Profile]),
        ("orders", "/orders?limit=5", [web.OrderPage, mobile.OrderPage]),
        ("orders", "/orders/stats", [web.OrderStats, mobile.OrderStats]),
    ],
)
def test_bff_contracts_hold_against_the_real_services(
    edge: httpx.Client,
    topology: Topology,
    service: str,
    path: str,
    structs: list[type[msgspec.Struct]],
) -> None:
    """Each BFF re-declares the fields it reads; the services must still send them."""
    token = login(edge, "alice")
    response = httpx.get(
        topology.internal_url(service) + path, headers=bearer(token), trust_env=False
    )

    assert response.status_code == 200
    for struct in structs:
        msgspec.json.decode(response.content, type=struct)  # raises on a missing field


def test_a_failing_service_is_logged_with_the_clients_request_id(
    edge: httpx.Client, stack: Stack
) -> None:
    token = login(edge, "alice")
    request_id = f"fault-{uuid.uuid4().hex[:12]}"

    response = edge.get(
        "/api/web/dashboard",
        headers={**bearer(token), "X-Fault": "orders=down", "X-Request-Id": request_id},
    )

    assert response.json()["degraded"] == ["recent_orders", "stats"]
    # Raises unless the warning about orders carries the client's request id.
    wait_for_entry(
        stack.processes["bff_web"],
        lambda entry: (
            entry.get("request_id") == request_id
            and entry["level"] == "WARNING"
            and "on orders failed" in entry["message"]
        ),
    )
    wait_until_whole(edge, "/api/web/dashboard", token)


@pytest.mark.parametrize("order_id", ["stats", "%3Fstatus=placed", "not-an-id"])
def test_an_id_that_names_no_order_is_404_and_reaches_no_other_endpoint(
    edge: httpx.Client, order_id: str
) -> None:
    token = login(edge, "alice")

    for path in (f"/api/web/orders/{order_id}", f"/api/mobile/orders/{order_id}"):
        response = edge.get(path, headers=bearer(token))
        assert response.status_code == 404, (path, response.text)


def test_no_personal_web_screen_may_be_stored_by_a_cache(edge: httpx.Client) -> None:
    token = login(edge, "alice")
    key = {"Idempotency-Key": f"cache-{uuid.uuid4().hex}"}
    placed = edge.post("/api/web/orders", json=NEW_ORDER, headers={**bearer(token), **key})
    order_id = placed.json()["id"]

    answers = {
        "dashboard": edge.get("/api/web/dashboard", headers=bearer(token)),
        "orders": edge.get("/api/web/orders", headers=bearer(token)),
        "order": edge.get(f"/api/web/orders/{order_id}", headers=bearer(token)),
        "create": placed,
        "cancel": edge.post(f"/api/web/orders/{order_id}/cancel", headers=bearer(token)),
    }

    assert all(r.status_code < 300 for r in answers.values()), answers
    cache_control = {name: r.headers.get("cache-control") for name, r in answers.items()}
    assert cache_control == dict.fromkeys(answers, "no-store")

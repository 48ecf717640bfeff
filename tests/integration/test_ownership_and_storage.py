"""What the domain services guarantee, checked on the real processes twice: on the
session's stack (SQLite files) and on a stack of this module's own on PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import ExitStack

import httpx
import pytest

from devstack.stack import Stack
from devstack.topology import Topology
from tests.databases import postgres_schema
from tests.running_stack import bearer, login, relaxed_route_file, start_stack

pytestmark = pytest.mark.integration

NEW_ORDER = {
    "currency": "EUR",
    "items": [{"sku": "TEA-01", "name": "Green tea", "quantity": 2, "unit_price_minor": 450}],
}


# Overrides the session's stack: every test below runs on each of these two.
@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def running(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Stack, Topology]]:
    if request.param == "sqlite":
        yield request.getfixturevalue("session_stack")
        return
    server: str = request.getfixturevalue("postgres_url")
    state = tmp_path_factory.mktemp("postgres-stack")
    with ExitStack() as schemas:
        users, orders = (schemas.enter_context(postgres_schema(server, n)) for n in ("u", "o"))
        stack, topology = start_stack(
            state,
            {
                "edge": {"EDGE_ROUTES_FILE": str(relaxed_route_file(state))},
                "users": {"USERS_DATABASE_URL": users},
                "orders": {"ORDERS_DATABASE_URL": orders},
            },
        )
        try:
            yield stack, topology
        finally:
            stack.stop()


def orders_client(topology: Topology, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=topology.internal_url("orders"), headers=bearer(token), trust_env=False
    )


def first_order_id(topology: Topology, token: str) -> str:
    with orders_client(topology, token) as orders:
        page = orders.get("/orders", params={"limit": 1})
    assert page.status_code == 200, page.text
    order_id: str = page.json()["items"][0]["id"]
    return order_id


def test_alice_cannot_read_bobs_order_by_any_path(edge: httpx.Client, topology: Topology) -> None:
    alice, bob = login(edge, "alice"), login(edge, "bob")
    bobs_order = first_order_id(topology, bob)
    with orders_client(topology, bob) as orders:
        status_before = orders.get(f"/orders/{bobs_order}").json()["status"]

    with orders_client(topology, alice) as orders:
        foreign = orders.get(f"/orders/{bobs_order}")
        unknown = orders.get(f"/orders/{uuid.uuid4().hex}")
        cancel = orders.post(f"/orders/{bobs_order}/cancel")
    dashboard = edge.get("/api/web/dashboard", headers=bearer(alice)).json()

    assert foreign.status_code == unknown.status_code == cancel.status_code == 404
    assert foreign.json()["detail"] == unknown.json()["detail"]
    assert bobs_order not in {order["id"] for order in dashboard["recent_orders"]}
    with orders_client(topology, bob) as orders:
        assert orders.get(f"/orders/{bobs_order}").json()["status"] == status_before


def test_alice_cannot_read_bobs_profile(edge: httpx.Client, topology: Topology) -> None:
    alice, bob = login(edge, "alice"), login(edge, "bob")
    with httpx.Client(base_url=topology.internal_url("users"), trust_env=False) as users:
        bob_id = users.get("/users/me", headers=bearer(bob)).json()["id"]
        response = users.get(f"/users/{bob_id}", headers=bearer(alice))

    assert response.status_code == 404


def test_services_refuse_a_request_without_token(topology: Topology) -> None:
    for name, path in (("orders", "/orders"), ("users", "/users/me")):
        response = httpx.get(topology.internal_url(name) + path, trust_env=False)
        assert response.status_code == 401, name


async def test_concurrent_retries_with_one_idempotency_key_create_one_order(
    edge: httpx.Client, topology: Topology
) -> None:
    token = login(edge, "alice")
    key = f"retry-{uuid.uuid4().hex}"
    async with httpx.AsyncClient(
        base_url=topology.internal_url("orders"), headers=bearer(token), trust_env=False
    ) as orders:
        before = (await orders.get("/orders/stats")).json()["order_count"]
        responses = await asyncio.gather(
            *(
                orders.post("/orders", json=NEW_ORDER, headers={"Idempotency-Key": key})
                for _ in range(10)
            )
        )
        after = (await orders.get("/orders/stats")).json()["order_count"]

    assert {response.status_code for response in responses} == {201}
    assert len({response.json()["id"] for response in responses}) == 1
    assert after == before + 1


def test_orders_survive_a_restart_of_the_orders_process(
    edge: httpx.Client, stack: Stack, topology: Topology
) -> None:
    token = login(edge, "alice")
    with orders_client(topology, token) as orders:
        created = orders.post("/orders", json=NEW_ORDER)
    assert created.status_code == 201, created.text

    stack.restart("orders")

    with orders_client(topology, token) as orders:
        again = orders.get(f"/orders/{created.json()['id']}")
    assert again.status_code == 200
    assert again.json() == created.json()

"""The last hop honours the deadline: a service stops work that can no longer be delivered."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from devstack.stack import Stack
from devstack.topology import Topology
from tests.running_stack import bearer, login, relaxed_route_file, start_stack

pytestmark = pytest.mark.integration

BUDGET = "x-request-budget-ms"
DELAY_MS = 400
ORDER = {
    "currency": "EUR",
    "items": [{"sku": "TEA-01", "name": "Tea", "quantity": 1, "unit_price_minor": 450}],
}


@pytest.fixture(scope="module")
def slow_orders(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, Topology]]:
    state = tmp_path_factory.mktemp("deadlines")
    stack, topology = start_stack(
        state,
        {
            "edge": {"EDGE_ROUTES_FILE": str(relaxed_route_file(state))},
            "orders": {"ORDERS_DEV_RESPONSE_DELAY_MS": str(DELAY_MS)},
        },
    )
    try:
        yield stack, topology
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def orders(slow_orders: tuple[Stack, Topology]) -> Iterator[httpx.Client]:
    _, topology = slow_orders
    with httpx.Client(
        base_url=topology.edge_url, verify=topology.certs.client_context(), trust_env=False
    ) as edge:
        token = login(edge, "alice")
    with httpx.Client(
        base_url=topology.internal_url("orders"), headers=bearer(token), trust_env=False
    ) as client:
        yield client


def order_count(orders: httpx.Client) -> int:
    count: int = orders.get("/orders/stats").json()["order_count"]
    return count


def test_spent_budget_is_504_and_no_work_is_done(orders: httpx.Client) -> None:
    before = order_count(orders)

    response = orders.post("/orders", json=ORDER, headers={BUDGET: "0", "Idempotency-Key": "b0"})

    assert response.status_code == 504
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["request_id"] == response.headers["x-request-id"]
    assert order_count(orders) == before


def test_work_still_running_at_the_budget_is_cut_off_with_504(orders: httpx.Client) -> None:
    started = time.monotonic()
    response = orders.get("/orders", headers={BUDGET: "100"})
    elapsed = time.monotonic() - started

    assert response.status_code == 504
    assert response.json()["detail"].startswith("The request's time budget ran out")
    # Cut off at the budget, not after the 400 ms the handler would have taken.
    assert elapsed < DELAY_MS / 1000, elapsed


def test_a_create_cut_off_at_the_budget_leaves_no_order(orders: httpx.Client) -> None:
    before = order_count(orders)

    response = orders.post("/orders", json=ORDER, headers={BUDGET: "50", "Idempotency-Key": "c1"})

    assert response.status_code == 504
    assert order_count(orders) == before


@pytest.mark.parametrize("value", ["soon", "-5", "1.5", "99999999999"])
def test_malformed_budget_is_ignored(orders: httpx.Client, value: str) -> None:
    response = orders.get("/orders", headers={BUDGET: value})

    assert response.status_code == 200


def test_a_budget_longer_than_the_work_lets_it_finish(orders: httpx.Client) -> None:
    response = orders.get("/orders/stats", headers={BUDGET: str(DELAY_MS * 5)})

    assert response.status_code == 200

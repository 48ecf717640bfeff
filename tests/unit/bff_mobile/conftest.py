"""Fixtures for the mobile BFF: the users and orders services mocked at the wire, app running."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import respx
from litestar import Litestar
from litestar.testing import AsyncTestClient

from bff_mobile.app import create_app
from bff_mobile.settings import Settings
from tests.unit.fake_services import AUTH as AUTH
from tests.unit.fake_services import ORDERS as ORDERS
from tests.unit.fake_services import PROBLEM_JSON as PROBLEM_JSON
from tests.unit.fake_services import PROFILE as PROFILE
from tests.unit.fake_services import USERS as USERS

Client = AsyncTestClient[Litestar]
STATS: dict[str, Any] = {"order_count": 7, "by_status": {"placed": 4, "cancelled": 3}}
LATEST: dict[str, Any] = {
    "id": "00000000000000000000000000000007",
    "status": "placed",
    "currency": "EUR",
    "total_minor": 2500,
    "created_at": "2026-11-21T09:30:00Z",
    "items": [{"sku": "SKU-1", "name": "Mug", "quantity": 2, "unit_price_minor": 1250}],
}


def page(*orders: dict[str, Any], next_cursor: str | None = None) -> dict[str, Any]:
    return {"items": list(orders), "next_cursor": next_cursor}


class Services:
    """The services' routes the phone's screens call, for tests to answer and inspect."""

    def __init__(self, router: respx.MockRouter) -> None:
        self.router = router
        self.me = router.get(f"{USERS}/users/me")
        self.stats = router.get(f"{ORDERS}/orders/stats")
        self.orders = router.get(f"{ORDERS}/orders")  # the order list, and the latest order

    @property
    def all(self) -> tuple[respx.Route, ...]:
        return (self.me, self.stats, self.orders)

    @property
    def service_calls(self) -> list[httpx.Request]:
        """Requests that reached a service."""
        return [c.request for c in self.router.calls]

    @property
    def transport(self) -> httpx.AsyncBaseTransport:
        """The network as the app's clients see it: these routes."""
        return httpx.MockTransport(self.router.async_handler)

    def orders_down(self) -> None:
        for route in (self.stats, self.orders):
            route.mock(side_effect=httpx.ConnectError("connection refused"))


@pytest.fixture
def services() -> Iterator[Services]:
    # The router stands in for the network under the BFF's transport chain (see
    # `Services.transport`), so deadlines, retries and breakers run for real above it.
    with respx.MockRouter(assert_all_called=False) as router:
        services = Services(router)
        services.me.respond(json=PROFILE)
        services.stats.respond(json=STATS)
        services.orders.respond(json=page(LATEST))
        yield services


@pytest.fixture
async def client(services: Services) -> AsyncIterator[Client]:
    async with AsyncTestClient(
        app=create_app(Settings(users_url=USERS, orders_url=ORDERS), transport=services.transport)
    ) as c:
        yield c

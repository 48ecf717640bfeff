"""Fixtures for the web BFF: the users and orders services mocked at the wire, the app running."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
import respx
from litestar import Litestar
from litestar.testing import AsyncTestClient

from bff_web.app import create_app
from bff_web.settings import Settings

USERS = "http://users.test"
ORDERS = "http://orders.test"
AUTH = {"Authorization": "Bearer alice-token"}
Client = AsyncTestClient[Litestar]

PROFILE: dict[str, Any] = {
    "id": "u-alice",
    "username": "alice",
    "display_name": "Alice Example",
    "email": "alice@example.com",
    "created_at": "2026-01-01T00:00:00+00:00",
}


def order(
    order_id: str, status: str, currency: str, total_minor: int, *quantities: int
) -> dict[str, Any]:
    return {
        "id": order_id,
        "status": status,
        "currency": currency,
        "total_minor": total_minor,
        "created_at": "2026-11-20T10:00:00Z",
        "items": [
            {"sku": f"SKU-{n}", "name": f"Item {n}", "quantity": q, "unit_price_minor": 100}
            for n, q in enumerate(quantities)
        ],
    }


def page(*orders: dict[str, Any]) -> dict[str, Any]:
    return {"items": list(orders), "next_cursor": None}


class Services:
    """The two services' routes, for tests to answer and inspect."""

    def __init__(self, router: respx.MockRouter) -> None:
        self.me = router.get(f"{USERS}/users/me")
        self.orders = router.get(f"{ORDERS}/orders")


@pytest.fixture
def services() -> Iterator[Services]:
    with respx.mock(assert_all_called=False) as router:
        services = Services(router)
        services.me.respond(json=PROFILE)
        services.orders.respond(json=page())
        yield services


@pytest.fixture
async def client(services: Services) -> AsyncIterator[Client]:
    async with AsyncTestClient(app=create_app(Settings(users_url=USERS, orders_url=ORDERS))) as c:
        yield c


SideEffect = Callable[[httpx.Request], Awaitable[httpx.Response]]


class Rendezvous:
    """Answers only once every expected call is in flight: a sequential caller times out."""

    def __init__(self, parties: int, timeout_s: float = 2.0) -> None:
        self._parties = parties
        self._timeout_s = timeout_s
        self._arrived = 0
        self._all_in = asyncio.Event()

    def answering(self, payload: dict[str, Any]) -> SideEffect:
        async def side_effect(request: httpx.Request) -> httpx.Response:
            self._arrived += 1
            if self._arrived == self._parties:
                self._all_in.set()
            try:
                await asyncio.wait_for(self._all_in.wait(), self._timeout_s)
            except TimeoutError:
                return httpx.Response(503, json={"detail": "calls did not overlap"})
            return httpx.Response(200, json=payload)

        return side_effect

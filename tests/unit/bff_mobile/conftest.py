"""Fixtures for the mobile BFF: the users and orders services mocked at the wire, app running."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
import respx
from litestar import Litestar
from litestar.testing import AsyncTestClient

from bff_mobile.app import create_app
from bff_mobile.settings import Settings

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
STATS: dict[str, Any] = {"order_count": 7, "by_status": {"placed": 4, "cancelled": 3}}
LATEST: dict[str, Any] = {
    "id": "o-7",
    "status": "placed",
    "currency": "EUR",
    "total_minor": 2500,
    "created_at": "2026-11-21T09:30:00Z",
    "items": [{"sku": "SKU-1", "name": "Mug", "quantity": 2, "unit_price_minor": 1250}],
}


def page(*orders: dict[str, Any]) -> dict[str, Any]:
    return {"items": list(orders), "next_cursor": None}


class Services:
    """The services' routes the home screen calls, for tests to answer and inspect."""

    def __init__(self, router: respx.MockRouter) -> None:
        self.me = router.get(f"{USERS}/users/me")
        self.stats = router.get(f"{ORDERS}/orders/stats")
        self.latest = router.get(f"{ORDERS}/orders")

    @property
    def all(self) -> tuple[respx.Route, ...]:
        return (self.me, self.stats, self.latest)


@pytest.fixture
def services() -> Iterator[Services]:
    with respx.mock(assert_all_called=False) as router:
        services = Services(router)
        services.me.respond(json=PROFILE)
        services.stats.respond(json=STATS)
        services.latest.respond(json=page(LATEST))
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

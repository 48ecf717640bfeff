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
from prometheus_client.parser import text_string_to_metric_families

from bff_web.app import create_app
from bff_web.settings import Settings
from tests.unit.fake_services import AUTH as AUTH
from tests.unit.fake_services import ORDERS as ORDERS
from tests.unit.fake_services import PROBLEM_JSON as PROBLEM_JSON
from tests.unit.fake_services import PROFILE as PROFILE
from tests.unit.fake_services import USERS as USERS

Client = AsyncTestClient[Litestar]
STATS: dict[str, Any] = {"order_count": 4, "by_status": {"placed": 3, "cancelled": 1}}


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


def page(*orders: dict[str, Any], next_cursor: str | None = None) -> dict[str, Any]:
    return {"items": list(orders), "next_cursor": next_cursor}


def web_settings(**overrides: Any) -> Settings:
    return Settings(users_url=USERS, orders_url=ORDERS, **overrides)


class Services:
    """The two services' routes, for tests to answer and inspect."""

    def __init__(self, router: respx.MockRouter) -> None:
        self.router = router
        self.me = router.get(f"{USERS}/users/me")
        self.stats = router.get(f"{ORDERS}/orders/stats")
        self.orders = router.get(f"{ORDERS}/orders")
        self.create = router.post(f"{ORDERS}/orders")

    @property
    def dashboard_orders(self) -> tuple[respx.Route, respx.Route]:
        """The orders service's two calls on the dashboard."""
        return (self.orders, self.stats)

    @property
    def service_calls(self) -> list[httpx.Request]:
        """Requests that reached a service."""
        return [c.request for c in self.router.calls]

    @property
    def transport(self) -> httpx.AsyncBaseTransport:
        """The network as the app's clients see it: these routes."""
        return httpx.MockTransport(self.router.async_handler)

    def orders_down(self) -> None:
        for route in self.dashboard_orders:
            route.mock(side_effect=httpx.ConnectError("connection refused"))


@pytest.fixture
def services() -> Iterator[Services]:
    # The router stands in for the network under the BFF's transport chain (see
    # `Services.transport`), so deadlines, retries and breakers run for real above it.
    with respx.MockRouter(assert_all_called=False) as router:
        services = Services(router)
        services.me.respond(json=PROFILE)
        services.stats.respond(json=STATS)
        services.orders.respond(json=page())
        yield services


@pytest.fixture
async def client(services: Services) -> AsyncIterator[Client]:
    async with AsyncTestClient(app=create_app(web_settings(), transport=services.transport)) as c:
        yield c


@pytest.fixture
async def dev_client(services: Services) -> AsyncIterator[Client]:
    """The app in dev mode, where the X-Fault header is honoured."""
    async with AsyncTestClient(
        app=create_app(web_settings(environment="dev"), transport=services.transport)
    ) as c:
        yield c


SideEffect = Callable[[httpx.Request], Awaitable[httpx.Response]]


def slow(payload: dict[str, Any], delay_s: float = 1.0) -> SideEffect:
    """An answer that takes `delay_s`, for deadline tests."""

    async def side_effect(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(delay_s)
        return httpx.Response(200, json=payload)

    return side_effect


async def scrape(client: Client) -> httpx.Response:
    """`/metrics` as a scraper on loopback reads it: the test client's peer is no
    address, and only loopback may read by default."""
    loopback = httpx.ASGITransport(app=client.app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=loopback, base_url="http://testserver.local") as local:
        return await local.get("/metrics")


def metric(text: str, name: str, **labels: str) -> float | None:
    """One value from a /metrics page, as Prometheus reads it, or None when absent."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return None

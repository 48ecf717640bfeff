"""The web BFF in-process, its two services mocked at the wire with respx.

The mock stands in for the network under the BFF's transport chain, so the
deadline, retries and circuit breakers of the copy's code run for real above it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import msgspec
import respx
from litestar import Litestar
from litestar.testing import AsyncTestClient

from bff_web.app import create_app
from bff_web.settings import Settings

USERS = "http://users.test"
ORDERS = "http://orders.test"
DASHBOARD = "/api/web/dashboard"
# The BFF forwards the caller's token; the services, mocked here, would verify it.
BEARER = {"Authorization": "Bearer workshop-token"}
PROFILE: dict[str, Any] = {
    "id": "u-alice",
    "display_name": "Alice Example",
    "email": "a@example.com",
}
STATS: dict[str, Any] = {"order_count": 1, "by_status": {"placed": 1}}
ORDER: dict[str, Any] = {
    "id": "0" * 31 + "1",
    "status": "placed",
    "currency": "EUR",
    "total_minor": 1190,
    "created_at": "2026-11-20T10:00:00Z",
    "items": [{"sku": "CF-0250", "name": "Coffee", "quantity": 1, "unit_price_minor": 1190}],
}
PAGE: dict[str, Any] = {"items": [ORDER], "next_cursor": None}
SideEffect = Callable[[httpx.Request], Awaitable[httpx.Response]]
# Longer than any budget a check sets: a call to a hanging service ends only by its deadline.
HANG_S = 60.0


class MockedServices:
    """The users and orders services' three routes the dashboard calls, for a check to steer."""

    def __init__(self, router: respx.MockRouter) -> None:
        self.router = router
        self.me = router.get(f"{USERS}/users/me").respond(json=PROFILE)
        self.orders = router.get(f"{ORDERS}/orders").respond(json=PAGE)
        self.stats = router.get(f"{ORDERS}/orders/stats").respond(json=STATS)

    @property
    def transport(self) -> httpx.AsyncBaseTransport:
        return httpx.MockTransport(self.router.async_handler)

    def calls_to(self, base_url: str) -> int:
        host = httpx.URL(base_url).host
        return sum(1 for call in self.router.calls if call.request.url.host == host)

    def orders_refuse(self) -> None:
        for route in (self.orders, self.stats):
            route.mock(side_effect=httpx.ConnectError("connection refused"))

    def orders_hang(self) -> None:
        for route in (self.orders, self.stats):
            route.mock(side_effect=_after(HANG_S, route.return_value))

    def orders_answer(self) -> None:
        self.orders.mock(return_value=httpx.Response(200, json=PAGE), side_effect=None)
        self.stats.mock(return_value=httpx.Response(200, json=STATS), side_effect=None)

    def each_call_takes(self, seconds: float) -> None:
        for route in (self.me, self.orders, self.stats):
            route.mock(side_effect=_after(seconds, route.return_value))


def _after(seconds: float, answer: httpx.Response | None) -> SideEffect:
    async def side_effect(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(seconds)
        return answer or httpx.Response(200)

    return side_effect


@contextmanager
def mocked_services() -> Iterator[MockedServices]:
    with respx.MockRouter(assert_all_called=False) as router:
        yield MockedServices(router)


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    headers: httpx.Headers
    elapsed_s: float


class WebBff:
    def __init__(self, client: AsyncTestClient[Litestar]) -> None:
        self._client = client

    async def dashboard(self) -> Answer:
        started = time.monotonic()
        response = await self._client.get(DASHBOARD, headers=BEARER)
        elapsed_s = time.monotonic() - started
        return Answer(response.status_code, response.json(), response.headers, elapsed_s)

    async def circuit(self, service: str) -> str:
        """The state of the BFF's circuit for `service`, as its /readyz shows it."""
        info = (await self._client.get("/readyz")).json()["info"]
        return str(info[f"circuit:{service}"])


@asynccontextmanager
async def web_bff(
    services: MockedServices, settings: Settings | None = None
) -> AsyncIterator[WebBff]:
    """The copy's web BFF with `settings` (its defaults otherwise), calling the mocked services."""
    wired = msgspec.structs.replace(settings or Settings(), users_url=USERS, orders_url=ORDERS)
    app = create_app(wired, transport=services.transport)
    async with AsyncTestClient(app=app) as client:
        yield WebBff(client)

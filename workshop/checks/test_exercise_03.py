"""Exercise 3: the phone's home screen shows how many items its last order holds, within its budget.

The copy's mobile BFF runs in-process with its two services mocked at the wire;
the payload budget is the one its own tests hold it to.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import respx
from litestar import Litestar
from litestar.testing import AsyncTestClient

from bff_mobile.app import create_app
from bff_mobile.settings import Settings
from tests.unit.bff_mobile.test_routes import HOME_BUDGET_BYTES
from workshop.checks.verdicts import copy_root, fail, require

USERS = "http://users.test"
ORDERS = "http://orders.test"
HOME = "/api/mobile/home"
BEARER = {"Authorization": "Bearer workshop-token"}
FIELD = "item_count"
WHERE = (
    "LastOrder in bff_mobile/schemas.py, filled in by MobileController.home in bff_mobile/routes.py"
)
MOBILE_TESTS = "tests/unit/bff_mobile"
STATS = {"order_count": 3, "by_status": {"placed": 3}}


def order(*quantities: int, name: str = "Coffee", order_id: str = "0" * 31 + "7") -> dict[str, Any]:
    return {
        "id": order_id,
        "status": "placed",
        "currency": "EUR",
        "total_minor": 100 * sum(quantities),
        "created_at": "2026-11-21T09:30:00Z",
        "items": [
            {"sku": f"SKU-{n}", "name": name, "quantity": q, "unit_price_minor": 100}
            for n, q in enumerate(quantities)
        ],
    }


class Services:
    def __init__(self, router: respx.MockRouter) -> None:
        self.router = router
        self.me = router.get(f"{USERS}/users/me").respond(json={"display_name": "Alice Example"})
        self.stats = router.get(f"{ORDERS}/orders/stats").respond(json=STATS)
        self.orders = router.get(f"{ORDERS}/orders")

    def latest(self, *orders: dict[str, Any]) -> None:
        self.orders.respond(json={"items": list(orders), "next_cursor": None})


@pytest.fixture
def services() -> Iterator[Services]:
    with respx.MockRouter(assert_all_called=False) as router:
        services = Services(router)
        services.latest(order(2, 3))
        yield services


@pytest.fixture
async def phone(services: Services) -> AsyncIterator[AsyncTestClient[Litestar]]:
    transport = httpx.MockTransport(services.router.async_handler)
    app = create_app(Settings(users_url=USERS, orders_url=ORDERS), transport=transport)
    async with AsyncTestClient(app=app) as client:
        yield client


async def home(phone: AsyncTestClient[Litestar]) -> httpx.Response:
    response = await phone.get(HOME, headers=BEARER)
    require(
        response.status_code == 200,
        f"GET {HOME} was answered {response.status_code}: {response.text[:300]}",
    )
    return response


async def test_the_last_order_shows_how_many_items_it_holds(
    phone: AsyncTestClient[Litestar],
) -> None:
    last = (await home(phone)).json()["last_order"]
    if FIELD not in last:
        fail(f"GET {HOME}: last_order has no {FIELD!r} yet ({sorted(last)}). Add it: {WHERE}.")
    require(
        last[FIELD] == 5,
        f"For a last order of 2 + 3 items, {FIELD} is {last[FIELD]!r}: count every unit, the "
        "sum of the items' quantities, as the web BFF's recent orders do (bff_web/screens.py).",
    )


async def test_home_stays_within_its_budget_with_a_long_name_and_a_large_order(
    phone: AsyncTestClient[Litestar], services: Services
) -> None:
    # The worst the services may send: a 200-character name in two-byte letters, an
    # order of 50 lines with long names. The phone needs none of the lines.
    services.me.respond(json={"display_name": "Ж" * 200})
    services.latest(order(*range(1, 51), name="Single-origin coffee " * 10))
    size = len((await home(phone)).content)
    require(
        size < HOME_BUDGET_BYTES,
        f"The home screen is {size} bytes, over its budget of {HOME_BUDGET_BYTES} bytes "
        f"(HOME_BUDGET_BYTES in {MOBILE_TESTS}/test_routes.py, which you must not raise): a "
        "phone on a slow network needs the count, not the items.",
    )


async def test_home_without_orders_still_has_a_null_last_order(
    phone: AsyncTestClient[Litestar], services: Services
) -> None:
    services.latest()
    body = (await home(phone)).json()
    require(
        body["last_order"] is None and body["degraded"] == [],
        f"With no orders, home should have last_order null and nothing degraded; it has {body}.",
    )


async def test_home_with_orders_down_is_degraded_not_failed(
    phone: AsyncTestClient[Litestar], services: Services
) -> None:
    for route in (services.stats, services.orders):
        route.mock(side_effect=httpx.ConnectError("connection refused"))
    body = (await home(phone)).json()
    require(
        body["last_order"] is None and "last_order" in body["degraded"],
        f"With orders down, home should degrade last_order, not fail; it answered {body}.",
    )


def test_the_mobile_bff_tests_still_pass() -> None:
    # The BFF's tests pin the home screen's exact shape: a new field is a change to them too.
    done = subprocess.run(  # noqa: S603 - this interpreter running pytest on the copy's tests
        [sys.executable, "-m", "pytest", MOBILE_TESTS, "-q", "--no-header", "-p",
         "no:cacheprovider", "-p", "pytest_asyncio.plugin", "--tb=no", "-rf"],
        cwd=copy_root(),
        env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    failures = [line for line in done.stdout.splitlines() if line.startswith("FAILED")]
    require(
        done.returncode == 0,
        f"{MOBILE_TESTS} fails in your copy; update what it expects of the home screen "
        "(test_routes.py) along with the screen:\n" + "\n".join(failures or [done.stdout[-2000:]]),
    )

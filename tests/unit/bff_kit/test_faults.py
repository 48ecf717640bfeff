"""Dev-only fault injection: `X-Fault` parsed, scoped to its request, acted out by the chain."""

# No `from __future__ import annotations`: litestar reads the handlers' annotations at runtime.
import time
from collections.abc import AsyncIterator

import pytest
import respx
from litestar import Litestar, get
from litestar.testing import AsyncTestClient

from bff_kit.answers import decode
from bff_kit.faults import FaultInjectionMiddleware, active_fault, parse_faults
from bff_kit.settings import BffSettings
from service_defaults.app import DeadlinePolicy, create_service_app
from service_defaults.deadlines import BUDGET_HEADER
from tests.unit.bff_kit.conftest import (
    CALLS,
    RETRIES,
    WIDGET,
    WIDGET_URL,
    Svc,
    Widget,
    open_svc,
)

Client = AsyncTestClient[Litestar]


def test_each_fault_kind_is_understood() -> None:
    assert parse_faults("orders=down, users=slow:1500 ,stats=status:503") == {
        "orders": "down",
        "users": "slow:1500",
        "stats": "status:503",
    }


@pytest.mark.parametrize(
    "value",
    ["orders=explode", "orders=slow:soon", "orders=slow:123456", "orders=status:200", "orders"],
)
def test_malformed_fault_is_ignored(value: str) -> None:
    assert parse_faults(f"{value},users=down") == {"users": "down"}


def test_no_fault_outside_a_request() -> None:
    assert active_fault("orders") is None


@get("/fault", sync_to_thread=False)
def fault_seen() -> dict[str, str | None]:
    return {"orders": active_fault("orders"), "users": active_fault("users")}


async def test_fault_applies_to_its_own_request_only() -> None:
    app = Litestar(route_handlers=[fault_seen], middleware=[FaultInjectionMiddleware])
    async with AsyncTestClient(app=app) as client:
        faulted = await client.get("/fault", headers={"X-Fault": "orders=slow:300"})
        plain = await client.get("/fault")

    assert faulted.json() == {"orders": "slow:300", "users": None}
    assert plain.json() == {"orders": None, "users": None}


# Acted out at the bottom of the chain, through retries and the breaker like real failures


def create_faulty_app(svc: Svc) -> Litestar:
    """A BFF of one route that calls "svc", with the fault middleware a dev BFF installs."""

    @get("/widget")
    async def widget() -> Widget:
        return decode(await svc.http.get("/widgets/w1"), Widget, service="svc")

    return create_service_app(
        title="faulty",
        route_handlers=[widget],
        middleware=[FaultInjectionMiddleware],
        deadline=DeadlinePolicy(max_budget_s=5.0, cut_off=False),
    )


@pytest.fixture
async def dev_svc(wire: respx.MockRouter) -> AsyncIterator[Svc]:
    async with open_svc(wire, BffSettings(environment="dev")) as svc:
        yield svc


@pytest.fixture
async def dev_client(dev_svc: Svc) -> AsyncIterator[Client]:
    async with AsyncTestClient(app=create_faulty_app(dev_svc)) as client:
        yield client


async def test_down_fault_is_retried_then_502_without_touching_the_service(
    dev_client: Client, dev_svc: Svc, wire: respx.MockRouter
) -> None:
    route = wire.get(WIDGET_URL).respond(json=WIDGET)

    response = await dev_client.get("/widget", headers={"X-Fault": "svc=down"})

    assert response.status_code == 502
    assert not route.called
    assert dev_svc.sample(RETRIES) == 2.0
    assert dev_svc.sample(CALLS, outcome="unreachable") == 1.0


async def test_status_fault_answers_that_status_without_touching_the_service(
    dev_client: Client, dev_svc: Svc, wire: respx.MockRouter
) -> None:
    route = wire.get(WIDGET_URL).respond(json=WIDGET)

    unavailable = await dev_client.get("/widget", headers={"X-Fault": "svc=status:503"})
    missing = await dev_client.get("/widget", headers={"X-Fault": "svc=status:404"})

    assert unavailable.status_code == 502  # a 503 after its retries
    assert dev_svc.sample(RETRIES) == 2.0
    assert missing.status_code == 404  # passed through as the service's own would be
    assert not route.called


async def test_slow_fault_delays_the_call_then_reaches_the_service(
    dev_client: Client, wire: respx.MockRouter
) -> None:
    route = wire.get(WIDGET_URL).respond(json=WIDGET)
    started = time.monotonic()

    response = await dev_client.get("/widget", headers={"X-Fault": "svc=slow:100"})

    assert time.monotonic() - started >= 0.1
    assert response.status_code == 200
    assert response.json() == WIDGET
    assert route.call_count == 1


async def test_slow_fault_past_the_deadline_is_504_at_the_deadline(
    dev_client: Client, wire: respx.MockRouter
) -> None:
    route = wire.get(WIDGET_URL).respond(json=WIDGET)
    started = time.monotonic()

    response = await dev_client.get(
        "/widget", headers={"X-Fault": "svc=slow:3000", BUDGET_HEADER: "100"}
    )

    assert response.status_code == 504
    assert time.monotonic() - started < 1.0
    assert not route.called


async def test_fault_for_another_upstream_leaves_this_one_alone(
    dev_client: Client, wire: respx.MockRouter
) -> None:
    wire.get(WIDGET_URL).respond(json=WIDGET)

    response = await dev_client.get("/widget", headers={"X-Fault": "orders=down"})

    assert response.status_code == 200


async def test_outside_dev_mode_the_chain_has_no_faults(wire: respx.MockRouter) -> None:
    route = wire.get(WIDGET_URL).respond(json=WIDGET)
    async with (
        open_svc(wire, BffSettings(environment="production")) as svc,
        AsyncTestClient(app=create_faulty_app(svc)) as client,
    ):
        response = await client.get("/widget", headers={"X-Fault": "svc=down"})

    assert response.status_code == 200
    assert route.call_count == 1

"""Dev-only fault injection: parsing `X-Fault`; a fault lasts exactly as long as its request."""

from __future__ import annotations

import pytest
from litestar import Litestar, get
from litestar.testing import AsyncTestClient

from service_defaults.faults import FaultInjectionMiddleware, active_fault, parse_faults


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

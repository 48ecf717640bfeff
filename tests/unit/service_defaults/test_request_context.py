"""The request id: kept when well formed, minted otherwise, echoed, forwarded downstream."""

from __future__ import annotations

import re

import pytest
import respx
from litestar import Litestar, get
from litestar.testing import AsyncTestClient

from service_defaults.app import create_service_app
from service_defaults.http_clients import create_http_client

Client = AsyncTestClient[Litestar]
MINTED = re.compile(r"[0-9a-f]{32}")


async def test_well_formed_inbound_request_id_is_kept_and_echoed(sample: Client) -> None:
    response = await sample.get("/request-id", headers={"X-Request-Id": "edge-1234:abc.DEF_9"})

    assert response.headers["x-request-id"] == "edge-1234:abc.DEF_9"
    assert response.json() == {"request_id": "edge-1234:abc.DEF_9"}


@pytest.mark.parametrize(
    "inbound",
    ["a" * 129, "has spaces", "semi;colon", "ünïcode"],
    ids=["too-long", "spaces", "semicolon", "non-ascii"],
)
async def test_malformed_inbound_request_id_is_replaced(sample: Client, inbound: str) -> None:
    response = await sample.get("/request-id", headers={b"X-Request-Id": inbound.encode()})

    echoed = response.headers["x-request-id"]
    assert echoed != inbound
    assert MINTED.fullmatch(echoed)
    assert response.json() == {"request_id": echoed}


async def test_request_without_an_id_gets_a_fresh_one_each_time(sample: Client) -> None:
    first = await sample.get("/request-id")
    second = await sample.get("/request-id")

    assert MINTED.fullmatch(first.headers["x-request-id"])
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


@get("/call-downstream")
async def call_downstream() -> dict[str, str]:
    async with create_http_client("http://downstream.test", timeout_s=1.0) as client:
        response = await client.get("/echo")
    return {"status": str(response.status_code)}


async def test_request_id_is_forwarded_on_internal_calls() -> None:
    app = create_service_app(title="t", route_handlers=[call_downstream])
    # using="httpx": whatever transport the factory picks; the test client passes through.
    with respx.mock(using="httpx", assert_all_called=False) as wire:
        wire.route(host="testserver.local").pass_through()
        route = wire.get("http://downstream.test/echo").respond(204)
        async with AsyncTestClient(app=app) as client:
            response = await client.get("/call-downstream", headers={"X-Request-Id": "rid-42"})

    assert response.json() == {"status": "204"}
    assert route.calls.last.request.headers["x-request-id"] == "rid-42"

"""The request id: kept when well formed, minted otherwise, echoed, forwarded downstream;
and each request recorded once, whatever the app did."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
import respx
from litestar import Litestar, get
from litestar.testing import AsyncTestClient
from litestar.types import (
    ASGIApp,
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    Message,
    Receive,
    Scope,
    Send,
)
from prometheus_client import CollectorRegistry

from service_defaults.app import create_service_app
from service_defaults.http_clients import create_http_client
from service_defaults.metrics import HttpMetrics
from service_defaults.request_context import Access, RequestContextMiddleware

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


# The request's record: one access line and one count, whatever the app did.


def http_scope(path: bytes = b"/x") -> dict[str, Any]:
    return {
        "type": "http",
        "method": "GET",
        "path": path.decode(),
        "raw_path": path,
        "query_string": b"",
        "headers": [(b"x-request-id", b"recorded-1")],
    }


async def answer_204(send: Send) -> None:
    start: HTTPResponseStartEvent = {"type": "http.response.start", "status": 204, "headers": []}
    await send(start)
    end: HTTPResponseBodyEvent = {"type": "http.response.body", "body": b"", "more_body": False}
    await send(end)


def access_of(caplog: pytest.LogCaptureFixture) -> Access:
    [record] = caplog.records
    assert isinstance(record.msg, Access)
    return record.msg


async def run(app: ASGIApp, scope: dict[str, Any]) -> tuple[CollectorRegistry, list[Message]]:
    """`app` behind the middleware, called once; the metrics and what it sent."""
    registry = CollectorRegistry()
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    middleware = RequestContextMiddleware(app, metrics=HttpMetrics(registry))
    await middleware(scope, receive, send)  # type: ignore[arg-type]  # a plain dict
    return registry, sent


def count(registry: CollectorRegistry, **labels: str) -> float | None:
    return registry.get_sample_value("frontdoor_http_requests_total", labels)


async def test_a_request_the_client_left_before_any_answer_is_a_499() -> None:
    async def client_gone(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()

    registry, sent = await run(client_gone, http_scope())

    assert sent == []
    assert count(registry, route="unmatched", method="GET", status="499") == 1


async def test_the_failed_request_is_counted_before_the_error_goes_on() -> None:
    registry = CollectorRegistry()

    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("a bug")

    async def nothing() -> Message:
        return {"type": "http.disconnect"}

    async def ignore(message: Message) -> None:
        pass

    middleware = RequestContextMiddleware(broken, metrics=HttpMetrics(registry))
    with pytest.raises(RuntimeError):
        await middleware(http_scope(), nothing, ignore)  # type: ignore[arg-type]  # a plain dict

    assert count(registry, route="unmatched", method="GET", status="500") == 1


async def test_a_query_left_in_the_raw_path_never_reaches_the_access_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def answer(scope: Scope, receive: Receive, send: Send) -> None:
        await answer_204(send)

    with caplog.at_level(logging.INFO, logger="frontdoor.access"):
        await run(answer, http_scope(b"/reset%2Fx?token=s3cret"))

    assert access_of(caplog).path == "/reset%2Fx"
    assert "s3cret" not in caplog.records[0].getMessage()

"""Internal calls carry the request's id to the next service, and read answers robustly."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import respx
from litestar import get
from litestar.testing import AsyncTestClient

from service_defaults.app import create_service_app
from service_defaults.http_clients import create_http_client


@get("/call")
async def call_downstream() -> str:
    async with create_http_client("http://downstream.test", timeout_s=2.0) as client:
        await client.get("/thing")
    return "ok"


async def test_request_id_is_forwarded() -> None:
    app = create_service_app(title="t", route_handlers=[call_downstream])
    with respx.mock(using="httpx") as wire:
        wire.route(host="testserver.local").pass_through()
        downstream = wire.get("http://downstream.test/thing").respond(200)
        async with AsyncTestClient(app=app) as client:
            response = await client.get("/call", headers={"X-Request-Id": "trace-me-1"})

    assert response.status_code == 200
    sent: httpx.Request = downstream.calls.last.request
    assert sent.headers["x-request-id"] == "trace-me-1"
    # Untraced, no trace context is made up (a traced client's is in test_telemetry).
    assert "traceparent" not in sent.headers


async def test_a_broken_answer_is_an_httpx_error_not_an_aiohttp_one() -> None:
    async def answer_garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 abc not a status\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer_garbage, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server, create_http_client(f"http://127.0.0.1:{port}", timeout_s=2.0) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get("/")

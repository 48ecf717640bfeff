"""The edge's protocol: proxied requests to the proxy, its own paths to Litestar, heads bounded."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from uvicorn.config import Config
from uvicorn.server import ServerState

from edge.exchange import Exchange
from edge.http_protocol import HEAD_LIMIT, ProxiedRequests, edge_protocol
from edge.proxy import Proxy
from tests.unit.edge.conftest import RecordingTransport, request_head


class RecordingProxy:
    """Answers every exchange with a 200 and keeps it."""

    def __init__(self) -> None:
        self.exchanges: list[Exchange] = []

    async def handle(self, exchange: Exchange) -> None:
        self.exchanges.append(exchange)
        exchange.respond(200, [], b"proxied")


class Server:
    def __init__(self, proxied: ProxiedRequests) -> None:
        self.asgi_paths: list[str] = []

        async def app(scope: Any, receive: Any, send: Any) -> None:
            self.asgi_paths.append(scope["path"])
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})

        config = Config(app=app, log_config=None, http="httptools", lifespan="off")
        self.state = ServerState()
        protocol_class = edge_protocol(proxied)
        self.protocol = cast("Any", protocol_class)(
            config, self.state, {}, asyncio.get_running_loop()
        )
        self.transport = RecordingTransport()
        self.protocol.connection_made(self.transport)

    async def send(self, data: bytes) -> bytes:
        self.protocol.data_received(data)
        for _ in range(10):
            await asyncio.sleep(0)
        return self.transport.take()

    def close(self) -> None:
        self.protocol.connection_lost(None)


def proxied_by(proxy: RecordingProxy) -> ProxiedRequests:
    proxied = ProxiedRequests()
    proxied.open(cast("Proxy", proxy), lambda path: path in {"/livez", "/readyz", "/metrics"})
    return proxied


async def test_a_proxied_path_goes_to_the_proxy_and_not_to_the_asgi_app() -> None:
    proxy = RecordingProxy()
    server = Server(proxied_by(proxy))

    written = await server.send(request_head("GET", "/api/web/x?a=1"))

    assert written.startswith(b"HTTP/1.1 200 OK\r\n")
    assert written.endswith(b"proxied")
    [exchange] = proxy.exchanges
    assert (exchange.raw_path, exchange.query) == (b"/api/web/x", b"a=1")
    assert server.asgi_paths == []
    server.close()


async def test_the_edges_own_paths_go_to_the_asgi_app() -> None:
    proxy = RecordingProxy()
    server = Server(proxied_by(proxy))

    written = await server.send(request_head("GET", "/readyz"))

    assert written.startswith(b"HTTP/1.1 204 ")
    assert server.asgi_paths == ["/readyz"]
    assert proxy.exchanges == []
    server.close()


async def test_before_the_proxy_is_open_every_path_goes_to_the_asgi_app() -> None:
    server = Server(ProxiedRequests())

    await server.send(request_head("GET", "/api/web/x"))

    assert server.asgi_paths == ["/api/web/x"]
    server.close()


async def test_two_requests_on_one_connection_are_answered_in_order() -> None:
    proxy = RecordingProxy()
    server = Server(proxied_by(proxy))

    written = await server.send(request_head("GET", "/a") + request_head("GET", "/b"))

    assert written.count(b"HTTP/1.1 200 OK") == 2
    assert [exchange.raw_path for exchange in proxy.exchanges] == [b"/a", b"/b"]
    assert not server.transport.closed, "kept alive"
    server.close()


async def test_a_head_that_keeps_growing_past_the_limit_is_431_and_the_connection_closed() -> None:
    proxy = RecordingProxy()
    server = Server(proxied_by(proxy))
    line = b"x-filler: " + b"a" * 1000 + b"\r\n"

    written = b""
    written += await server.send(b"GET /api HTTP/1.1\r\nhost: edge.test\r\n")
    for _ in range(HEAD_LIMIT // len(line) + 2):
        if server.transport.closed:
            break
        written += await server.send(line)

    assert written.startswith(b"HTTP/1.1 431 ")
    assert b"application/problem+json" in written
    assert server.transport.closed
    assert proxy.exchanges == []


async def test_a_malformed_request_is_uvicorns_400_and_never_reaches_the_proxy() -> None:
    proxy = RecordingProxy()
    server = Server(proxied_by(proxy))

    written = await server.send(b"GET /api HTTP/1.1\r\nbad header line\r\n\r\n")

    assert written.startswith(b"HTTP/1.1 400 ")
    assert proxy.exchanges == []
    assert server.transport.closed

"""The edge's protocol: proxied requests to the proxy, its own paths to Litestar, heads bounded,
malformed requests refused, pipelining, upgrades, shutdown and idle connections."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any, cast

from uvicorn.config import Config
from uvicorn.server import ServerState

from edge.exchange import ClientGone, Exchange
from edge.http_protocol import HEAD_LIMIT, ProxiedRequests, edge_protocol
from edge.proxy import Proxy
from tests.unit.edge.conftest import RecordingTransport, request_head

KEEP_ALIVE_S = 5


HSTS = (b"strict-transport-security", b"max-age=31536000")


class RecordingProxy:
    """Answers every exchange with a 200 and keeps it."""

    def __init__(self) -> None:
        self.exchanges: list[Exchange] = []
        # What the edge adds to every answer.
        self.response_headers = [HSTS]

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

        config = Config(
            app=app,
            log_config=None,
            http="httptools",
            lifespan="off",
            timeout_keep_alive=KEEP_ALIVE_S,
        )
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


async def settle() -> None:
    for _ in range(10):
        await asyncio.sleep(0)


class BodyReadingProxy:
    """Reads each request's body whole, then answers 200; notes the clients that left."""

    def __init__(self) -> None:
        self.bodies: list[tuple[bytes, bytes]] = []
        self.gone: list[bytes] = []
        self.response_headers: list[tuple[bytes, bytes]] = []

    async def handle(self, exchange: Exchange) -> None:
        body = b""
        try:
            while (part := await exchange.receive()) is not None:
                body += part
        except ClientGone:
            self.gone.append(exchange.raw_path)
            return
        self.bodies.append((exchange.raw_path, body))
        exchange.respond(200, [], b"read")


class HeldProxy:
    """Answers 200 only once released: a request still being served."""

    def __init__(self) -> None:
        self._go = asyncio.Event()
        self.response_headers: list[tuple[bytes, bytes]] = []

    def release(self) -> None:
        self._go.set()

    async def handle(self, exchange: Exchange) -> None:
        await self._go.wait()
        exchange.respond(200, [], b"late")


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


async def test_a_malformed_request_is_a_400_problem_and_never_reaches_the_proxy() -> None:
    proxy = RecordingProxy()
    server = Server(proxied_by(proxy))

    written = await server.send(b"GET /api HTTP/1.1\r\nbad header line\r\n\r\n")

    head, _, body = written.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ")
    assert b"content-type: application/problem+json" in head
    problem = json.loads(body)
    assert problem["status"] == 400
    assert problem["request_id"], "a problem names its request id"
    assert f"x-request-id: {problem['request_id']}".encode() in head
    assert proxy.exchanges == []
    assert server.transport.closed


async def test_a_refusal_carries_the_servers_date_and_the_edges_own_headers() -> None:
    server = Server(proxied_by(RecordingProxy()))
    server.state.default_headers = [(b"date", b"Thu, 01 Jan 2026 00:00:00 GMT")]

    written = await server.send(b"GET /api HTTP/1.1\r\nbad header line\r\n\r\n")

    head = written.partition(b"\r\n\r\n")[0]
    assert b"\r\ndate: Thu, 01 Jan 2026 00:00:00 GMT\r\n" in head
    assert b"\r\nstrict-transport-security: max-age=31536000\r\n" in head


async def test_pipelined_requests_with_bodies_each_get_their_own_body() -> None:
    proxy = BodyReadingProxy()
    server = Server(proxied_by(cast("RecordingProxy", proxy)))
    first = b"POST /a HTTP/1.1\r\nhost: edge.test\r\ncontent-length: 3\r\n\r\none"
    second = b"POST /b HTTP/1.1\r\nhost: edge.test\r\ncontent-length: 3\r\n\r\ntwo"

    written = await server.send(first + second)

    assert written.count(b"HTTP/1.1 200 OK") == 2
    assert proxy.bodies == [(b"/a", b"one"), (b"/b", b"two")]
    server.close()


async def test_an_upgrade_is_not_taken_the_request_is_answered_and_the_connection_closed() -> None:
    proxy = RecordingProxy()
    server = Server(proxied_by(proxy))
    head = request_head("GET", "/api", [("connection", "upgrade"), ("upgrade", "websocket")])

    written = await server.send(head + b"\x81\x05hello")

    assert written.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"connection: close\r\n" in written
    assert server.transport.closed
    assert len(proxy.exchanges) == 1, "the frame after the head is not another request"


async def test_a_client_that_leaves_mid_body_is_gone_for_the_exchange() -> None:
    proxy = BodyReadingProxy()
    server = Server(proxied_by(cast("RecordingProxy", proxy)))

    await server.send(b"POST /a HTTP/1.1\r\nhost: edge.test\r\ncontent-length: 9\r\n\r\npart")
    server.close()
    await settle()

    assert proxy.gone == [b"/a"]
    assert proxy.bodies == []


async def test_shutdown_closes_an_idle_connection_at_once() -> None:
    server = Server(proxied_by(RecordingProxy()))
    await server.send(request_head("GET", "/a"))
    assert not server.transport.closed

    server.protocol.shutdown()

    assert server.transport.closed


async def test_shutdown_lets_a_busy_connection_answer_then_closes_it() -> None:
    proxy = HeldProxy()
    server = Server(proxied_by(cast("RecordingProxy", proxy)))
    await server.send(request_head("GET", "/a"))

    server.protocol.shutdown()
    assert not server.transport.closed, "its answer is still to come"
    proxy.release()
    written = await server.send(b"")

    assert written.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"connection: close\r\n" in written
    assert server.transport.closed


async def test_a_connection_waiting_past_keep_alive_is_closed_and_a_busy_one_is_not() -> None:
    idle = Server(proxied_by(RecordingProxy()))
    busy_proxy = HeldProxy()
    busy = Server(proxied_by(cast("RecordingProxy", busy_proxy)))
    await idle.send(request_head("GET", "/a"))
    await busy.send(request_head("GET", "/a"))
    later = time.monotonic() + KEEP_ALIVE_S + 0.1

    assert not idle.protocol.close_if_idle(later - 1.0), "within the bound"
    assert idle.protocol.close_if_idle(later)
    assert not busy.protocol.close_if_idle(later), "an answer is under way"
    assert idle.transport.closed
    assert not busy.transport.closed
    busy_proxy.release()
    await busy.send(b"")
    busy.close()


async def test_a_head_still_arriving_past_the_keep_alive_bound_is_closed() -> None:
    server = Server(proxied_by(RecordingProxy()))
    await server.send(b"GET /api HTTP/1.1\r\nhost: edge.test\r\n")

    assert server.protocol.close_if_idle(time.monotonic() + KEEP_ALIVE_S + 0.1)
    assert server.transport.closed


async def test_an_own_path_gets_the_asgi_apps_answer_with_the_servers_headers() -> None:
    server = Server(proxied_by(RecordingProxy()))
    server.state.default_headers = [(b"date", b"Thu, 01 Jan 2026 00:00:00 GMT")]

    written = await server.send(request_head("GET", "/livez"))

    assert written.startswith(b"HTTP/1.1 204 No Content\r\n")
    assert b"date: Thu, 01 Jan 2026 00:00:00 GMT\r\n" in written
    assert server.asgi_paths == ["/livez"]
    server.close()

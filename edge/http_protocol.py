"""The edge's HTTP/1.1 server protocol, on httptools: one instance per client connection.

uvicorn still runs the server (sockets, TLS, lifespan, signals, graceful shutdown) and
instantiates this class per connection. It parses each request with httptools and
hands it on as an `Exchange`: to `Proxy.handle` for every proxied path, and through
`edge.asgi_bridge` to Litestar for the edge's own paths (`/livez`, `/readyz`,
`/metrics`, the dev timeline). uvicorn's own httptools protocol did the same work
with an ASGI scope, an `asyncio.Event` and a keep-alive timer per request, about a
tenth of the edge's time per request (see docs/performance.md).

What every connection gets:
- a malformed request is a 400 problem, a head growing past `HEAD_LIMIT` a 431,
  and the connection is closed after either;
- keep-alive unless the client or HTTP/1.0 says otherwise; pipelined requests are
  answered in order, the next one started when the one before is answered, and
  reading pauses while one waits;
- an `Upgrade` is not taken: the request is answered as plain HTTP/1.1, and the
  connection closed after it;
- a connection waiting for the client (idle after an answer, or still receiving a
  head) is closed once that lasts `timeout_keep_alive` (`edge.idle_connections`);
- on shutdown, an idle connection is closed at once and a busy one after its answer.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from time import monotonic
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import unquote

import httptools

from edge.asgi_bridge import serve_asgi
from edge.exchange import Exchange, problem_headers
from edge.idle_connections import IdleConnections
from service_defaults.problems import render_problem
from service_defaults.request_context import request_id_from

if TYPE_CHECKING:
    from uvicorn.config import Config
    from uvicorn.server import ServerState

    from edge.proxy import Proxy

log = logging.getLogger("frontdoor.edge")
Headers = list[tuple[bytes, bytes]]
HEAD_LIMIT = 64 * 1024
# An int, not b"#": see `edge.headers._UNDERSCORE`.
_HASH = ord("#")


class ProxiedRequests:
    """Where the protocol sends proxied requests: the proxy, while the app's lifespan has it open.

    Until then, and for the paths Litestar owns, requests go to the ASGI app.
    """

    def __init__(self) -> None:
        self._proxy: Proxy | None = None
        self._is_own_path: Callable[[str], bool] = lambda _: True

    def open(self, proxy: Proxy, is_own_path: Callable[[str], bool]) -> None:
        self._proxy, self._is_own_path = proxy, is_own_path

    def close(self) -> None:
        self._proxy = None

    def proxy_for(self, path: str) -> Proxy | None:
        return None if self._is_own_path(path) else self._proxy

    @property
    def response_headers(self) -> Headers:
        """The edge's headers for every answer (HSTS, nosniff), once the proxy is open."""
        return self._proxy.response_headers if self._proxy is not None else []


class EdgeProtocol(asyncio.Protocol):
    # Set on the subclass `edge_protocol` makes: one per app.
    proxied: ClassVar[ProxiedRequests]
    idle: ClassVar[IdleConnections]

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        # uvicorn's signature for an `http` protocol class.
        if not config.loaded:
            config.load()
        self._app = config.loaded_app
        self._app_state = app_state
        self._server_state = server_state
        self._loop = _loop or asyncio.get_event_loop()
        self._keep_alive_s = float(config.timeout_keep_alive)
        self._parser = httptools.HttpRequestParser(self)
        # Lets a request that ends the connection be answered though bytes follow it.
        self._parser.set_dangerous_leniencies(lenient_data_after_close=True)
        self.transport: asyncio.Transport = None  # type: ignore[assignment]  # connection_made
        self._peer = "0.0.0.0"  # noqa: S104 - only a label until the socket says
        # The request being answered, and the ones pipelined behind it.
        self._current: Exchange | None = None
        self._queued: deque[Exchange] = deque()
        # The head being parsed.
        self._url = b""
        self._headers: Headers = []
        self._in_head = False
        self._head_bytes = 0
        self._expect_continue = False
        # Flow control, both ways.
        self._reading_paused = False
        self.write_paused = False
        self._writable: asyncio.Future[None] | None = None
        # Since when the connection waits for the client; None while a request is served.
        self.waiting_since: float | None = None

    # What an exchange reads of its connection

    @property
    def default_headers(self) -> Headers:
        return self._server_state.default_headers

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a stream transport
        peer = transport.get_extra_info("peername")
        if isinstance(peer, tuple) and peer:
            self._peer = str(peer[0])
        self._server_state.connections.add(self)  # type: ignore[arg-type]  # uvicorn's shutdown calls ours
        self.waiting_since = monotonic()
        self.idle.add(self, self._keep_alive_s)

    def connection_lost(self, exc: Exception | None) -> None:
        self._server_state.connections.discard(self)
        self.idle.discard(self)
        if self._current is not None:
            self._current.client_gone()
        for queued in self._queued:
            queued.client_gone()
        self._queued.clear()
        self.write_paused = False
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            # The head asked to switch protocols (or was a CONNECT): the request was
            # passed on as plain HTTP, and no byte after its head is HTTP any more.
            self._refuse_upgrade()
            return
        except httptools.HttpParserError:
            self.refuse(400, "The request is not valid HTTP/1.1.")
            return
        # Still inside the head after this chunk: every byte of it was head.
        if self._in_head and not self.transport.is_closing():
            self._head_bytes += len(data)
            if self._head_bytes > HEAD_LIMIT:
                self.refuse(431, "The request headers are too large.")

    def pause_writing(self) -> None:
        self.write_paused = True

    def resume_writing(self) -> None:
        self.write_paused = False
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)

    # httptools' callbacks

    def on_message_begin(self) -> None:
        self._url = b""
        self._headers = []
        self._in_head = True
        self._head_bytes = 0
        self._expect_continue = False

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        name = name.lower()
        if name == b"expect" and value.lower() == b"100-continue":
            self._expect_continue = True
        self._headers.append((name, value))

    def on_headers_complete(self) -> None:
        self._in_head = False
        self.waiting_since = None
        parser = self._parser
        version = parser.get_http_version()
        url = self._url
        if url[:1] == b"/" and url.isascii() and _HASH not in url:
            # The origin form every client sends: split as `parse_url` would, for less.
            raw_path, _, query = url.partition(b"?")
        else:
            # Absolute form, a fragment, or bytes `parse_url` refuses (a 400).
            parsed = httptools.parse_url(url)
            raw_path, query = parsed.path, parsed.query or b""
        exchange = Exchange(
            self,
            parser.get_method().decode("ascii"),
            raw_path,
            query,
            self._headers,
            http_version=version,
            peer=self._peer,
            keep_alive=version != "1.0" and parser.should_keep_alive(),
            expect_continue=self._expect_continue,
            # A head is followed by a body when it declares one (RFC 9112 section 6.3).
            more_body=True,
        )
        if self._current is None:
            self._start(exchange)
        else:
            # Pipelined: it waits for the answers before it, and the client with it.
            self._queued.append(exchange)
            self.pause_reading()

    def on_body(self, body: bytes) -> None:
        exchange = self._queued[-1] if self._queued else self._current
        if exchange is not None:
            exchange.feed(body)

    def on_message_complete(self) -> None:
        exchange = self._queued[-1] if self._queued else self._current
        if exchange is not None:
            exchange.body_done()

    # The requests

    def _start(self, exchange: Exchange) -> None:
        self._current = exchange
        path = exchange.raw_path.decode("latin-1")
        proxy = self.proxied.proxy_for(unquote(path) if "%" in path else path)
        tasks = self._server_state.tasks
        # Held in uvicorn's set until done, so that its graceful shutdown waits for
        # them; a proxied request takes itself off, cheaper than a done callback.
        if proxy is not None:
            tasks.add(self._loop.create_task(_proxied(proxy, exchange, tasks, self._loop)))
        else:
            own = self._loop.create_task(
                serve_asgi(
                    self._app,
                    exchange,
                    self._app_state,
                    self._server_address(),
                    self.proxied.response_headers,
                )
            )
            tasks.add(own)
            own.add_done_callback(tasks.discard)

    def answered(self, exchange: Exchange) -> None:
        """Called by the exchange once its answer is complete."""
        if exchange is not self._current:
            return
        self._server_state.total_requests += 1
        self._current = None
        if self.transport.is_closing():
            return
        if self._queued:
            self._start(self._queued.popleft())
            if not self._queued:
                self.resume_reading()
        else:
            self.resume_reading()
            self.waiting_since = monotonic()

    def _server_address(self) -> tuple[str, int] | None:
        sock = self.transport.get_extra_info("sockname")
        return (str(sock[0]), int(sock[1])) if isinstance(sock, tuple) else None

    # Flow control

    def pause_reading(self) -> None:
        if not self._reading_paused:
            self._reading_paused = True
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        if self._reading_paused and not self._queued:
            self._reading_paused = False
            self.transport.resume_reading()

    async def drain(self) -> None:
        while self.write_paused:
            if self._writable is None or self._writable.done():
                self._writable = self._loop.create_future()
            await self._writable

    # Ending a connection

    def shutdown(self) -> None:
        """uvicorn's graceful shutdown: idle connections close now, busy ones after their answer."""
        if self._current is None:
            self.transport.close()
        else:
            self._current.keep_alive = False
            self._queued.clear()

    def close_if_idle(self, now: float) -> bool:
        """Close the connection when it has waited for the client too long; say whether it did."""
        since = self.waiting_since
        if since is None or now - since < self._keep_alive_s or self._current is not None:
            return False
        self.waiting_since = None
        self.transport.close()
        return True

    def refuse(self, status: int, detail: str) -> None:
        """Answer a request that cannot be parsed with a problem, and close the connection."""
        if self.transport.is_closing():
            return
        request_id = request_id_from(None)
        body = render_problem(status, detail, request_id=request_id)
        log.warning("refused an unparsable request from %s: %d %s", self._peer, status, detail)
        # Answered as any request is, though none could be parsed: the same head
        # (the server's and the edge's own headers), then the connection closes.
        refusal = Exchange(self, "GET", b"", b"", [], peer=self._peer, keep_alive=False)
        refusal.respond(
            status, [*problem_headers(request_id), *self.proxied.response_headers], body
        )

    def _refuse_upgrade(self) -> None:
        exchange = self._queued[-1] if self._queued else self._current
        if exchange is not None:
            exchange.keep_alive = False
            exchange.body_done()  # what follows the head belongs to another protocol
        self.pause_reading()


async def _proxied(
    proxy: Proxy,
    exchange: Exchange,
    tasks: set[asyncio.Task[None]],
    loop: asyncio.AbstractEventLoop,
) -> None:
    try:
        await proxy.handle(exchange)
    finally:
        if not exchange.complete:
            # The client left, or half an answer went out: this connection is done.
            exchange.abort()
        # This task, added by `_start`. Given the loop, `current_task` skips the
        # getpid system call that finding the running loop costs on Python 3.11.
        tasks.discard(asyncio.current_task(loop))


def edge_protocol(proxied: ProxiedRequests) -> type[asyncio.Protocol]:
    """The protocol class uvicorn instantiates per connection, bound to this app's proxy."""
    return type("EdgeProtocol", (EdgeProtocol,), {"proxied": proxied, "idle": IdleConnections()})

"""The ceiling for a Python edge: uvloop, httptools and TLS, and nothing an edge does.

No framework, no ASGI, no routing, token, limiter, header policy, log or metrics:
parse the request in C, send it upstream on a keep-alive connection of its own
(one per client connection), parse the answer in C, send it back. Its distance from
the backend is what Python's event loop, sockets, TLS and one more hop cost; no
Python edge can be faster than this one without leaving the event loop.

Bodies are buffered whole (the bench's are ~100 bytes) and answers to HEAD are not
supported: the parser would wait for a body that never comes.

`python -m bench.bare_httptools_proxy PORT BACKEND_URL CERT KEY`
"""

from __future__ import annotations

import asyncio
import ssl
import sys
from collections import deque
from typing import cast
from urllib.parse import urlsplit

import httptools
import uvloop

# Hop-by-hop headers describe one connection, not the message: never forwarded. Host
# names the upstream instead, and content-length is rewritten because the body is
# buffered and sent whole.
NOT_FORWARDED = frozenset(
    (
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"content-length",
        b"host",
    )
)
BAD_GATEWAY = b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
BAD_REQUEST = b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


def encode_head(first_line: bytes, headers: list[tuple[bytes, bytes]], extra: bytes) -> bytes:
    kept = b"".join(
        b"%s: %s\r\n" % pair for pair in headers if pair[0].lower() not in NOT_FORWARDED
    )
    return first_line + b"\r\n" + kept + extra + b"\r\n"


class Upstream(asyncio.Protocol):
    """One keep-alive connection to the backend, serving one client connection."""

    def __init__(self, client: Downstream) -> None:
        self.client = client
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.reason = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast("asyncio.Transport", transport)

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.client.fail(BAD_GATEWAY)

    def connection_lost(self, exc: Exception | None) -> None:
        self.client.upstream_lost(self)

    # httptools callbacks
    def on_status(self, reason: bytes) -> None:
        self.reason += reason

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        body = b"".join(self.body)
        status = b"HTTP/1.1 %d %s" % (self.parser.get_status_code(), self.reason)
        head = encode_head(status, self.headers, b"content-length: %d\r\n" % len(body))
        self.reason, self.headers, self.body = b"", [], []
        self.client.respond(head + body)


class Downstream(asyncio.Protocol):
    """A client's TLS connection; its requests go upstream in order, answers come back so."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.host_header = b"host: %s:%d\r\n" % (host.encode(), port)
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpRequestParser(self)
        self.url = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.body: list[bytes] = []
        self.upstream: Upstream | None = None
        self.connecting: asyncio.Future[tuple[asyncio.Transport, Upstream]] | None = None
        self.unsent: list[bytes] = []  # written once the upstream connection is up
        self.keep_alive: deque[bool] = deque()  # per request awaiting its answer

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast("asyncio.Transport", transport)

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.fail(BAD_REQUEST)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if self.upstream is not None and self.upstream.transport is not None:
            self.upstream.transport.close()

    # httptools callbacks
    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        body = b"".join(self.body)
        line = b"%s %s HTTP/1.1" % (self.parser.get_method(), self.url)
        length = b"content-length: %d\r\n" % len(body) if body else b""
        request = encode_head(line, self.headers, self.host_header + length) + body
        self.url, self.headers, self.body = b"", [], []
        self.keep_alive.append(self.parser.should_keep_alive())
        self.forward(request)

    # the upstream side
    def forward(self, request: bytes) -> None:
        if self.upstream is not None and self.upstream.transport is not None:
            self.upstream.transport.write(request)
            return
        self.unsent.append(request)
        if self.connecting is None:
            # Held here: the loop keeps only a weak reference to a task.
            self.connecting = asyncio.ensure_future(
                asyncio.get_running_loop().create_connection(
                    lambda: Upstream(self), self.host, self.port
                )
            )
            self.connecting.add_done_callback(self.connected)

    def connected(self, task: asyncio.Future[tuple[asyncio.Transport, Upstream]]) -> None:
        self.connecting = None
        if task.cancelled() or task.exception() is not None:
            self.fail(BAD_GATEWAY)
            return
        transport, self.upstream = task.result()
        if self.transport is None:  # the client left while we connected
            transport.close()
            return
        transport.writelines(self.unsent)
        self.unsent = []

    def upstream_lost(self, upstream: Upstream) -> None:
        if upstream is self.upstream:
            self.upstream = None
            if self.keep_alive:  # answers still owed: they will never come
                self.fail(BAD_GATEWAY)

    def respond(self, answer: bytes) -> None:
        if self.transport is None:
            return
        self.transport.write(answer)
        if not self.keep_alive.popleft():
            self.transport.close()

    def fail(self, answer: bytes) -> None:
        if self.transport is not None:
            self.transport.write(answer)
            self.transport.close()


async def create_proxy(backend: str, tls: ssl.SSLContext, port: int = 0) -> asyncio.Server:
    """A listening proxy on 127.0.0.1 (`port` 0: any free one) in front of `backend`."""
    upstream = urlsplit(backend)
    host, upstream_port = upstream.hostname or "127.0.0.1", upstream.port or 80
    return await asyncio.get_running_loop().create_server(
        lambda: Downstream(host, upstream_port), "127.0.0.1", port, ssl=tls, backlog=1024
    )


async def serve(port: int, backend: str, tls: ssl.SSLContext) -> None:
    async with await create_proxy(backend, tls, port) as server:
        await server.serve_forever()


def main(argv: list[str]) -> None:
    port, backend, cert, key = int(argv[0]), argv[1], argv[2], argv[3]
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    uvloop.run(serve(port, backend, tls))


if __name__ == "__main__":
    main(sys.argv[1:])

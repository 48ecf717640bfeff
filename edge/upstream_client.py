"""The edge's HTTP/1.1 client for its upstreams: keep-alive connections pooled per origin.

What it does: plain-HTTP requests with the head sent byte for byte as given (the
client adds only `host` when absent, `content-length` for a bytes body without one,
and chunked framing for a streamed body without a length); bodies streamed both ways
under transport flow control; 1xx answers skipped; bodies de-chunked; connections
reused while the upstream allows it, and a request whose reused connection turns
out to be closed sent once more on a fresh one when nothing of it was streamed.
An upstream that answers before the upload ends gets no more of it (and the
connection is not reused), so that its answer is not held up behind the body.

What it deliberately does not do: TLS (an `https://` origin is refused with
ValueError at first use: internal hops are plain HTTP), HTTP/2, redirects,
decompression, cookies, proxies, upgrades (101 is an error), `Expect: 100-continue`,
pipelining, and DNS caching (names are resolved per new connection, which the pool
keeps rare). The caller's headers must describe the body it passes; a header or
target with CR or LF is refused with ValueError rather than sent.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from time import monotonic
from urllib.parse import urlsplit

from edge.upstream_connection import (
    Deadlines,
    UpstreamConnection,
    UpstreamError,
    UpstreamResponse,
    UpstreamTimeout,
    UpstreamUnavailable,
)

__all__ = [
    "UpstreamClient",
    "UpstreamError",
    "UpstreamResponse",
    "UpstreamTimeout",
    "UpstreamUnavailable",
]

Headers = list[tuple[bytes, bytes]]
Body = bytes | AsyncIterator[bytes] | None
# The lengths of `host`, `content-length` and `transfer-encoding`.
_NAME_LENGTHS = frozenset((4, 14, 17))
# A bytes body up to this size goes out in the same write as the head.
_JOINED_BODY = 64 * 1024


def encode_head(
    method: str, target: bytes, headers: Headers, host: bytes, body: Body
) -> tuple[bytes, bool]:
    """The request head, and whether a streamed body must be sent chunked."""
    has_host = has_length = has_coding = False
    for name, _ in headers:
        # Cheaper than searching a lower-cased copy of the head: most names skip lower().
        if len(name) in _NAME_LENGTHS:
            lowered = name.lower()
            if lowered == b"host":
                has_host = True
            elif lowered == b"content-length":
                has_length = True
            elif lowered == b"transfer-encoding":
                has_coding = True
    block = b"\r\n".join(map(b": ".join, headers))
    lines = 2 + len(headers)
    extra = b""
    if not has_host:
        extra = b"host: " + host + b"\r\n"
        lines += 1
    chunked = False
    if body is not None and not has_length:
        if isinstance(body, bytes):
            extra += b"content-length: %d\r\n" % len(body)
            lines += 1
        else:
            chunked = True
            if not has_coding:
                extra += b"transfer-encoding: chunked\r\n"
                lines += 1
    head = b"%s %s HTTP/1.1\r\n%s%s%s\r\n" % (
        method.encode("ascii"),
        target,
        block,
        b"\r\n" if headers else b"",
        extra,
    )
    if head.count(b"\n") != lines or head.count(b"\r") != lines:
        # A CR or LF inside a field would let its bytes be read as another header
        # or another request by the upstream.
        raise ValueError("a request target or header field contains CR or LF")
    return head, chunked


def _content_length(headers: Headers) -> int:
    for name, value in headers:
        if name.lower() == b"content-length":
            return int(value)
    raise ValueError("no content-length")  # pragma: no cover - encode_head saw one


class _OriginPool:
    """The connections to one origin: at most `max_connections_per_origin` open, some idle."""

    def __init__(self, client: UpstreamClient, host: str, port: int, host_header: bytes) -> None:
        self._client = client
        self._loop = asyncio.get_running_loop()
        self._deadlines = Deadlines(self._loop)
        self.host = host
        self.port = port
        self.host_header = host_header
        self.idle: list[UpstreamConnection] = []  # most recently used last
        self.connections: set[UpstreamConnection] = set()
        # Slots (one per connection open or opening), and who waits for one.
        self.open = 0
        self.waiters: deque[asyncio.Future[UpstreamConnection | None]] = deque()
        self.closed = False

    def checkout(self) -> UpstreamConnection | None:
        idle = self.idle
        if not idle:
            return None
        oldest_allowed = monotonic() - self._client.idle_timeout_s
        # The oldest are at the front: past the idle timeout, they are closed here.
        while idle and idle[0].idle_since < oldest_allowed:
            idle[0].discard()  # `forget` takes it off the idle list
        if not idle:
            return None
        connection = idle.pop()
        connection.pooled = False
        return connection

    async def acquire(self, timeout_s: float, *, fresh: bool = False) -> UpstreamConnection:
        while True:
            if self.closed:
                # Also for the second attempt of a request the closing client cut short.
                raise UpstreamUnavailable("the upstream client is closed")
            if not fresh:
                connection = self.checkout()
                if connection is not None:
                    return connection
            elif self.open >= self._client.max_connections_per_origin and self.idle:
                self.idle[0].discard()  # makes room for the fresh one
            if self.open < self._client.max_connections_per_origin:
                self.open += 1
                return await self._connect(timeout_s)
            got = await self._wait_for_slot(timeout_s)
            if got is None:
                return await self._connect(timeout_s)  # a slot was handed over to us
            if not got.closed:
                return got

    async def _wait_for_slot(self, timeout_s: float) -> UpstreamConnection | None:
        waiter: asyncio.Future[UpstreamConnection | None] = self._loop.create_future()
        self.waiters.append(waiter)
        timer = self._loop.call_later(timeout_s, _no_slot, waiter)
        try:
            return await waiter
        except asyncio.CancelledError:
            # Handed a slot or a connection just as we were cancelled: pass it on.
            if waiter.done() and not waiter.cancelled():
                got = waiter.result()
                if got is None:
                    self.free_slot()
                elif not got.closed:
                    self.reuse(got)
            raise
        finally:
            timer.cancel()

    async def _connect(self, timeout_s: float) -> UpstreamConnection:
        """Open a connection in a slot already counted in `open`."""
        made: list[UpstreamConnection] = []

        def build() -> UpstreamConnection:
            connection = UpstreamConnection(self._loop, self._deadlines, self.forget)
            made.append(connection)
            self.connections.add(connection)
            return connection

        connecting = self._loop.create_connection(build, self.host, self.port)
        try:
            _, connection = await asyncio.wait_for(
                connecting, min(self._client.connect_timeout_s, timeout_s)
            )
        except BaseException as exc:
            if made:
                made[0].discard()  # its `forget` frees the slot, once
            else:
                self.free_slot()
            if isinstance(exc, TimeoutError):
                raise UpstreamTimeout(f"no connection to {self.host}:{self.port} in time") from None
            if isinstance(exc, OSError):
                raise UpstreamUnavailable(f"cannot connect to {self.host}:{self.port}") from exc
            raise
        return connection

    def give_back(self, connection: UpstreamConnection) -> None:
        if connection.finish():
            self.reuse(connection)

    def reuse(self, connection: UpstreamConnection) -> None:
        waiters = self.waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return
        if len(self.idle) >= self._client.max_idle_per_origin:
            connection.discard()
            return
        connection.idle_since = monotonic()
        connection.pooled = True
        self.idle.append(connection)

    def forget(self, connection: UpstreamConnection) -> None:
        """A connection closed: off the idle list, and its slot to a waiter or freed."""
        if connection.pooled:
            connection.pooled = False
            self.idle.remove(connection)
        if connection in self.connections:
            self.connections.discard(connection)
        self.free_slot()

    def free_slot(self) -> None:
        waiters = self.waiters
        while waiters:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # the slot passes on; `open` stays
                return
        self.open -= 1

    def close(self) -> None:
        self.closed = True
        for connection in list(self.connections):
            connection.discard()
        self._deadlines.close()
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_exception(UpstreamUnavailable("the upstream client is closed"))


def _no_slot(waiter: asyncio.Future[UpstreamConnection | None]) -> None:
    if not waiter.done():
        waiter.set_exception(UpstreamTimeout("no free connection to the upstream in time"))


class UpstreamClient:
    """Requests to upstream origins over pooled keep-alive HTTP/1.1 connections.

    One per process, opened and closed by the edge's lifespan. Timeouts: connecting
    waits at most min(`connect_timeout_s`, the request's `timeout_s`); a request
    over a pool at its cap waits for a connection within `timeout_s`; then the
    response head must come within `timeout_s`, and each pause in its body may
    last `timeout_s` (a long download that keeps flowing is not cut off).
    """

    def __init__(
        self,
        *,
        max_connections_per_origin: int = 256,
        max_idle_per_origin: int = 64,
        # Under the idle timeouts servers commonly keep (uvicorn's and Node's 5 s):
        # a connection the upstream is about to drop is not handed out.
        idle_timeout_s: float = 4.0,
        connect_timeout_s: float = 2.0,
    ) -> None:
        self.max_connections_per_origin = max_connections_per_origin
        self.max_idle_per_origin = max_idle_per_origin
        self.idle_timeout_s = idle_timeout_s
        self.connect_timeout_s = connect_timeout_s
        self._pools: dict[str, _OriginPool] = {}
        self._closed = False

    async def request(
        self,
        origin: str,
        method: str,
        target: bytes,
        headers: Headers,
        body: Body,
        *,
        timeout_s: float,
    ) -> UpstreamResponse:
        """Send one request to `origin` (`http://host:port`) and return the answer's head.

        `target` is the raw request-target (path and `?query`), sent byte for byte;
        `headers` go out in order. With a bytes body, `headers` should carry its
        content-length (it is added when missing); a streamed body is sent as it
        comes under the caller's content-length, or chunked without one. The
        caller must `release()` the response on every path.
        """
        pool = self._pools.get(origin) or self._open_pool(origin)
        head, chunked = encode_head(method, target, headers, pool.host_header, body)
        head_only = method == "HEAD"
        streamed = body is not None and not isinstance(body, bytes)
        connection = pool.checkout() or await pool.acquire(timeout_s)
        reused = connection.uses > 0
        try:
            return await self._exchange(
                pool, connection, head, headers, body, chunked, head_only, timeout_s
            )
        except UpstreamUnavailable:
            # The upstream closed a kept-alive connection just as the request went out:
            # nothing of it can have been handled, and it can be sent again whole.
            if streamed or not reused or connection.received:
                raise
        connection = await pool.acquire(timeout_s, fresh=True)
        return await self._exchange(
            pool, connection, head, headers, body, chunked, head_only, timeout_s
        )

    async def _exchange(
        self,
        pool: _OriginPool,
        connection: UpstreamConnection,
        head: bytes,
        headers: Headers,
        body: Body,
        chunked: bool,
        head_only: bool,
        timeout_s: float,
    ) -> UpstreamResponse:
        try:
            if body is None:
                connection.begin(head, head_only=head_only)
                connection.request_sent = True
            elif isinstance(body, bytes):
                if len(body) <= _JOINED_BODY:
                    connection.begin(head + body, head_only=head_only)
                else:
                    # Two writes rather than a copy of a large body.
                    connection.begin(head, head_only=head_only)
                    connection.write(body)
                connection.request_sent = True
            else:
                connection.begin(head, head_only=head_only)
                length = None if chunked else _content_length(headers)
                await connection.send_stream(
                    body, chunked=chunked, length=length, timeout_s=timeout_s
                )
            await connection.read_head(timeout_s)
        except BaseException:
            # Timed out, failed or cancelled mid-exchange: the connection's state is
            # unknown, so it is closed rather than pooled.
            connection.discard()
            raise
        return UpstreamResponse(connection, pool.give_back, timeout_s)

    def _open_pool(self, origin: str) -> _OriginPool:
        if self._closed:
            raise UpstreamUnavailable("the upstream client is closed")
        parts = urlsplit(origin)
        if parts.scheme != "http":
            raise ValueError(f"only plain http:// upstreams are supported, not {origin!r}")
        if not parts.hostname or parts.username or parts.path not in ("", "/") or parts.query:
            raise ValueError(f"an upstream origin is http://host:port, not {origin!r}")
        pool = _OriginPool(self, parts.hostname, parts.port or 80, parts.netloc.encode("ascii"))
        self._pools[origin] = pool
        return pool

    async def close(self) -> None:
        """Close every connection; requests still under way fail with `UpstreamUnavailable`."""
        self._closed = True
        pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.close()
        # Let the transports run their `connection_lost` before the loop may stop.
        await asyncio.sleep(0)

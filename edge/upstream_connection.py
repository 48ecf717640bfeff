"""One keep-alive HTTP/1.1 connection to an upstream, its errors, and the response it reads.

The errors, as callers catch them:

    UpstreamError                  anything that went wrong between the edge and an upstream
    ├── UpstreamTimeout            (also a TimeoutError) connect, answer or a read pause too long
    └── UpstreamUnavailable        refused, reset, closed early, bytes that are not HTTP

The connection is an `asyncio.Protocol` driving an `httptools.HttpResponseParser`:
every event (head parsed, body bytes, end of message, close, write buffer drained)
updates its state and wakes the one coroutine that may be waiting on it. No task and
no timer is created per request: `Deadlines` fails the waits that last too long.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Callable
from time import monotonic
from typing import cast

from httptools import HttpParserError, HttpParserUpgrade, HttpResponseParser

# Past this much unread body the socket stops being read: a slow consumer slows
# the upstream down instead of growing the edge's memory.
READ_HIGH_WATER = 256 * 1024
_CONTENT_LENGTH = b"content-length"
_TRANSFER_ENCODING = b"transfer-encoding"


class UpstreamError(Exception):
    """The base of every failure to get an answer from an upstream."""


class UpstreamTimeout(UpstreamError, TimeoutError):
    """Connecting, waiting for the answer, or a pause while reading it took too long."""


class UpstreamUnavailable(UpstreamError):
    """Refused, reset or closed too early, or the upstream's bytes were not HTTP/1.1."""


class Deadlines:
    """Times out the waits of many connections with one timer, set for the earliest deadline.

    A timer per request costs more than the rest of the request's Python on uvloop
    (measured: ~10 µs of CPU per call_at and cancel). Here a wait costs a dict entry,
    and the timer is moved only when a wait ends sooner than every other one: with
    the same timeout everywhere, it fires about once per timeout, finds nothing due
    (the requests it was set for are long answered) and moves on to the next deadline.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._waits: dict[asyncio.Future[None], tuple[float, str]] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._due = math.inf

    def add(self, waiter: asyncio.Future[None], deadline: float, what: str) -> None:
        self._waits[waiter] = (deadline, what)
        if deadline < self._due:
            if self._timer is not None:
                self._timer.cancel()
            self._due = deadline
            self._timer = self._loop.call_at(deadline, self._expire)

    def remove(self, waiter: asyncio.Future[None]) -> None:
        self._waits.pop(waiter, None)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._due = math.inf

    def _expire(self) -> None:
        # The loop may run a timer a clock tick early: that much counts as due.
        now = monotonic() + 0.001
        due = math.inf
        for waiter, (deadline, what) in list(self._waits.items()):
            if deadline <= now:
                del self._waits[waiter]
                if not waiter.done():
                    waiter.set_exception(UpstreamTimeout(f"no {what} in time"))
            elif deadline < due:
                due = deadline
        self._due = due
        self._timer = None if due == math.inf else self._loop.call_at(due, self._expire)


class UpstreamConnection(asyncio.Protocol):
    """One exchange at a time: `begin`, `send_stream`, `read_head`, body reads, then `finish`.

    `on_close` is called exactly once, when the connection is discarded or lost, so
    that the pool that owns it can forget it.
    """

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        deadlines: Deadlines,
        on_close: Callable[[UpstreamConnection], None],
    ) -> None:
        self._loop = loop
        self._deadlines = deadlines
        self._on_close = on_close
        self._transport: asyncio.Transport | None = None
        self._parser = HttpResponseParser(self)
        self._waiter: asyncio.Future[None] | None = None
        self._write_paused = False
        self._reading_paused = False
        # After a HEAD the parser still expects the body its content-length announced.
        self._parser_stale = False
        self.closed = False
        self.uses = 0
        self.idle_since = 0.0
        self.pooled = False
        self._busy = False
        self._start_exchange(False)

    def _start_exchange(self, head_only: bool) -> None:
        self._head_only = head_only
        self._informational = False
        self._until_eof = False
        self._keep_alive = False
        self._error: UpstreamError | None = None
        self._body: list[bytes] = []
        self._buffered = 0
        # Any byte of an answer: after one, a failed request is never sent again.
        self.received = False
        self.request_sent = False
        self.head_done = False
        self.done = False
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []

    # The exchange, driven by the client.

    def begin(self, data: bytes, *, head_only: bool) -> None:
        """Start an exchange by writing the request head (and a small body with it)."""
        transport = self._transport
        if self.closed or transport is None or transport.is_closing():
            raise UpstreamUnavailable("the connection closed before the request was sent")
        if self._parser_stale:
            self._parser = HttpResponseParser(self)
            self._parser_stale = False
        self._start_exchange(head_only)
        self._busy = True
        self.uses += 1
        transport.write(data)

    def write(self, data: bytes) -> None:
        cast("asyncio.Transport", self._transport).write(data)

    async def send_stream(
        self, body: AsyncIterator[bytes], *, chunked: bool, length: int | None, timeout_s: float
    ) -> None:
        """Send a streamed body, waiting while the upstream is slower than the source."""
        transport = cast("asyncio.Transport", self._transport)
        sent = 0
        async for chunk in body:
            if self.closed or self.head_done:
                # Closed, or answered before the upload ended (a 413, say): what is
                # left would go nowhere. The connection will not be reused.
                return
            if not chunk:
                continue  # an empty chunk would end a chunked body
            sent += len(chunk)
            if length is not None and sent > length:
                raise ValueError("the request body is longer than its content-length")
            transport.write(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
            while self._write_paused and not self.closed:
                deadline = monotonic() + timeout_s
                await self._wait(deadline, "read of the request body")
        if self.closed:
            return
        if length is not None and sent != length:
            raise ValueError("the request body is shorter than its content-length")
        if chunked:
            transport.write(b"0\r\n\r\n")
        self.request_sent = True

    async def read_head(self, timeout_s: float) -> None:
        """Wait for the final response head (1xx are skipped) or raise why it never came."""
        deadline = monotonic() + timeout_s
        while not self.head_done:
            if self._error is not None:
                raise self._error
            await self._wait(deadline, "response")

    def body_ready(self) -> bool:
        """Whether reading the body can go on without waiting: bytes are here, or its end."""
        return bool(self._body) or self.done or self._error is not None

    def take_body(self) -> bytes:
        """The body bytes received and not yet taken (b"" when none)."""
        body = self._body
        if not body:
            return b""
        data = body[0] if len(body) == 1 else b"".join(body)
        self._body = []
        self._buffered = 0
        if self._reading_paused and self._transport is not None:
            self._reading_paused = False
            self._transport.resume_reading()
        return data

    async def wait_body(self, timeout_s: float) -> None:
        """Wait until more body, its end, or an error; at most `timeout_s`."""
        if self._error is not None:
            raise self._error
        await self._wait(monotonic() + timeout_s, "response body")
        if self._error is not None and not self._body:
            raise self._error

    def finish(self) -> bool:
        """End the exchange: True if the connection can carry another, else it is discarded."""
        if self.closed or self._body or not (self.done and self._keep_alive and self.request_sent):
            self.discard()
            return False
        self._busy = False
        return True

    def discard(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self._busy and not self.done and self._error is None:
            self._error = UpstreamUnavailable("the connection was closed mid-exchange")
        if self._transport is not None:
            self._transport.abort()
        self._wake()
        self._on_close(self)

    def _wait(self, deadline: float, what: str) -> asyncio.Future[None]:
        """A future that `_wake` completes, or `Deadlines` fails past `deadline`."""
        waiter = self._loop.create_future()
        self._waiter = waiter
        self._deadlines.add(waiter, deadline, what)
        return waiter

    def _wake(self) -> None:
        # Also the end of a wait that was cancelled: `discard` calls this.
        waiter = self._waiter
        if waiter is not None:
            self._waiter = None  # callbacks after the first skip the call
            self._deadlines.remove(waiter)
            if not waiter.done():
                waiter.set_result(None)

    def _fail(self, error: UpstreamError) -> None:
        self._error = error
        self.discard()

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast("asyncio.Transport", transport)

    def data_received(self, data: bytes) -> None:
        if not self._busy:
            # Bytes nobody asked for (a 408 before closing, say): this connection's
            # next answer could not be told apart from them.
            self.discard()
            return
        self.received = True
        try:
            self._parser.feed_data(data)
        except HttpParserUpgrade:
            self._fail(UpstreamUnavailable("the upstream switched protocols"))
        except HttpParserError as exc:
            if self.done:
                self._keep_alive = False  # junk after a complete answer
            else:
                self._fail(UpstreamUnavailable(f"the upstream's answer is not HTTP/1.1: {exc}"))

    def eof_received(self) -> bool | None:
        return None  # close: an upstream that stops sending is done with the connection

    def connection_lost(self, exc: Exception | None) -> None:
        if self._busy and not self.done and self._error is None:
            if self.head_done and self._until_eof and exc is None:
                # A body with neither length nor chunks ends where the connection does.
                self.done = True
            elif self.head_done:
                self._error = UpstreamUnavailable("the upstream closed during the response body")
            else:
                self._error = UpstreamUnavailable("the upstream closed before answering")
        if self.closed:
            self._wake()
            return
        self.closed = True
        self._wake()
        self._on_close(self)

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        self._wake()

    # httptools callbacks

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self.head_done:  # trailers come after the head: dropped
            self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        if self.done:
            self._keep_alive = False  # an answer nobody asked for, after this one
            return
        parser = self._parser
        status = parser.get_status_code()
        if status < 200:
            # 100, 103...: the final answer follows on the same connection.
            self._informational = True
            self.headers = []
            return
        self.status = status
        self.head_done = True
        keep_alive = parser.should_keep_alive()
        if self._head_only:
            # httptools cannot be told that a HEAD answer has no body: the exchange
            # ends here, and the next one gets a fresh parser.
            self.done = True
            self._keep_alive = keep_alive
            self._parser_stale = True
        elif not keep_alive:
            self._until_eof = status not in (204, 304) and not self._framed()
        if self._waiter is not None:
            self._wake()

    def _framed(self) -> bool:
        # Only asked when llhttp will not keep the connection: rare, so a scan is fine.
        for name, value in self.headers:
            lowered = name.lower()
            if lowered == _CONTENT_LENGTH:
                return True
            if lowered == _TRANSFER_ENCODING and value.lower().rstrip().endswith(b"chunked"):
                return True
        return False

    def on_body(self, body: bytes) -> None:
        if self.done:
            self._keep_alive = False  # a body after a HEAD answer
            return
        self._body.append(body)
        self._buffered += len(body)
        if self._buffered > READ_HIGH_WATER and not self._reading_paused:
            self._reading_paused = True
            cast("asyncio.Transport", self._transport).pause_reading()
        if self._waiter is not None:
            self._wake()

    def on_message_complete(self) -> None:
        if self._informational:
            self._informational = False
            return
        if self.done:
            return
        self.done = True
        self._keep_alive = self._parser.should_keep_alive()
        if self._waiter is not None:
            self._wake()


class UpstreamResponse:
    """An upstream's answer: its status and head, then its body from `chunks()`.

    `release()` must be called on every path (it is idempotent): the connection goes
    back to the pool only when the body was read whole and the connection can carry
    another request; otherwise it is closed. Reading the body to its end releases it.
    """

    __slots__ = ("_connection", "_give_back", "_timeout_s", "headers", "status")

    def __init__(
        self,
        connection: UpstreamConnection,
        give_back: Callable[[UpstreamConnection], None],
        timeout_s: float,
    ) -> None:
        self.status = connection.status
        # As received: original case, in order, repeats kept.
        self.headers = connection.headers
        self._connection: UpstreamConnection | None = connection
        self._give_back = give_back
        self._timeout_s = timeout_s

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body, de-chunked, as it arrives; nothing for HEAD, 1xx, 204 and 304.

        Raise `UpstreamTimeout` when the body pauses longer than the request's
        timeout, `UpstreamUnavailable` when it is cut short.
        """
        connection = self._connection
        if connection is None:
            return
        try:
            # Released mid-way, the connection may be carrying another request: stop.
            while self._connection is connection:
                data = connection.take_body()
                if data:
                    yield data
                elif connection.done:
                    break
                else:
                    await connection.wait_body(self._timeout_s)
        except BaseException:
            self._abandon(connection)
            raise
        self.release()

    def whole_body(self) -> bytes | None:
        """The whole body when all of it has arrived already (the answer is then
        released), else None: read it from `chunks()`."""
        connection = self._connection
        if connection is None:
            return b""
        if not connection.done:
            return None
        body = connection.take_body()
        self.release()
        return body

    async def read(self) -> bytes:
        """The whole body, waited for as `chunks()` would, for an answer known to be
        smaller than `READ_HIGH_WATER` (reading never pauses for it)."""
        connection = self._connection
        if connection is None:
            return b""
        try:
            while not connection.done:
                await connection.wait_body(self._timeout_s)
        except BaseException:
            self._abandon(connection)
            raise
        return self.whole_body() or b""

    def _abandon(self, connection: UpstreamConnection) -> None:
        # A read failed or was cancelled mid-body: the connection can carry nothing more.
        if self._connection is connection:
            self._connection = None
            connection.discard()

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self.chunks()

    @property
    def body_ready(self) -> bool:
        """Whether the body's first bytes (or its end) are already here: the head can
        then wait to go out with them, in one write."""
        connection = self._connection
        return connection is None or connection.body_ready()

    def release(self) -> None:
        connection = self._connection
        if connection is not None:
            self._connection = None
            self._give_back(connection)

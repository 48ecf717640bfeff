"""One request as the edge's protocol parsed it, and the one answer to it, written to the client.

The protocol (`edge.http_protocol`) makes an `Exchange` when a request's head is
complete and feeds it the body as it arrives; the proxy, or the ASGI bridge for the
edge's own paths, reads the body and writes the answer straight to the connection:
no message dicts, no `send` wrappers, one write for a small answer. When the answer
is complete the exchange tells the connection, which then starts the next
pipelined request or waits for one.
"""

from __future__ import annotations

import asyncio
from http import HTTPStatus
from typing import Protocol

from service_defaults.problems import PROBLEM_JSON

Headers = list[tuple[bytes, bytes]]

# Answers that never carry a body (RFC 9110 sections 15.3.5 and 15.4.5), whatever their headers say.
_NO_BODY_STATUSES = frozenset({204, 304})
# A body that piles up past this, unread, pauses reading from the client.
BODY_HIGH_WATER = 64 * 1024


def _status_line(status: int) -> bytes:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    return f"HTTP/1.1 {status} {phrase}\r\n".encode("latin-1")


STATUS_LINES = {status: _status_line(status) for status in range(100, 600)}


def problem_headers(request_id: str) -> Headers:
    """The head of an answer the edge writes with a problem body of its own minting."""
    return [(b"content-type", PROBLEM_JSON.encode()), (b"x-request-id", request_id.encode("ascii"))]


class ClientGone(Exception):
    """The client disconnected before its whole request arrived."""


class Connection(Protocol):
    """What an exchange needs of the connection it came on (`EdgeProtocol`)."""

    transport: asyncio.Transport
    write_paused: bool

    @property
    def default_headers(self) -> Headers:
        """The server's own (`date`), kept current by uvicorn once a second."""

    async def drain(self) -> None: ...

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...

    def answered(self, exchange: Exchange) -> None: ...


class Exchange:
    """The request as parsed, and the one answer to it.

    `headers` are the request's fields with lower-case names, in order; `raw_path`
    is the path as sent (still percent-encoded), `query` the bytes after `?`.
    The answer is either `respond` (whole, with its length) or `start`, `write`
    and `end` (streamed); `abort` cuts the connection when half an answer is out.
    The fields the access line, metrics and span need are set as the proxy learns
    them: `route` (a route-file name), `client` (the resolved address), `status`.
    """

    __slots__ = (
        "_body",
        "_chunked",
        "_connection",
        "_continue",
        "_more_body",
        "_pending",
        "_transport",
        "_waiter",
        "client",
        "complete",
        "disconnected",
        "headers",
        "http_version",
        "keep_alive",
        "method",
        "path",
        "peer",
        "query",
        "raw_path",
        "request_id",
        "route",
        "status",
    )

    def __init__(
        self,
        connection: Connection,
        method: str,
        raw_path: bytes,
        query: bytes,
        headers: Headers,
        *,
        http_version: str = "1.1",
        peer: str = "0.0.0.0",  # noqa: S104 - only a label
        keep_alive: bool = True,
        expect_continue: bool = False,
        more_body: bool = False,
    ) -> None:
        self._connection = connection
        self._transport = connection.transport
        self.method = method
        self.raw_path = raw_path
        self.query = query
        self.headers = headers
        self.http_version = http_version
        self.peer = peer
        # False once the client or the edge said the connection ends with this answer.
        self.keep_alive = keep_alive
        # The client waits for a 100 before sending its body (RFC 9110 section 10.1.1).
        self._continue = expect_continue
        self._body = bytearray()
        self._more_body = more_body
        self._waiter: asyncio.Future[None] | None = None
        self._chunked = False
        # A streamed answer's head, held for its first chunk (see `start`).
        self._pending = b""
        self.complete = False
        self.disconnected = False
        self.path = ""  # decoded, once the path rule has accepted it
        self.route = ""
        self.client: str | None = None
        self.request_id = ""
        self.status = 0

    @property
    def started(self) -> bool:
        return self.status != 0

    # Fed by the protocol

    def feed(self, part: bytes) -> None:
        if self.complete:
            return  # answered already: the rest of the body is read and dropped
        self._body += part
        if len(self._body) > BODY_HIGH_WATER:
            self._connection.pause_reading()
        self._wake()

    def body_done(self) -> None:
        self._more_body = False
        self._wake()

    def client_gone(self) -> None:
        self.disconnected = True
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # The request body

    async def receive(self) -> bytes | None:
        """The next part of the body, or None once it is whole; `ClientGone` if it never will be."""
        if self._continue and not self.disconnected:
            self._transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            self._continue = False
        while not self._body and self._more_body and not (self.disconnected or self.complete):
            self._connection.resume_reading()
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        if self.disconnected or self.complete:
            # Gone, or answered already: nobody waits for the rest of the body.
            raise ClientGone
        if self._body:
            part = bytes(self._body)
            self._body.clear()
            self._connection.resume_reading()  # paused while the body piled up
            return part
        return None

    async def finished(self) -> None:
        """Return once the answer is complete or the client has gone."""
        while not (self.disconnected or self.complete):
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    # The answer

    def respond(
        self, status: int, headers: Headers, body: bytes, *, has_length: bool = False
    ) -> None:
        """The whole answer in one write; this adds its length unless `has_length` says
        `headers` carry it already."""
        # RFC 9110 section 8.6: no Content-Length on a 204 (a preflight's answer) or 304.
        length = (
            b""
            if has_length or status in _NO_BODY_STATUSES
            else b"content-length: %d\r\n" % len(body)
        )
        head = self._head(status, headers, length)
        if not self.disconnected:
            with_body = self.method != "HEAD" and status not in _NO_BODY_STATUSES
            self._transport.write(head + body if with_body else head)
        self._complete()

    def start(
        self, status: int, headers: Headers, *, hold: bool = True, has_length: bool | None = None
    ) -> None:
        """The head of a streamed answer; chunked unless `headers` carry a length
        (`has_length` says whether they do, when the caller knows already).

        With `hold`, the head waits to go out with the first chunk (one write, one TLS
        record); without it, it goes now: a client waiting on a slow body (a long
        poll, an event stream) sees the answer begin as soon as the upstream's does.
        """
        if has_length is None:
            has_length = any(name.lower() == b"content-length" for name, _ in headers)
        framing = b""
        if self.method != "HEAD" and status not in _NO_BODY_STATUSES and not has_length:
            if self.http_version == "1.0":
                # RFC 9112 section 6.1: no chunks for a 1.0 client; the body ends
                # when the connection does.
                self.keep_alive = False
            else:
                self._chunked = True
                framing = b"transfer-encoding: chunked\r\n"
        head = self._head(status, headers, framing)
        if hold:
            self._pending = head
        elif not self.disconnected:
            self._transport.write(head)

    async def write(self, chunk: bytes) -> None:
        if self._connection.write_paused and not self.disconnected:
            await self._connection.drain()  # a slow client slows the upstream read, not memory
        if self.disconnected or not chunk or self.method == "HEAD":
            return
        if self._chunked:
            chunk = b"%x\r\n%b\r\n" % (len(chunk), chunk)
        if self._pending:
            chunk, self._pending = self._pending + chunk, b""
        self._transport.write(chunk)

    def end(self) -> None:
        last = self._pending + (b"0\r\n\r\n" if self._chunked else b"")
        if last and not self.disconnected:
            self._transport.write(last)
        self._complete()

    def abort(self) -> None:
        """Cut the connection: the client sees a truncated answer, not a complete-looking one."""
        self._pending = b""
        self.keep_alive = False
        self._transport.close()

    def _head(self, status: int, headers: Headers, framing: bytes) -> bytes:
        status_line = STATUS_LINES.get(status)
        if status_line is None:
            # Refused before anything is marked as sent: a problem can still answer.
            raise ValueError(f"no HTTP status {status}")
        self.status = status
        self._continue = False  # answered first: the client may send no body at all
        # Names and values come from the edge itself or from the upstream's answer as
        # httptools parsed it, which refuses control characters in either.
        lines = [status_line]
        for name, value in self._connection.default_headers:
            lines += (name, b": ", value, b"\r\n")
        for name, value in headers:
            lines += (name, b": ", value, b"\r\n")
        if not self.keep_alive:
            lines.append(b"connection: close\r\n")
        lines += (framing, b"\r\n")
        return b"".join(lines)

    def _complete(self) -> None:
        self.complete = True
        self._wake()  # a body still arriving is no longer waited for
        if not self.keep_alive:
            self._transport.close()
        self._connection.answered(self)

"""One proxied request and its answer, read from and written to the client's connection.

uvicorn's httptools protocol parses the request (and answers a malformed one with a
400, bounds keep-alive, queues pipelined requests); the edge's protocol hands each
proxied request to the proxy as an `Exchange` instead of as an ASGI call. The proxy
then writes its answer straight to the connection: no message dicts, no `send`
wrappers, one write for a small answer. The bookkeeping mirrors uvicorn's own
`RequestResponseCycle.send` and `receive`, whose state this shares, so the protocol
keeps driving keep-alive and the next pipelined request exactly as it does for ASGI.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from uvicorn.protocols.http.httptools_impl import RequestResponseCycle

Headers = list[tuple[bytes, bytes]]

# Answers that never carry a body (RFC 9110 sections 15.3.5 and 15.4.5), whatever their headers say.
_NO_BODY_STATUSES = frozenset({204, 304})


def _status_line(status: int) -> bytes:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    return f"HTTP/1.1 {status} {phrase}\r\n".encode("latin-1")


STATUS_LINES = {status: _status_line(status) for status in range(100, 600)}


class ClientGone(Exception):
    """The client disconnected before its whole request arrived."""


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
        "_chunked",
        "_cycle",
        "_default_headers",
        "_pending",
        "client",
        "headers",
        "http_version",
        "method",
        "path",
        "peer",
        "query",
        "raw_path",
        "request_id",
        "route",
        "status",
    )

    def __init__(self, cycle: RequestResponseCycle, default_headers: Headers) -> None:
        scope = cycle.scope
        self._cycle = cycle
        # The server's own (`date`), kept current by uvicorn once a second.
        self._default_headers = default_headers
        self._chunked = False
        # A streamed answer's head, held for its first chunk (see `start`).
        self._pending = b""
        self.method: str = scope["method"]
        self.raw_path: bytes = scope["raw_path"]
        self.query: bytes = scope["query_string"]
        self.headers: Headers = scope["headers"]  # type: ignore[assignment]  # a list from uvicorn
        self.http_version: str = scope["http_version"]
        client = scope["client"]
        self.peer: str = client[0] if client else "0.0.0.0"  # noqa: S104 - only a label
        self.path = ""  # decoded, once the path rule has accepted it
        self.route = ""
        self.client: str | None = None
        self.request_id = ""
        self.status = 0

    @property
    def started(self) -> bool:
        return self.status != 0

    # The request body

    async def receive(self) -> bytes | None:
        """The next part of the body, or None once it is whole; `ClientGone` if it never will be."""
        cycle = self._cycle
        if cycle.waiting_for_100_continue and not cycle.transport.is_closing():
            # The client waits for this before sending its body (RFC 9110 section 10.1.1).
            cycle.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            cycle.waiting_for_100_continue = False
        if not cycle.body and cycle.more_body and not cycle.disconnected:
            cycle.flow.resume_reading()
            await cycle.message_event.wait()
            cycle.message_event.clear()
        if cycle.disconnected or cycle.response_complete:
            # Gone, or answered already: nobody waits for the rest of the body.
            raise ClientGone
        if cycle.body:
            part = bytes(cycle.body)
            cycle.body = bytearray()
            cycle.flow.resume_reading()  # the protocol pauses reading while the body piles up
            return part
        if cycle.more_body:
            return await self.receive()  # woken without body: the next wait tells
        return None

    # The answer

    def respond(self, status: int, headers: Headers, body: bytes) -> None:
        """The whole answer in one write; `headers` carry no length, this adds it."""
        # RFC 9110 section 8.6: no Content-Length on a 204 (a preflight's answer) or 304.
        length = b"" if status in _NO_BODY_STATUSES else b"content-length: %d\r\n" % len(body)
        head = self._head(status, headers, length)
        cycle = self._cycle
        if not cycle.disconnected:
            with_body = self.method != "HEAD" and status not in _NO_BODY_STATUSES
            cycle.transport.write(head + body if with_body else head)
        self._complete()

    def start(self, status: int, headers: Headers, *, hold: bool = True) -> None:
        """The head of a streamed answer; chunked unless `headers` carry a length.

        With `hold`, the head waits to go out with the first chunk (one write, one TLS
        record); without it, it goes now: a client waiting on a slow body (a long
        poll, an event stream) sees the answer begin as soon as the upstream's does.
        """
        framing = b""
        if (
            self.method != "HEAD"
            and status not in _NO_BODY_STATUSES
            and not any(name.lower() == b"content-length" for name, _ in headers)
        ):
            if self.http_version == "1.0":
                # RFC 9112 section 6.1: no chunks for a 1.0 client; the body ends
                # when the connection does.
                self._cycle.keep_alive = False
            else:
                self._chunked = True
                framing = b"transfer-encoding: chunked\r\n"
        head = self._head(status, headers, framing)
        if hold:
            self._pending = head
        elif not self._cycle.disconnected:
            self._cycle.transport.write(head)

    async def write(self, chunk: bytes) -> None:
        cycle = self._cycle
        if cycle.flow.write_paused and not cycle.disconnected:
            await cycle.flow.drain()  # a slow client slows the upstream read, not memory
        if cycle.disconnected or not chunk or self.method == "HEAD":
            return
        if self._chunked:
            chunk = b"%x\r\n%b\r\n" % (len(chunk), chunk)
        if self._pending:
            chunk, self._pending = self._pending + chunk, b""
        cycle.transport.write(chunk)

    def end(self) -> None:
        last = self._pending + (b"0\r\n\r\n" if self._chunked else b"")
        if last and not self._cycle.disconnected:
            self._cycle.transport.write(last)
        self._complete()

    def abort(self) -> None:
        """Cut the connection: the client sees a truncated answer, not a complete-looking one."""
        self._pending = b""
        self._cycle.keep_alive = False
        self._cycle.transport.close()

    def _head(self, status: int, headers: Headers, framing: bytes) -> bytes:
        status_line = STATUS_LINES.get(status)
        if status_line is None:
            # Refused before anything is marked as sent: a problem can still answer.
            raise ValueError(f"no HTTP status {status}")
        self.status = status
        cycle = self._cycle
        cycle.response_started = True
        cycle.waiting_for_100_continue = False
        # Names and values come from the edge itself or from the upstream's answer as
        # httptools parsed it, which refuses control characters in either.
        lines = [status_line]
        for name, value in self._default_headers:
            lines += (name, b": ", value, b"\r\n")
        for name, value in headers:
            lines += (name, b": ", value, b"\r\n")
        if not cycle.keep_alive:
            lines.append(b"connection: close\r\n")
        lines += (framing, b"\r\n")
        return b"".join(lines)

    def _complete(self) -> None:
        cycle = self._cycle
        cycle.response_complete = True
        cycle.message_event.set()  # a body still arriving is no longer waited for
        if not cycle.keep_alive:
            cycle.transport.close()
        cycle.on_response()  # the next pipelined request, or the keep-alive timer

"""An upstream for client tests: a server on 127.0.0.1 whose answers are scripted as raw bytes.

Each request the server reads whole takes the next scripted answer, on whichever
connection it came: a list of steps, each bytes to write, a `Pause`, or `CLOSE`.
A request with no answer left gets none (the connection stays open, silent). The
server records every connection, the bytes it received and the requests parsed
from them, and whether the client closed it.
"""

from __future__ import annotations

import asyncio
import socket
from collections import deque
from dataclasses import dataclass, field
from types import TracebackType

from httptools import HttpParserError, HttpRequestParser


@dataclass(frozen=True)
class Pause:
    seconds: float


class _Close:
    def __repr__(self) -> str:
        return "CLOSE"


CLOSE = _Close()
Step = bytes | Pause | _Close


def ok(body: bytes = b"hello", *headers: bytes) -> bytes:
    """A 200 with a content-length, `headers` as whole `name: value` lines."""
    extra = b"".join(line + b"\r\n" for line in headers)
    return b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n%s\r\n%s" % (len(body), extra, body)


@dataclass
class ReceivedRequest:
    method: bytes
    target: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes


@dataclass
class ScriptedConnection:
    raw: bytearray = field(default_factory=bytearray)
    requests: list[ReceivedRequest] = field(default_factory=list)
    # Set when the client closed its side (or reset the connection).
    closed_by_client: asyncio.Event = field(default_factory=asyncio.Event)
    # Set when the server is done with it, whoever closed it.
    ended: bool = False
    # What the server has written and the client not yet read is its write buffer.
    transport: asyncio.WriteTransport | None = None


class _RequestReader:
    """httptools callbacks gathering the requests of one connection."""

    def __init__(self) -> None:
        self.parser = HttpRequestParser(self)
        self.complete: list[ReceivedRequest] = []
        self._target = b""
        self._headers: list[tuple[bytes, bytes]] = []
        self._body: list[bytes] = []

    def on_url(self, url: bytes) -> None:
        self._target += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name, value))

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        method = self.parser.get_method()
        request = ReceivedRequest(method, self._target, self._headers, b"".join(self._body))
        self.complete.append(request)
        self._target, self._headers, self._body = b"", [], []


class ScriptedUpstream:
    def __init__(self) -> None:
        self.connections: list[ScriptedConnection] = []
        self._answers: deque[list[Step]] = deque()
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()
        self._writers: list[asyncio.StreamWriter] = []
        self._reading = asyncio.Event()
        self._reading.set()
        self.port = 0

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def requests(self) -> list[ReceivedRequest]:
        return [request for connection in self.connections for request in connection.requests]

    def answer(self, *steps: Step) -> None:
        """Queue the answer to the next request."""
        self._answers.append(list(steps))

    def hold_reading(self) -> None:
        """Stop reading from every connection: the client's writes back up."""
        self._reading.clear()

    def resume_reading(self) -> None:
        self._reading.set()

    async def __aenter__(self) -> ScriptedUpstream:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:
            writer.transport.abort()
        for task in self._handlers:
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self._writers.append(writer)
        connection = ScriptedConnection(transport=writer.transport)
        self.connections.append(connection)
        requests = _RequestReader()
        try:
            while True:
                await self._reading.wait()
                try:
                    data = await reader.read(64 * 1024)
                except ConnectionError:
                    data = b""
                if not data:
                    connection.closed_by_client.set()
                    return
                connection.raw += data
                requests.parser.feed_data(data)
                while requests.complete:
                    connection.requests.append(requests.complete.pop(0))
                    if self._answers and not await self._play(self._answers.popleft(), writer):
                        return
        except HttpParserError:
            writer.transport.abort()
        except asyncio.CancelledError:
            # Only the server's own shutdown cancels a handler: ending quietly
            # keeps asyncio from logging a cancelled connection callback.
            writer.transport.abort()
        finally:
            connection.ended = True
            self._handlers.discard(task)

    async def _play(self, steps: list[Step], writer: asyncio.StreamWriter) -> bool:
        """Write one answer; False once the connection is closed."""
        for step in steps:
            if isinstance(step, Pause):
                await asyncio.sleep(step.seconds)
            elif isinstance(step, _Close):
                writer.close()
                return False
            else:
                writer.write(step)
                await writer.drain()
        return True


def refused_origin() -> str:
    """An origin on a port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"

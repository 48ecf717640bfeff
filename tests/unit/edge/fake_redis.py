"""A scripted Redis on a real socket: it answers as a test says and records what it was sent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import hiredis

# An answer: the reply's bytes, SILENT to say nothing (a hung Redis), or CLOSE to hang up.
SILENT = b""
CLOSE = b"close"
Answer = Callable[[list[bytes]], bytes]

OK = b"+OK\r\n"


def integers(*values: int) -> bytes:
    return b"*%d\r\n" % len(values) + b"".join(b":%d\r\n" % v for v in values)


def error(message: str) -> bytes:
    return f"-{message}\r\n".encode()


def allow_everything(command: list[bytes]) -> bytes:
    """EVALSHA and EVAL allow each key, one interval spent; AUTH, SELECT and the rest are OK."""
    if command[0] in (b"EVALSHA", b"EVAL"):
        keys = int(command[2])
        # After the keys, two arguments per key: its interval, then its limit.
        intervals = command[3 + keys :: 2]
        return integers(*(n for interval in intervals for n in (1, int(interval), 0)))
    return OK


def forgets_its_scripts(answer: Answer = allow_everything) -> Answer:
    """`answer`, but EVALSHA is refused with NOSCRIPT until an EVAL has loaded the script:
    a Redis that restarted, or whose scripts were flushed."""
    loaded = False

    def forgetful(command: list[bytes]) -> bytes:
        nonlocal loaded
        loaded = loaded or command[0] == b"EVAL"
        if command[0] == b"EVALSHA" and not loaded:
            return error("NOSCRIPT No matching script. Please use EVAL.")
        return answer(command)

    return forgetful


@dataclass
class FakeRedis:
    answer: Answer
    port: int = 0
    commands: list[list[bytes]] = field(default_factory=list)
    connections: int = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def names(self) -> list[bytes]:
        return [command[0] for command in self.commands]

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        parser = hiredis.Reader()
        try:
            while data := await reader.read(65536):
                parser.feed(data)
                while (command := parser.gets()) is not False:
                    self.commands.append(command)
                    reply = self.answer(command)
                    if reply == CLOSE:
                        return
                    writer.write(reply)
                await writer.drain()
        except ConnectionError:
            pass  # the client hung up first: what some tests do on purpose
        finally:
            writer.close()


@asynccontextmanager
async def fake_redis(answer: Answer = allow_everything) -> AsyncIterator[FakeRedis]:
    fake = FakeRedis(answer)
    handlers: set[asyncio.Task[None]] = set()
    writers: list[asyncio.StreamWriter] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        handlers.add(task)
        writers.append(writer)
        await fake.serve(reader, writer)

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    fake.port = server.sockets[0].getsockname()[1]
    try:
        yield fake
    finally:
        server.close()
        # Hanging up ends each handler's read loop: cancelling them would log errors.
        for writer in writers:
            writer.transport.abort()
        await asyncio.gather(*handlers, return_exceptions=True)
        await server.wait_closed()

"""The smallest honest Python proxy, as a yardstick: Litestar, one mount, aiohttp, TLS.

No routing table, no token, no limiter, no header hygiene, no access log, no
metrics: what the edge would cost if it did nothing an edge is for. The edge's
distance from this is the price of its features; this one's distance from the
backend is the price of Python, TLS and one more hop.

`python -m bench.bare_proxy PORT BACKEND_URL CERT KEY`
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import uvicorn
from litestar import Litestar, asgi
from litestar.types import HTTPResponseBodyEvent, HTTPResponseStartEvent, Receive, Scope, Send


def create_app(backend: str) -> Litestar:
    session: list[aiohttp.ClientSession] = []

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        session.append(aiohttp.ClientSession(auto_decompress=False))
        yield
        await session[0].close()

    @asgi("/", is_mount=True, copy_scope=False)
    async def forward(scope: Scope, receive: Receive, send: Send) -> None:
        url = backend + scope["raw_path"].decode("latin-1")
        async with session[0].get(url) as response:
            body = await response.read()
        start: HTTPResponseStartEvent = {
            "type": "http.response.start",
            "status": response.status,
            "headers": [(b"content-length", str(len(body)).encode())],
        }
        await send(start)
        end: HTTPResponseBodyEvent = {
            "type": "http.response.body",
            "body": body,
            "more_body": False,
        }
        await send(end)

    return Litestar([forward], lifespan=[lifespan], logging_config=None)


if __name__ == "__main__":
    port, backend, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    uvicorn.run(
        create_app(backend),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        ssl_certfile=cert,
        ssl_keyfile=key,
    )

"""The factory for internal HTTP clients: explicit timeouts, pooled, request id forwarded."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import httpx
import httpx_aiohttp

from service_defaults.request_context import (
    REQUEST_ID_HEADER,
    current_request_id,
    current_traceparent,
)


async def _forward_request_context(request: httpx.Request) -> None:
    request_id = current_request_id()
    if request_id:
        request.headers[REQUEST_ID_HEADER] = request_id
    traceparent = current_traceparent()
    if traceparent is not None:
        request.headers["traceparent"] = traceparent.decode("latin-1")


def create_http_client(
    base_url: str, *, timeout_s: float, max_connections: int = 100
) -> httpx.AsyncClient:
    """One client per upstream per process; open it in a lifespan and close it there."""
    limits = httpx.Limits(
        max_connections=max_connections, max_keepalive_connections=max_connections
    )
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 1.0)),
        event_hooks={"request": [_forward_request_context]},
        # httpx's API on aiohttp's connection pool: the default transport spent most
        # of a BFF's CPU checking idle pooled sockets (docs/performance.md).
        transport=httpx_aiohttp.AiohttpTransport(limits=limits, trust_env=False),
        # Internal calls go straight to the service: no proxy from the environment.
        trust_env=False,
    )


@asynccontextmanager
async def open_clients(
    base_urls: Mapping[str, str], *, timeout_s: float
) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    """One client per named upstream for the life of the app, all closed on the way out."""
    clients = {
        name: create_http_client(url, timeout_s=timeout_s) for name, url in base_urls.items()
    }
    try:
        yield clients
    finally:
        for client in clients.values():
            await client.aclose()

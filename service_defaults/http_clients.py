"""The factory for internal HTTP clients: explicit timeouts, pooled, request context forwarded."""

from __future__ import annotations

import aiohttp
import httpx
import httpx_aiohttp

from service_defaults.request_context import (
    REQUEST_ID_HEADER,
    current_request_id,
    current_traceparent,
)

# A connection that cannot be made within a second is not coming: fail and let
# the caller retry or degrade rather than spend the whole budget on a SYN.
MAX_CONNECT_S = 1.0


async def _forward_request_context(request: httpx.Request) -> None:
    request_id = current_request_id()
    if request_id:
        request.headers[REQUEST_ID_HEADER] = request_id
    traceparent = current_traceparent()
    if traceparent is not None:
        request.headers["traceparent"] = traceparent.decode("latin-1")


class NetworkTransport(httpx_aiohttp.AiohttpTransport):
    """httpx's API on aiohttp's connection pool: the default transport spent most of a
    BFF's CPU checking idle pooled sockets (docs/performance.md).

    httpx-aiohttp lets some aiohttp errors through unmapped (a malformed status
    line from the service raises `aiohttp.ClientResponseError`); here every one
    becomes an httpx error, so callers handle one family of failures.
    """

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await super().handle_async_request(request)
        except aiohttp.ClientError as exc:
            raise httpx.RemoteProtocolError(str(exc) or repr(exc), request=request) from exc


def create_network_transport(max_connections: int = 100) -> httpx.AsyncBaseTransport:
    """The transport that talks to the network; everything else wraps it."""
    limits = httpx.Limits(
        max_connections=max_connections, max_keepalive_connections=max_connections
    )
    return NetworkTransport(limits=limits, trust_env=False)


def create_http_client(
    base_url: str,
    *,
    timeout_s: float,
    transport: httpx.AsyncBaseTransport | None = None,
    auth: httpx.Auth | None = None,
    max_connections: int = 100,
) -> httpx.AsyncClient:
    """One client per upstream per process; open it in a lifespan and close it there.

    `transport` is the seam for behaviour around the call (a BFF's deadline,
    breaker and retries) and for tests (`httpx.MockTransport`); by default the
    client talks to the network directly.
    """
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, MAX_CONNECT_S)),
        event_hooks={"request": [_forward_request_context]},
        transport=transport or create_network_transport(max_connections),
        auth=auth,
        # Internal calls go straight to the service: no proxy from the environment.
        trust_env=False,
    )

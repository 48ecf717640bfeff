"""The factory for internal HTTP clients: explicit timeouts, pooled, request context forwarded."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import aiohttp
import httpx
import httpx_aiohttp
from httpx_aiohttp.transport import map_aiohttp_exceptions

from service_defaults.request_context import REQUEST_ID_HEADER, current_request_id
from service_defaults.telemetry import DISABLED, Telemetry

if TYPE_CHECKING:
    from httpx._types import CookieTypes, QueryParamTypes

# A connection that cannot be made within a second is not coming: fail and let
# the caller retry or degrade rather than spend the whole budget on a SYN.
MAX_CONNECT_S = 1.0
# Distinct paths and queries whose URL a client remembers (see `InternalClient`).
MERGED_URLS = 256
_HTTP_1_1 = {"http_version": b"HTTP/1.1"}


async def _forward_request_id(request: httpx.Request) -> None:
    # The trace context is the client span's to send (see `Telemetry.http_transport`).
    request_id = current_request_id()
    if request_id:
        request.headers[REQUEST_ID_HEADER] = request_id


class NetworkTransport(httpx_aiohttp.AiohttpTransport):
    """httpx's API on aiohttp's connection pool: the default transport spent most of a
    BFF's CPU checking idle pooled sockets (docs/performance.md).

    Each answer is read whole here, by aiohttp, and handed to httpx as one chunk:
    every internal call reads its answer whole anyway, and a body that breaks off
    is then the call's own failure, retried like a refused connection. Any aiohttp
    error, including those httpx-aiohttp lets through unmapped (a malformed status
    line raises `aiohttp.ClientResponseError`), becomes an httpx error.
    """

    def get_client(self) -> aiohttp.ClientSession:
        connector = aiohttp.TCPConnector(
            limit=self.limits.max_connections or 0,
            keepalive_timeout=self.limits.keepalive_expiry,
            ssl=self.ssl_context,
        )
        # One session serves every caller of the process: a cookie one answer
        # set must never ride along on another caller's request.
        return aiohttp.ClientSession(
            connector=connector, cookie_jar=aiohttp.DummyCookieJar(), auto_decompress=False
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if not isinstance(self.client, aiohttp.ClientSession):
            self.client = self.get_client()
        timeout = request.extensions.get("timeout", {})
        data: Any
        try:
            data = request.content or None
        except httpx.RequestNotRead:
            data = request.stream
            request.headers.pop("transfer-encoding", None)  # aiohttp frames the body itself
        try:
            with map_aiohttp_exceptions():
                async with self.client.request(
                    request.method,
                    str(request.url),
                    headers=request.headers.multi_items(),
                    data=data,
                    allow_redirects=False,
                    compress=False,
                    timeout=aiohttp.ClientTimeout(
                        sock_connect=timeout.get("connect"),
                        sock_read=timeout.get("read"),
                        connect=timeout.get("pool"),
                    ),
                    server_hostname=request.extensions.get("sni_hostname"),
                ) as answer:
                    body = await answer.read()
        except aiohttp.ClientError as exc:
            raise httpx.RemoteProtocolError(str(exc) or repr(exc), request=request) from exc
        extensions = _HTTP_1_1
        if answer.reason:
            extensions = {**_HTTP_1_1, "reason_phrase": answer.reason.encode()}
        response = httpx.Response(
            answer.status,
            headers=answer.raw_headers,
            stream=httpx.ByteStream(body),  # as a stream, so no Content-Length is added
            request=request,
            extensions=extensions,
        )
        response.read()  # in memory already: spare every later reader httpx's async iterators
        return response


class _NoCookies(httpx.Cookies):
    def extract_cookies(self, response: httpx.Response) -> None:
        """Nothing is kept from an answer (see `InternalClient`)."""


# A relative path and its plain query parameters: what a merged URL is remembered by.
_UrlKey = tuple[str, tuple[tuple[str, str | int], ...]]


class InternalClient(httpx.AsyncClient):
    """An `httpx.AsyncClient` for calls inside the system, shared by every caller.

    It keeps no cookie from an answer: one a caller's answer set must never be
    sent with another caller's request (a request may still pass its own). And it
    remembers the URL it built for each path and plain query, which httpx would
    parse two or three times per call. Together: two thirds of httpx's CPU per call.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._no_cookies = _NoCookies()
        self._urls: dict[_UrlKey, tuple[httpx.URL, httpx.URL]] = {}

    @property
    def cookies(self) -> httpx.Cookies:
        return self._no_cookies

    @cookies.setter
    def cookies(self, cookies: CookieTypes) -> None:
        raise TypeError("an internal client keeps no cookies; pass them per request")

    def build_request(
        self,
        method: str,
        url: httpx.URL | str,
        *,
        params: QueryParamTypes | None = None,
        **kwargs: Any,
    ) -> httpx.Request:
        key = _url_key(url, params) if not self.params else None
        if key is None:
            return super().build_request(method, url, params=params, **kwargs)
        base = self.base_url
        known = self._urls.get(key)
        if known is None or known[0] is not base:  # new, or base_url was set since
            if len(self._urls) >= MERGED_URLS:
                self._urls.clear()
            merged = super().build_request(method, url, params=params).url
            known = self._urls[key] = (base, merged)
        return super().build_request(method, known[1], **kwargs)


def _url_key(url: httpx.URL | str, params: object) -> _UrlKey | None:
    # Only plain str and int values: True or 1.0 would hash like 1 and be taken for it.
    if not isinstance(url, str):
        return None
    if params is None:
        return url, ()
    if not isinstance(params, dict):
        return None
    items = tuple(params.items())
    if all(type(k) is str and type(v) in (str, int) for k, v in items):
        return url, items
    return None


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
    telemetry: Telemetry = DISABLED,
) -> httpx.AsyncClient:
    """One client per upstream per process; open it in a lifespan and close it there.

    `transport` is the seam for behaviour around the call (a BFF's deadline,
    breaker and retries, its own client spans) and for tests
    (`httpx.MockTransport`); by default the client talks to the network directly,
    a client span around each call when `telemetry` is on.
    """
    if transport is None:
        transport = telemetry.http_transport(create_network_transport(max_connections))
    return InternalClient(
        base_url=base_url,
        timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, MAX_CONNECT_S)),
        event_hooks={"request": [_forward_request_id]},
        transport=transport,
        auth=auth,
        # Internal calls go straight to the service: no proxy from the environment.
        trust_env=False,
    )

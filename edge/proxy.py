"""The reverse proxy: validate, route, authenticate, forward, stream the answer back."""

from __future__ import annotations

import logging

import aiohttp
from litestar.types import (
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    HTTPScope,
    Receive,
    Send,
)
from yarl import URL

from edge.headers import request_headers, response_headers
from edge.routing import BadPath, RouteTable, validate_path
from service_defaults.bearer import bearer_token
from service_defaults.problems import send_problem
from service_defaults.request_context import current_request_id
from service_defaults.tokens import InvalidToken, TokenVerifier

log = logging.getLogger("frontdoor.edge")

# TRACE echoes requests (cross-site tracing) and CONNECT opens tunnels: neither
# has a reason to reach an application behind a gateway.
FORWARDED_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
BODY_CHUNK = 64 * 1024


class BodyTooLarge(Exception):
    pass


class ClientGone(Exception):
    """The client disconnected before sending its whole request."""


class Proxy:
    def __init__(
        self,
        routes: RouteTable,
        verifier: TokenVerifier,
        *,
        timeout_s: float,
        max_body_bytes: int,
    ) -> None:
        self.routes = routes
        self.verifier = verifier
        self.session: aiohttp.ClientSession | None = None
        self._timeout = aiohttp.ClientTimeout(total=timeout_s, sock_connect=min(timeout_s, 2.0))
        self._max_body = max_body_bytes

    def open(self) -> aiohttp.ClientSession:
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=256, ttl_dns_cache=60),
            # Bytes pass through as the upstream encoded them.
            auto_decompress=False,
            skip_auto_headers=("User-Agent", "Accept-Encoding", "Content-Type"),
            timeout=self._timeout,
        )
        return self.session

    async def __call__(self, scope: HTTPScope, receive: Receive, send: Send) -> None:
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        try:
            path = validate_path(raw_path)
        except BadPath as exc:
            await send_problem(send, 400, f"The request path is not acceptable: {exc}.")
            return
        route = self.routes.match(path)
        if route is None:
            await send_problem(send, 404, "No route matches this path.", instance=path)
            return
        if scope["method"] not in FORWARDED_METHODS:
            await send_problem(send, 405, "This method is not forwarded.", instance=path)
            return
        headers = list(scope["headers"])
        if route.auth_required and not await self._authenticated(headers, send, path):
            return
        try:
            body = await self._read_body(headers, receive)
        except BodyTooLarge:
            await send_problem(send, 413, "The request body is too large.", instance=path)
            return
        except ClientGone:
            return
        await self._forward(scope, send, route.upstream, raw_path, headers, body, path)

    async def _authenticated(
        self, headers: list[tuple[bytes, bytes]], send: Send, path: str
    ) -> bool:
        authorization = next(
            (v.decode("latin-1") for k, v in headers if k.lower() == b"authorization"), None
        )
        token = bearer_token(authorization)
        if token is None:
            challenge = b"Bearer"
        else:
            try:
                await self.verifier.verify(token)
                return True
            except InvalidToken:
                challenge = b'Bearer error="invalid_token"'
        await send_problem(
            send,
            401,
            "A valid bearer token is required.",
            instance=path,
            headers=[(b"www-authenticate", challenge)],
        )
        return False

    async def _read_body(self, headers: list[tuple[bytes, bytes]], receive: Receive) -> bytes:
        declared = next((v for k, v in headers if k.lower() == b"content-length"), None)
        # The server (h11/httptools) has already refused a malformed Content-Length.
        if declared is not None and int(declared) > self._max_body:
            raise BodyTooLarge
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                raise ClientGone
            chunk = message["body"]
            size += len(chunk)
            if size > self._max_body:
                raise BodyTooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _forward(
        self,
        scope: HTTPScope,
        send: Send,
        upstream: str,
        raw_path: bytes,
        inbound: list[tuple[bytes, bytes]],
        body: bytes,
        path: str,
    ) -> None:
        if self.session is None:
            raise RuntimeError("Proxy.open() must run in the app's lifespan first")
        query = scope.get("query_string", b"")
        # encoded=True: the path and query reach the upstream byte for byte.
        url = URL(
            upstream + (raw_path + (b"?" + query if query else b"")).decode("latin-1"), encoded=True
        )
        host = next((v for k, v in inbound if k.lower() == b"host"), b"")
        client = scope.get("client") or ("", 0)
        headers = request_headers(
            inbound, client_ip=client[0], host=host, request_id=current_request_id()
        )
        started = False
        try:
            async with self.session.request(
                scope["method"],
                url,
                headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers],
                data=body or None,
                allow_redirects=False,
            ) as upstream_response:
                start: HTTPResponseStartEvent = {
                    "type": "http.response.start",
                    "status": upstream_response.status,
                    "headers": response_headers(upstream_response.raw_headers),
                }
                await send(start)
                started = True
                async for chunk in upstream_response.content.iter_chunked(BODY_CHUNK):
                    part: HTTPResponseBodyEvent = {
                        "type": "http.response.body",
                        "body": chunk,
                        "more_body": True,
                    }
                    await send(part)
                end: HTTPResponseBodyEvent = {
                    "type": "http.response.body",
                    "body": b"",
                    "more_body": False,
                }
                await send(end)
        except (TimeoutError, aiohttp.ClientError) as exc:
            if started:
                # Half an answer cannot be turned into a problem: cut the connection
                # so the client sees a truncated response, not a complete-looking one.
                raise
            await self._send_upstream_problem(send, exc, path)

    async def _send_upstream_problem(self, send: Send, exc: Exception, path: str) -> None:
        if isinstance(exc, TimeoutError):
            log.warning("upstream timeout for %s", path)
            await send_problem(
                send, 504, "The upstream service did not answer in time.", instance=path
            )
        else:
            log.warning("upstream unreachable for %s: %s", path, exc)
            await send_problem(send, 502, "The upstream service is unavailable.", instance=path)

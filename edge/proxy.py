"""The reverse proxy: check, route, authenticate, limit, forward, stream the answer back.

Every refusal happens before any upstream call, in this order: header count and size (431),
transfer coding (501), path (400), route (404), CORS preflight (answered here),
method (405), token (400 when sent twice, else 401), rate limit (429), body
size (413).
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator

import aiohttp
from litestar.types import (
    HTTPResponseBodyEvent,
    HTTPResponseStartEvent,
    HTTPScope,
    Message,
    Receive,
    Send,
)
from yarl import URL

from edge.auth import Authenticator, AuthFailed
from edge.client_address import ClientAddressResolver
from edge.headers import HeaderPolicy, header_value, header_values, response_headers
from edge.metrics import EdgeMetrics
from edge.rate_limits import RateLimiter, RatePolicy, rate_limit_headers
from edge.routing import BadPath, Route, RouteTable, validate_path
from edge.tracing import UpstreamCallSpans
from service_defaults.problems import send_problem
from service_defaults.request_context import CLIENT_KEY, ROUTE_KEY, current_request_id
from service_defaults.server_spans import annotate_request

log = logging.getLogger("frontdoor.edge")

BODY_CHUNK = 64 * 1024
# Bodies up to this size are read whole and sent with their length; larger ones
# with a Content-Length stream through without being held in memory.
SMALL_BODY = 64 * 1024
BUDGET_HEADER = b"x-request-budget-ms"


class Refused(Exception):
    """A request answered at the edge, with a problem, before any upstream call."""

    def __init__(
        self, status: int, detail: str, headers: list[tuple[bytes, bytes]] | None = None
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers or []


class ClientGone(Exception):
    """The client disconnected before sending its whole request."""


def open_upstream_session() -> aiohttp.ClientSession:
    """The pooled connections to every upstream; opened and closed by the edge's lifespan."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=512, ttl_dns_cache=60),
        # Bytes pass through as the upstream encoded them.
        auto_decompress=False,
        skip_auto_headers=("User-Agent", "Accept-Encoding", "Content-Type"),
        cookie_jar=aiohttp.DummyCookieJar(),
    )


class Proxy:
    def __init__(
        self,
        routes: RouteTable,
        authenticator: Authenticator,
        limiter: RateLimiter,
        *,
        session: aiohttp.ClientSession,
        headers: HeaderPolicy,
        client_addresses: ClientAddressResolver,
        metrics: EdgeMetrics,
        max_header_bytes: int,
        max_header_fields: int = 100,
        call_spans: UpstreamCallSpans | None = None,
    ) -> None:
        # Replaced whole on reload: a request sees the old table or the new one.
        self.routes = routes
        self.authenticator = authenticator
        self.limiter = limiter
        self.session = session
        self._headers = headers
        self._client_addresses = client_addresses
        self._metrics = metrics
        self._max_header_bytes = max_header_bytes
        self._max_header_fields = max_header_fields
        # None when untraced: then no span, and no trace context sent on.
        self._call_spans = call_spans

    async def __call__(self, scope: HTTPScope, receive: Receive, send: Send) -> None:
        started = time.monotonic()
        status = 0

        async def send_counted(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        route: Route | None = None
        cors: list[tuple[bytes, bytes]] = []
        try:
            client, forwarded_for = self._client(scope)
            scope[CLIENT_KEY] = client  # type: ignore[literal-required]  # for the access line
            route = self._route(scope)
            if self._is_preflight(scope):
                return await self._answer_preflight(scope, route, send_counted)
            # On refusals too: a browser shows the page a 401 or 429 it can read,
            # not an opaque network error.
            cors = self._cors_headers(scope, route)
            extra = await self._admit(scope, route, client)
            await self._forward(
                scope, receive, send_counted, route, extra + cors, started, forwarded_for
            )
        except Refused as refusal:
            # The path as the client sent it, still percent-encoded.
            raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
            await send_problem(
                send_counted,
                refusal.status,
                refusal.detail,
                instance=raw_path.decode("latin-1"),
                headers=refusal.headers + cors,
            )
        except ClientGone:
            pass  # nobody to answer: the access line records nginx's 499
        except Exception:
            log.exception("proxy failed on %s %s", scope["method"], scope["path"])
            if status:
                raise  # half an answer is out: only cutting the connection is left
            await send_problem(send_counted, 500, "The gateway could not handle this request.")

    def _route(self, scope: HTTPScope) -> Route:
        # A list from uvicorn; ASGI promises only an iterable.
        headers = scope["headers"] if isinstance(scope["headers"], list) else [*scope["headers"]]
        if len(headers) > self._max_header_fields:
            raise Refused(431, "The request has too many header fields.")
        if sum(len(name) + len(value) + 4 for name, value in headers) > self._max_header_bytes:
            raise Refused(431, "The request headers are too large.")
        coding = header_value(headers, b"transfer-encoding")
        if coding is not None and coding.strip().lower() != b"chunked":
            # RFC 9112 section 6.1: a coding the edge cannot decode is a 501, not a
            # body it would pass on under a Content-Length that no longer fits.
            raise Refused(501, "Only the chunked transfer coding is supported.")
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        try:
            path = validate_path(raw_path)
        except BadPath as exc:
            raise Refused(400, f"The request path is not acceptable: {exc}.") from None
        route = self.routes.match(path)
        if route is None:
            raise Refused(404, "No route matches this path.")
        # The label of this request's span, metrics and access line (see `route_label`).
        scope[ROUTE_KEY] = route.name  # type: ignore[literal-required]
        return route

    @staticmethod
    def _is_preflight(scope: HTTPScope) -> bool:
        return scope["method"] == "OPTIONS" and (
            header_value(scope["headers"], b"access-control-request-method") is not None
        )

    async def _admit(
        self, scope: HTTPScope, route: Route, client: str
    ) -> list[tuple[bytes, bytes]]:
        """Headers to add to the response; raise `Refused` when the request may not pass."""
        headers = scope["headers"]
        method = scope["method"]
        if method not in route.methods:
            allow = ", ".join(sorted(route.methods)).encode()
            raise Refused(405, "This route does not accept this method.", [(b"allow", allow)])
        extra: list[tuple[bytes, bytes]] = []
        subject = None
        if not route.auth_required:
            annotate_request({"frontdoor.auth.outcome": "not_required"})
        else:
            if len(header_values(headers, b"authorization")) > 1:
                # The edge would check one and a service might read the other.
                raise Refused(400, "Send one Authorization header, not several.")
            try:
                principal = await self.authenticator.authenticate(
                    header_value(headers, b"authorization"), route.audiences
                )
            except AuthFailed as failure:
                annotate_request({"frontdoor.auth.outcome": "rejected"})
                raise Refused(
                    401,
                    "A valid bearer token is required.",
                    [(b"www-authenticate", failure.challenge)],
                ) from None
            subject = principal.subject
            annotate_request({"frontdoor.auth.outcome": "accepted"})
        if route.rate_limit is not None:
            extra += await self._limit(route.rate_limit, subject, client)
        return extra

    def _cors_headers(self, scope: HTTPScope, route: Route) -> list[tuple[bytes, bytes]]:
        origin = header_value(scope["headers"], b"origin")
        if origin is None or route.cors is None:
            return []
        return route.cors.response_headers(origin.decode("latin-1"))

    async def _limit(
        self, policy: RatePolicy, subject: str | None, client: str
    ) -> list[tuple[bytes, bytes]]:
        if policy.key == "subject" and subject is not None:
            key = f"sub:{subject}"
        else:
            key = "addr:" + client
        decision = await self.limiter.decide(key, policy)
        if decision.degraded:
            outcome = "failed_open" if decision.allowed else "failed_closed"
        elif decision.local:
            outcome = "local_allowed" if decision.allowed else "local_limited"
        else:
            outcome = "allowed" if decision.allowed else "limited"
        self._metrics.rate_limit.labels(policy.name, outcome).inc()
        annotate_request(
            {
                "frontdoor.rate_limit.policy": policy.name,
                "frontdoor.rate_limit.decision": outcome,
                "frontdoor.rate_limit.remaining": decision.remaining,
            }
        )
        if decision.degraded and not decision.allowed:
            raise Refused(
                503,
                "Rate limiting is unavailable; try again shortly.",
                [(b"retry-after", str(max(1, decision.retry_after_s)).encode())],
            )
        headers = [] if decision.degraded else rate_limit_headers(policy, decision)
        if not decision.allowed:
            raise Refused(429, "Too many requests; slow down.", headers)
        return headers

    def _client(self, scope: HTTPScope) -> tuple[str, str]:
        peer = (scope.get("client") or ("0.0.0.0", 0))[0]  # noqa: S104 - only a label
        return self._client_addresses.resolve(
            peer, header_values(scope["headers"], b"x-forwarded-for")
        )

    async def _answer_preflight(self, scope: HTTPScope, route: Route, send: Send) -> None:
        headers = scope["headers"]
        origin = (header_value(headers, b"origin") or b"").decode("latin-1")
        method = (header_value(headers, b"access-control-request-method") or b"").decode("latin-1")
        asked = (header_value(headers, b"access-control-request-headers") or b"").decode("latin-1")
        allowed = route.cors.preflight(origin, method, asked) if route.cors and origin else None
        if allowed is None:
            raise Refused(403, "This cross-origin request is not allowed.", [(b"vary", b"Origin")])
        start: HTTPResponseStartEvent = {
            "type": "http.response.start",
            "status": 204,
            "headers": allowed,
        }
        await send(start)
        end: HTTPResponseBodyEvent = {"type": "http.response.body", "body": b"", "more_body": False}
        await send(end)

    async def _body(
        self, scope: HTTPScope, receive: Receive, route: Route
    ) -> bytes | AsyncIterator[bytes] | None:
        headers = scope["headers"]
        declared = header_value(headers, b"content-length")
        chunked = header_value(headers, b"transfer-encoding") is not None
        if declared is None and not chunked:
            return None
        # The server has already refused a malformed Content-Length.
        if declared is not None and int(declared) > route.max_body_bytes:
            raise Refused(413, "The request body is too large.")
        if declared is not None and int(declared) > SMALL_BODY:
            return self._stream_body(receive)
        # Small, or chunked: read it whole, so that a chunked body over the limit is
        # refused before the upstream hears of it. The route's limit bounds memory.
        chunks: list[bytes] = []
        size = 0
        async for chunk in self._stream_body(receive):
            size += len(chunk)
            if size > route.max_body_bytes:
                raise Refused(413, "The request body is too large.")
            chunks.append(chunk)
        return b"".join(chunks)

    async def _stream_body(self, receive: Receive) -> AsyncIterator[bytes]:
        while True:
            message = await receive()
            if message["type"] != "http.request":
                raise ClientGone
            if message["body"]:
                yield message["body"]
            if not message.get("more_body", False):
                return

    async def _forward(
        self,
        scope: HTTPScope,
        receive: Receive,
        send: Send,
        route: Route,
        extra: list[tuple[bytes, bytes]],
        started: float,
        forwarded_for: str,
    ) -> None:
        body = await self._body(scope, receive, route)
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
        query = scope.get("query_string", b"")
        target = route.upstream_path(raw_path) + (b"?" + query if query else b"")
        # encoded=True: the path and query reach the upstream byte for byte.
        url = URL(route.upstream + target.decode("latin-1"), encoded=True)
        remaining_s = route.timeout_s - (time.monotonic() - started)
        if remaining_s <= 0:
            # A slow upload spent the route's whole time; aiohttp would read a
            # timeout <= 0 as "none at all".
            self._metrics.upstream_errors.labels(route.name, "timeout").inc()
            raise Refused(504, "The request took longer than this route allows.", extra)
        outbound = self._headers.outbound(
            scope["headers"], forwarded_for=forwarded_for, request_id=current_request_id()
        )
        # Later hops learn how long the edge will wait, so they can give up in time.
        outbound.append((BUDGET_HEADER, str(max(1, int(remaining_s * 1000))).encode()))
        if isinstance(body, bytes):
            outbound.append((b"content-length", str(len(body)).encode()))
        elif body is not None:
            outbound.append(
                (b"content-length", header_value(scope["headers"], b"content-length") or b"0")
            )
        response_started = False
        span = None
        if self._call_spans is not None:
            span, trace_context = self._call_spans.start(scope["method"], url)
            outbound += trace_context
        try:
            async with self.session.request(
                scope["method"],
                url,
                headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, v in outbound],
                data=body,
                allow_redirects=False,
                # The route's time bounds the wait for the answer to start, and then
                # each pause in it; a long download that keeps flowing is not cut off.
                timeout=aiohttp.ClientTimeout(
                    total=None, sock_connect=min(remaining_s, 2.0), sock_read=remaining_s
                ),
            ) as upstream:
                if span is not None:
                    UpstreamCallSpans.answered(span, upstream.status)
                start: HTTPResponseStartEvent = {
                    "type": "http.response.start",
                    "status": upstream.status,
                    "headers": response_headers(upstream.raw_headers) + extra,
                }
                await send(start)
                response_started = True
                async for chunk in upstream.content.iter_chunked(BODY_CHUNK):
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
            if span is not None:
                UpstreamCallSpans.failed(span, exc)
            if response_started:
                # Half an answer cannot become a problem: cut the connection so the
                # client sees a truncated response, not a complete-looking one.
                raise
            kind = "timeout" if isinstance(exc, TimeoutError) else "unreachable"
            self._metrics.upstream_errors.labels(route.name, kind).inc()
            log.warning("route %s: upstream %s: %r", route.name, kind, exc)
            if kind == "timeout":
                raise Refused(504, "The upstream service did not answer in time.", extra) from None
            raise Refused(502, "The upstream service is unavailable.", extra) from None
        finally:
            if span is not None:
                span.end()

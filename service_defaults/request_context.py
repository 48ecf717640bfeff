"""The request id: accepted or minted per request, echoed, logged, and forwarded downstream."""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Sequence
from contextvars import ContextVar

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "x-request-id"
# A client-sent id is kept only when it is short and plain, so it cannot smuggle
# newlines into logs or grow headers without bound.
_WELL_FORMED_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")

_request_id: ContextVar[str] = ContextVar("request_id", default="")
# W3C trace context, passed on unchanged so a tracer can join the hops.
_traceparent: ContextVar[bytes | None] = ContextVar("traceparent", default=None)
access_log = logging.getLogger("frontdoor.access")


def current_request_id() -> str:
    """The id of the request being handled, or an empty string outside one."""
    return _request_id.get()


def current_traceparent() -> bytes | None:
    """The `traceparent` header of the request being handled, if it had one."""
    return _traceparent.get()


def accept_or_mint_request_id(headers: list[tuple[bytes, bytes]]) -> str:
    for name, value in headers:
        if name.lower() == b"x-request-id":
            if _WELL_FORMED_ID.fullmatch(value):
                return value.decode("ascii")
            break
    # 128 random bits, as a uuid4 has, without building a UUID object per request.
    return os.urandom(16).hex()


class RequestContextMiddleware:
    """Pure ASGI middleware: sets the request id, echoes it, writes one access-log line.

    The access line carries the start time and duration so that timings from
    different processes can be lined up by request id.
    """

    def __init__(self, app: ASGIApp, response_headers: Sequence[tuple[bytes, bytes]] = ()) -> None:
        self.app = app
        # Added to every response (the edge's HSTS), here rather than in one more
        # wrapper around `send`: each wrapper costs on every message.
        self._extra = list(response_headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        request_id = accept_or_mint_request_id(list(scope["headers"]))
        token = _request_id.set(request_id)
        trace = _traceparent.set(
            next((v for k, v in scope["headers"] if k.lower() == b"traceparent"), None)
        )
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.time()
        status = 0

        async def send_with_request_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"x-request-id"]
                headers.append((b"x-request-id", request_id.encode("ascii")))
                headers += self._extra
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_request_id)
        finally:
            access_log.info(
                "%s %s %d rid=%s start=%.6f duration_ms=%.1f",
                scope["method"],
                # As sent, still percent-encoded: the decoded path could hold a
                # newline and forge a log line.
                (scope.get("raw_path") or b"?").decode("ascii", "backslashreplace"),
                status,
                request_id,
                started,
                (time.time() - started) * 1000,
            )
            _request_id.reset(token)
            _traceparent.reset(trace)

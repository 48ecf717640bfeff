"""The caller's bearer token, taken from the request and forwarded on every call to a service.

A BFF does not verify the token: the services it calls do, each for itself. It
only refuses, before calling anything, a request that carries no bearer token.
"""

from __future__ import annotations

from collections.abc import Generator
from contextvars import ContextVar
from typing import Any

import httpx
from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.types import ASGIApp, Receive, Scope, Send

from service_defaults.bearer import bearer_token, missing_bearer

_authorization: ContextVar[str | None] = ContextVar("authorization", default=None)


class CallerBearerMiddleware:
    """Keeps the request's `Authorization` header in the request context for `ForwardBearer`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        value = next((v for k, v in scope.get("headers", []) if k == b"authorization"), None)
        token = _authorization.set(value.decode("latin-1") if value is not None else None)
        try:
            await self.app(scope, receive, send)
        finally:
            _authorization.reset(token)


async def require_bearer(_: ASGIConnection[Any, Any, Any, Any], __: BaseRouteHandler) -> None:
    """A litestar guard: 401 before any call when the request has no bearer token."""
    # A coroutine, though it never awaits: litestar runs a plain function guard in a
    # worker thread, and that hop was a tenth of a millisecond on every screen.
    if bearer_token(_authorization.get()) is None:
        raise missing_bearer()


class ForwardBearer(httpx.Auth):
    """httpx's auth seam: each outbound request carries the caller's own `Authorization`."""

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        authorization = _authorization.get()
        if authorization is not None:
            request.headers["authorization"] = authorization
        yield request

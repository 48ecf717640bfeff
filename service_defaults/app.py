"""`create_service_app`: the Litestar app with what every process needs already wired in."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from litestar import Litestar
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.types import (
    ASGIApp,
    ControllerRouterHandler,
    Middleware,
)

from service_defaults.health import ReadinessCheck, ReadinessInfo, create_health_handlers
from service_defaults.problems import PROBLEM_HANDLERS
from service_defaults.request_context import RequestContextMiddleware

Lifespan = Callable[[Litestar], AbstractAsyncContextManager[None]]
MAX_BODY_BYTES = 1024 * 1024


def create_service_app(
    *,
    title: str,
    route_handlers: Sequence[ControllerRouterHandler],
    lifespan: Sequence[Lifespan] = (),
    readiness: Mapping[str, ReadinessCheck] | None = None,
    readiness_info: ReadinessInfo | None = None,
    middleware: Sequence[Middleware] = (),
    dependencies: Mapping[str, Provide] | None = None,
    state: Mapping[str, Any] | None = None,
    in_front: Callable[[ASGIApp], ASGIApp] | None = None,
    response_headers: Sequence[tuple[bytes, bytes]] = (),
) -> Litestar:
    """`in_front` wraps Litestar's own handler, inside the request-id middleware: the
    edge uses it to send proxied requests past Litestar's router."""
    app = Litestar(
        route_handlers=[
            *route_handlers,
            *create_health_handlers(readiness or {}, readiness_info),
        ],
        middleware=list(middleware),
        lifespan=list(lifespan),
        exception_handlers=PROBLEM_HANDLERS,
        dependencies=dict(dependencies or {}),
        state=State(dict(state or {})),
        openapi_config=OpenAPIConfig(title=title, version="1"),
        request_max_body_size=MAX_BODY_BYTES,
        # Logging is configured once by `serve`; litestar's own config would add a second handler.
        logging_config=None,
    )
    # Outermost, not in `middleware=`: litestar runs route middleware only for
    # matched routes, and a 404 or 405 needs its request id and access line too.
    handler = in_front(app.asgi_handler) if in_front else app.asgi_handler
    app.asgi_handler = RequestContextMiddleware(handler, response_headers)
    return app

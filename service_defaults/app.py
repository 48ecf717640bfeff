"""`create_service_app`: the Litestar app with what every process needs already wired in."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from litestar import Litestar, Request, Router
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.types import ASGIApp, ControllerRouterHandler, Middleware
from prometheus_client import CollectorRegistry

from service_defaults.deadlines import DeadlineMiddleware
from service_defaults.health import ReadinessCheck, ReadinessInfo, create_health_handlers
from service_defaults.metrics import (
    LOOPBACK_NETWORKS,
    HttpMetrics,
    create_metrics_handler,
    create_registry,
)
from service_defaults.openapi import AllowEveryMethod, create_openapi_config
from service_defaults.problems import PROBLEM_HANDLERS
from service_defaults.request_context import RequestContextMiddleware
from service_defaults.resources import Resources
from service_defaults.server_spans import instrument_server
from service_defaults.telemetry import DISABLED, Telemetry

MAX_BODY_BYTES = 1024 * 1024


@dataclass(frozen=True, kw_only=True)
class DeadlinePolicy:
    """How an app treats `X-Request-Budget-Ms` (see `service_defaults.deadlines`)."""

    max_budget_s: float
    cut_off: bool


# The services, the last hop: they stop work that could no longer be delivered.
# Ten seconds is the most any caller may ask one of them to keep working.
SERVICE_DEADLINE = DeadlinePolicy(max_budget_s=10.0, cut_off=True)


def create_service_app(
    *,
    title: str,
    route_handlers: Sequence[ControllerRouterHandler],
    resources: Resources[Any] | None = None,
    readiness: Mapping[str, ReadinessCheck] | None = None,
    readiness_info: ReadinessInfo | None = None,
    middleware: Sequence[Middleware] = (),
    dependencies: Mapping[str, Provide] | None = None,
    deadline: DeadlinePolicy | None = None,
    dev_response_delay_ms: int = 0,
    response_headers: Sequence[tuple[bytes, bytes]] = (),
    openapi_config: OpenAPIConfig | None = None,
    registry: CollectorRegistry | None = None,
    http_metrics: HttpMetrics | None = None,
    metrics_allowed_from: Sequence[str] = LOOPBACK_NETWORKS,
    telemetry: Telemetry = DISABLED,
    server_spans: Callable[[ASGIApp], ASGIApp] | None = None,
) -> Litestar:
    """`resources` are opened by the app's one lifespan and closed when it stops.

    `dev_response_delay_ms` slows the API routes, never `/livez` and `/readyz` (the
    settings refuse it outside dev mode). `registry` (a new one by default) gets
    every request's RED metrics (through `http_metrics` when the app also records
    requests that never reach Litestar, as the edge's proxy does) and is served on
    `/metrics` to `metrics_allowed_from` (loopback by default). `telemetry` gives
    every request a server span (see `service_defaults.server_spans`), or
    `server_spans` wraps the handler instead (the edge: none for its own endpoints).
    """
    api: list[ControllerRouterHandler] = list(route_handlers)
    if dev_response_delay_ms:
        api = [Router("/", route_handlers=api, before_request=_delay(dev_response_delay_ms))]
    registry = registry if registry is not None else create_registry()
    app = Litestar(
        route_handlers=[
            *api,
            *create_health_handlers(readiness or {}, readiness_info),
            create_metrics_handler(registry, allowed_from=metrics_allowed_from),
        ],
        middleware=list(middleware),
        lifespan=[resources.lifespan] if resources is not None else [],
        exception_handlers=PROBLEM_HANDLERS,
        dependencies=dict(dependencies or {}),
        openapi_config=openapi_config or create_openapi_config(title),
        plugins=[AllowEveryMethod()],
        request_max_body_size=MAX_BODY_BYTES,
        # Logging is configured once by `serve`; litestar's own config would add a second handler.
        logging_config=None,
        on_shutdown=[_flush(telemetry)],
    )
    handler: ASGIApp = app.asgi_handler
    if deadline is not None:
        handler = DeadlineMiddleware(
            handler, max_budget_s=deadline.max_budget_s, cut_off=deadline.cut_off
        )
    # Outermost, not in `middleware=`: litestar runs route middleware only for
    # matched routes, and a 404 or 405 needs its request id and access line too.
    handler = RequestContextMiddleware(
        handler, response_headers, metrics=http_metrics or HttpMetrics(registry)
    )
    # Around the request context, so that its log lines carry the trace id.
    app.asgi_handler = (
        server_spans(handler) if server_spans else instrument_server(handler, telemetry)
    )
    return app


def _flush(telemetry: Telemetry) -> Callable[[], Awaitable[None]]:
    async def flush() -> None:
        # Off the loop: the exporter's last send blocks for up to a couple of seconds.
        await asyncio.to_thread(telemetry.shutdown)

    return flush


def _delay(delay_ms: int) -> Callable[[Request[Any, Any, Any]], Any]:
    async def delay(_: Request[Any, Any, Any]) -> None:
        await asyncio.sleep(delay_ms / 1000)

    return delay

"""`create_app` for the edge: health and metrics in Litestar, every other path through the proxy."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import NamedTuple

from litestar import Litestar
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from edge.auth import Authenticator
from edge.client_address import ClientAddressResolver
from edge.dev_timeline import (
    DEV_TIMELINE_PATH,
    create_dev_timeline_routes,
    is_dev_timeline_path,
)
from edge.headers import HeaderPolicy
from edge.metrics import EdgeMetrics
from edge.proxy import Proxy, open_upstream_session
from edge.rate_limits import MemoryLimiter, RateLimiter, RedisLimiter
from edge.route_file import load_route_table
from edge.routes import OWN_PATHS, create_edge_routes
from edge.routing import RouteTable
from edge.settings import Settings, load_settings
from edge.trace_store_client import TraceStoreClient, open_trace_store
from edge.tracing import EdgeServerSpans, UpstreamCallSpans
from service_defaults.app import create_service_app
from service_defaults.http_clients import create_http_client
from service_defaults.resources import Resources
from service_defaults.settings import ConfigError
from service_defaults.telemetry import Telemetry, create_telemetry
from service_defaults.tokens import JwksKeySource, TokenVerifier

log = logging.getLogger("frontdoor.edge")
JWKS_TIMEOUT_S = 2.0


class Opened(NamedTuple):
    """What the lifespan opens: the proxy with its upstream pool, limiter and keys."""

    proxy: Proxy
    keys: JwksKeySource
    trace_store: TraceStoreClient | None = None


def _verifier(keys: JwksKeySource, table: RouteTable, settings: Settings) -> TokenVerifier:
    return TokenVerifier(
        keys,
        issuer=settings.token_issuer,
        # Any audience some route accepts; each route then checks its own.
        audience=sorted({aud for route in table.routes for aud in route.audiences}),
        algorithms=tuple(settings.token_algorithms),
        leeway_s=settings.token_leeway_s,
    )


def _limiter(settings: Settings, telemetry: Telemetry) -> RateLimiter:
    if not settings.rate_limit_redis_url:
        return MemoryLimiter()
    return RedisLimiter(
        settings.rate_limit_redis_url,
        timeout_s=settings.rate_limit_redis_timeout_s,
        on_failure=settings.rate_limit_on_redis_failure,
        telemetry=telemetry,
    )


def _response_headers(settings: Settings) -> list[tuple[bytes, bytes]]:
    headers = [(b"x-content-type-options", b"nosniff")]
    if settings.dev_trace_store_url:
        # Tells the web client it may link a request id to its timeline (dev only).
        headers.append((b"x-dev-timeline", DEV_TIMELINE_PATH.encode()))
    if settings.hsts_max_age_s:
        headers.append(
            (b"strict-transport-security", f"max-age={settings.hsts_max_age_s}".encode())
        )
    return headers


def _load_routes(settings: Settings) -> RouteTable:
    try:
        return load_route_table(Path(settings.routes_file), settings.upstreams)
    except ConfigError as exc:
        raise ConfigError(f"EDGE_ROUTES_FILE: {exc}") from None


@asynccontextmanager
async def open_resources(
    settings: Settings, table: RouteTable, metrics: EdgeMetrics, telemetry: Telemetry
) -> AsyncIterator[Opened]:
    limiter = _limiter(settings, telemetry)
    try:
        async with (
            create_http_client(
                settings.jwks_url, timeout_s=JWKS_TIMEOUT_S, telemetry=telemetry
            ) as jwks_client,
            open_upstream_session() as session,
        ):
            keys = JwksKeySource(
                jwks_client,
                settings.jwks_url,
                ttl_s=settings.jwks_cache_ttl_s,
                refetch_floor_s=settings.jwks_refetch_floor_s,
                on_fetch=metrics.jwks_fetches,
            )
            proxy = Proxy(
                table,
                Authenticator(_verifier(keys, table, settings)),
                limiter,
                session=session,
                # Fault injection is for a dev stack; a production edge never lets it through.
                headers=HeaderPolicy(
                    settings.stripped_headers
                    + ([] if settings.environment == "dev" else ["x-fault"])
                ),
                client_addresses=ClientAddressResolver(settings.trusted_proxies),
                metrics=metrics,
                max_header_bytes=settings.max_header_bytes,
                max_header_fields=settings.max_header_fields,
                call_spans=UpstreamCallSpans(telemetry) if telemetry.enabled else None,
            )
            reloads = settings.environment == "dev"
            if reloads:
                asyncio.get_running_loop().add_signal_handler(
                    signal.SIGHUP, _reload_routes, proxy, keys, settings
                )
            try:
                async with AsyncExitStack() as dev:
                    trace_store = (
                        await dev.enter_async_context(
                            open_trace_store(settings.dev_trace_store_url)
                        )
                        if settings.dev_trace_store_url
                        else None
                    )
                    yield Opened(proxy=proxy, keys=keys, trace_store=trace_store)
            finally:
                if reloads:
                    asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
    finally:
        await limiter.close()


def _reload_routes(proxy: Proxy, keys: JwksKeySource, settings: Settings) -> None:
    """Swap in the route file as it is now; on any error keep the table in use."""
    try:
        table = _load_routes(settings)
    except ConfigError as exc:
        log.error("route file not reloaded, keeping the previous table: %s", exc)
        return
    proxy.authenticator = Authenticator(_verifier(keys, table, settings))
    proxy.routes = table
    log.info("route file reloaded: %d routes", len(table.routes))


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or load_settings(os.environ)
    for name in ("tls_certfile", "tls_keyfile"):
        if not Path(getattr(settings, name)).is_file():
            raise ConfigError(f"EDGE_{name.upper()}: {getattr(settings, name)} is not a file")
    table = _load_routes(settings)  # a file read, not a resource: a bad file stops start-up here
    metrics = EdgeMetrics()
    telemetry = create_telemetry("edge")
    resources = Resources(lambda: open_resources(settings, table, metrics, telemetry))
    client_addresses = ClientAddressResolver(settings.trusted_proxies)

    def trusts_trace_of(scope: Scope) -> bool:
        # Only a proxy in front of the edge may continue its trace; a client's
        # traceparent would let it join (or flood) any trace it likes.
        peer = scope.get("client")
        return peer is not None and client_addresses.is_trusted(peer[0])

    async def routes_loaded() -> bool:
        return resources.started and bool(resources.get().proxy.routes.routes)

    async def jwks_known() -> bool:
        return resources.started and await resources.get().keys.ensure_loaded()

    return create_service_app(
        title="Frontdoor edge",
        route_handlers=[
            *create_edge_routes(),
            *(
                [create_dev_timeline_routes(resources.provide(lambda o: o.trace_store))]
                if settings.dev_trace_store_url
                else []
            ),
        ],
        registry=metrics.registry,
        metrics_allowed_from=settings.metrics_allowed_from,
        resources=resources,
        readiness={"routes": routes_loaded, "jwks": jwks_known},
        in_front=lambda litestar: _dispatch(
            resources, litestar=litestar, timeline=bool(settings.dev_trace_store_url)
        ),
        response_headers=_response_headers(settings),
        telemetry=telemetry,
        server_spans=(
            (
                lambda handler: EdgeServerSpans(
                    handler,
                    telemetry.tracer("frontdoor.edge"),
                    untraced=OWN_PATHS,
                    trusts_trace_of=trusts_trace_of,
                )
            )
            if telemetry.enabled
            else lambda handler: handler
        ),
    )


def _dispatch(resources: Resources[Opened], *, litestar: ASGIApp, timeline: bool) -> ASGIApp:
    """The edge's own endpoints go to Litestar; every other request straight to the proxy.

    The proxy does its own routing, so Litestar's router, exception middleware and
    scope copy would be work done twice on the hot path. The proxy answers every
    refusal, and turns its own bugs into a 500 problem, itself.
    """

    async def dispatch(scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != ScopeType.HTTP
            or scope["path"] in OWN_PATHS
            or (timeline and is_dev_timeline_path(scope["path"]))
        ):
            await litestar(scope, receive, send)
        else:
            await resources.get().proxy(scope, receive, send)

    return dispatch

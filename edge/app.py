"""`create_app` for the edge: health and metrics in Litestar, every other path through the proxy.

The proxy is not an ASGI app: the edge's protocol (`edge.http_protocol`) hands it
every request for a path Litestar does not own, through the `ProxiedRequests` that
`python -m edge` gives both the protocol and `create_app`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import NamedTuple

from litestar import Litestar

from edge.admission import Admission
from edge.auth import Authenticator
from edge.client_address import ClientAddressResolver
from edge.dev_timeline import (
    DEV_TIMELINE_PATH,
    create_dev_timeline_routes,
    is_dev_timeline_path,
)
from edge.edge_config import EdgeConfig
from edge.forwarding import Forwarder
from edge.headers import HeaderPolicy
from edge.http_protocol import ProxiedRequests
from edge.metrics import EdgeMetrics
from edge.proxy import Proxy
from edge.rate_limits import MemoryLimiter, RateLimiter, RedisLimiter
from edge.route_file import load_route_table
from edge.routes import OWN_PATHS, create_edge_routes
from edge.routing import RouteTable
from edge.rules.rate_limit import RateLimitRule
from edge.settings import Settings, load_settings
from edge.trace_store_client import TraceStoreClient, open_trace_store
from edge.tracing import EdgeServerSpans, UpstreamCallSpans
from edge.upstream_client import UpstreamClient
from service_defaults.app import create_service_app
from service_defaults.http_clients import create_http_client
from service_defaults.metrics import HttpMetrics
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
    settings: Settings,
    table: RouteTable,
    metrics: EdgeMetrics,
    http_metrics: HttpMetrics,
    telemetry: Telemetry,
    proxied: ProxiedRequests,
    is_own_path: Callable[[str], bool],
) -> AsyncIterator[Opened]:
    limiter = _limiter(settings, telemetry)
    upstreams = UpstreamClient()
    try:
        async with create_http_client(
            settings.jwks_url, timeout_s=JWKS_TIMEOUT_S, telemetry=telemetry
        ) as jwks_client:
            keys = JwksKeySource(
                jwks_client,
                settings.jwks_url,
                ttl_s=settings.jwks_cache_ttl_s,
                refetch_floor_s=settings.jwks_refetch_floor_s,
                on_fetch=metrics.jwks_fetches,
            )
            client_addresses = ClientAddressResolver(settings.trusted_proxies)
            proxy = Proxy(
                EdgeConfig(table, Authenticator(_verifier(keys, table, settings))),
                Admission(
                    RateLimitRule(limiter, metrics),
                    max_header_fields=settings.max_header_fields,
                    max_header_bytes=settings.max_header_bytes,
                ),
                Forwarder(
                    upstreams,
                    # Fault injection is for a dev stack; a production edge never lets it through.
                    HeaderPolicy(
                        settings.stripped_headers
                        + ([] if settings.environment == "dev" else ["x-fault"])
                    ),
                    metrics,
                    UpstreamCallSpans(telemetry) if telemetry.enabled else None,
                ),
                client_addresses=client_addresses,
                http_metrics=http_metrics,
                response_headers=_response_headers(settings),
                server_spans=(
                    EdgeServerSpans(
                        telemetry.tracer("frontdoor.edge"),
                        # Only a proxy in front of the edge may continue its trace; a
                        # client's traceparent would let it join (or flood) any trace.
                        trusts_trace_of=client_addresses.is_trusted,
                    )
                    if telemetry.enabled
                    else None
                ),
            )
            reloads = settings.environment == "dev"
            if reloads:
                asyncio.get_running_loop().add_signal_handler(
                    signal.SIGHUP, reload_routes, proxy, keys, settings
                )
            proxied.open(proxy, is_own_path)
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
                proxied.close()
                if reloads:
                    asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
    finally:
        await upstreams.close()
        await limiter.close()


def reload_routes(proxy: Proxy, keys: JwksKeySource, settings: Settings) -> None:
    """Swap in the route file as it is now; on any error keep the configuration in use."""
    try:
        table = _load_routes(settings)
    except ConfigError as exc:
        log.error("route file not reloaded, keeping the previous table: %s", exc)
        return
    # One assignment: a request sees the old table and verifier, or the new ones.
    proxy.config = EdgeConfig(table, Authenticator(_verifier(keys, table, settings)))
    log.info("route file reloaded: %d routes", len(table.routes))


def create_app(
    settings: Settings | None = None, *, proxied: ProxiedRequests | None = None
) -> Litestar:
    """The edge's app; `proxied`, shared with the edge's protocol, gets the proxy once open.

    Without `proxied` (an app served by another server, or in-process), only
    Litestar's own endpoints answer.
    """
    settings = settings or load_settings(os.environ)
    for name in ("tls_certfile", "tls_keyfile"):
        if not Path(getattr(settings, name)).is_file():
            raise ConfigError(f"EDGE_{name.upper()}: {getattr(settings, name)} is not a file")
    table = _load_routes(settings)  # a file read, not a resource: a bad file stops start-up here
    metrics = EdgeMetrics()
    http_metrics = HttpMetrics(metrics.registry)
    telemetry = create_telemetry("edge")
    timeline = bool(settings.dev_trace_store_url)
    proxied = proxied or ProxiedRequests()

    def is_own_path(path: str) -> bool:
        return path in OWN_PATHS or (timeline and is_dev_timeline_path(path))

    resources = Resources(
        lambda: open_resources(
            settings, table, metrics, http_metrics, telemetry, proxied, is_own_path
        )
    )

    async def routes_loaded() -> bool:
        return resources.started and bool(resources.get().proxy.config.routes.routes)

    async def jwks_known() -> bool:
        return resources.started and await resources.get().keys.ensure_loaded()

    return create_service_app(
        title="Frontdoor edge",
        route_handlers=[
            *create_edge_routes(),
            *(
                [create_dev_timeline_routes(resources.provide(lambda o: o.trace_store))]
                if timeline
                else []
            ),
        ],
        registry=metrics.registry,
        http_metrics=http_metrics,
        metrics_allowed_from=settings.metrics_allowed_from,
        resources=resources,
        readiness={"routes": routes_loaded, "jwks": jwks_known},
        response_headers=_response_headers(settings),
        telemetry=telemetry,
        # The edge's own endpoints are probes, scrapes and dev pages: no span for them.
        server_spans=lambda handler: handler,
    )

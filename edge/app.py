"""`create_app` for the edge: health and metrics in Litestar, every other path through the proxy."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import os
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from litestar import Litestar, Request, Response, get
from litestar.datastructures import State
from litestar.enums import ScopeType
from litestar.exceptions import NotFoundException
from litestar.types import ASGIApp, Receive, Scope, Send

from edge.auth import Authenticator
from edge.client_address import ClientAddressResolver
from edge.headers import HeaderPolicy
from edge.metrics import EdgeMetrics
from edge.proxy import Proxy
from edge.rate_limits import MemoryLimiter, RateLimiter, RedisLimiter
from edge.route_file import load_route_table
from edge.routing import RouteTable
from edge.settings import Settings, load_settings
from service_defaults.app import create_service_app
from service_defaults.http_clients import create_http_client
from service_defaults.settings import ConfigError
from service_defaults.tokens import JwksKeySource, TokenVerifier

log = logging.getLogger("frontdoor.edge")
OWN_PATHS = frozenset({"/livez", "/readyz", "/metrics"})


def _verifier(keys: JwksKeySource, table: RouteTable, settings: Settings) -> TokenVerifier:
    return TokenVerifier(
        keys,
        issuer=settings.token_issuer,
        # Any audience some route accepts; each route then checks its own.
        audience=sorted({aud for route in table.routes for aud in route.audiences}),
        algorithms=tuple(settings.token_algorithms),
        leeway_s=settings.token_leeway_s,
    )


def _limiter(settings: Settings) -> RateLimiter:
    if not settings.rate_limit_redis_url:
        return MemoryLimiter()
    return RedisLimiter(
        settings.rate_limit_redis_url,
        timeout_s=settings.rate_limit_redis_timeout_s,
        on_failure=settings.rate_limit_on_redis_failure,
    )


def _security_headers(settings: Settings) -> list[tuple[bytes, bytes]]:
    headers = [(b"x-content-type-options", b"nosniff")]
    if settings.hsts_max_age_s:
        headers.append(
            (b"strict-transport-security", f"max-age={settings.hsts_max_age_s}".encode())
        )
    return headers


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or load_settings(os.environ)
    for name in ("tls_certfile", "tls_keyfile"):
        if not Path(getattr(settings, name)).is_file():
            raise ConfigError(f"EDGE_{name.upper()}: {getattr(settings, name)} is not a file")
    routes_file = Path(settings.routes_file)
    try:
        table = load_route_table(routes_file, settings.upstreams)
    except ConfigError as exc:
        raise ConfigError(f"EDGE_ROUTES_FILE: {exc}") from None
    jwks_client = create_http_client(settings.jwks_url, timeout_s=2.0)
    keys = JwksKeySource(jwks_client, settings.jwks_url)
    metrics = EdgeMetrics()
    limiter = _limiter(settings)
    proxy = Proxy(
        table,
        Authenticator(_verifier(keys, table, settings)),
        limiter,
        # Fault injection is for a dev stack; a production edge never lets it through.
        headers=HeaderPolicy(
            settings.stripped_headers + ([] if settings.environment == "dev" else ["x-fault"])
        ),
        client_addresses=ClientAddressResolver(settings.trusted_proxies),
        metrics=metrics,
        max_header_bytes=settings.max_header_bytes,
    )

    def reload_routes() -> None:
        """Swap in the route file as it is now; on any error keep the table in use."""
        try:
            new_table = load_route_table(routes_file, settings.upstreams)
        except ConfigError as exc:
            log.error("route file not reloaded, keeping the previous table: %s", exc)
            return
        proxy.authenticator = Authenticator(_verifier(keys, new_table, settings))
        proxy.routes = new_table
        log.info("route file reloaded: %d routes", len(new_table.routes))

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        session = proxy.open()
        if settings.environment == "dev":
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, reload_routes)
        try:
            yield
        finally:
            await session.close()
            await jwks_client.aclose()
            await limiter.close()

    networks = [ipaddress.ip_network(n, strict=False) for n in settings.metrics_allowed_from]

    @get("/metrics", include_in_schema=False, sync_to_thread=False)
    def prometheus(request: Request[Any, Any, Any]) -> Response[bytes]:
        peer = ipaddress.ip_address(request.client.host if request.client else "0.0.0.0")  # noqa: S104
        if not any(peer in network for network in networks):
            raise NotFoundException("Not Found")
        return Response(metrics.render(), media_type="text/plain; version=0.0.4")

    async def routes_loaded(_: State) -> bool:
        return bool(proxy.routes.routes)

    async def jwks_known(_: State) -> bool:
        return await keys.ensure_loaded()

    app = create_service_app(
        title="Frontdoor edge",
        route_handlers=[prometheus],
        lifespan=[lifespan],
        readiness={"routes": routes_loaded, "jwks": jwks_known},
        in_front=lambda litestar: _dispatch(proxy, litestar=litestar),
        response_headers=_security_headers(settings),
    )
    return app


def _dispatch(proxy: Proxy, *, litestar: ASGIApp) -> ASGIApp:
    """The edge's own endpoints go to Litestar; every other request straight to the proxy.

    The proxy does its own routing, so Litestar's router, exception middleware and
    scope copy would be work done twice on the hot path. The proxy answers every
    refusal, and turns its own bugs into a 500 problem, itself.
    """

    async def dispatch(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["path"] in OWN_PATHS:
            await litestar(scope, receive, send)
        else:
            await proxy(scope, receive, send)

    return dispatch

"""`create_app` for the edge: health endpoints in Litestar, every other path through the proxy."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from litestar import Litestar, asgi
from litestar.datastructures import State
from litestar.enums import ScopeType
from litestar.types import Receive, Scope, Send

from edge.proxy import Proxy
from edge.routing import Route, RouteTable
from edge.settings import Settings, load_settings
from service_defaults.app import create_service_app
from service_defaults.http_clients import create_http_client
from service_defaults.settings import ConfigError
from service_defaults.tokens import JwksKeySource, TokenVerifier


def route_table(settings: Settings) -> RouteTable:
    return RouteTable(
        [
            Route("/auth", settings.users_url, auth_required=False),
            Route("/api/web", settings.bff_web_url, auth_required=True),
            Route("/api/mobile", settings.bff_mobile_url, auth_required=True),
        ]
    )


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or load_settings(os.environ)
    for name in ("tls_certfile", "tls_keyfile"):
        if not Path(getattr(settings, name)).is_file():
            raise ConfigError(f"EDGE_{name.upper()}: {getattr(settings, name)} is not a file")
    jwks_client = create_http_client(settings.jwks_url, timeout_s=2.0)
    keys = JwksKeySource(jwks_client, settings.jwks_url)
    verifier = TokenVerifier(keys, issuer=settings.token_issuer, audience=settings.token_audience)
    proxy = Proxy(
        route_table(settings),
        verifier,
        timeout_s=settings.upstream_timeout_s,
        max_body_bytes=settings.max_body_bytes,
    )

    @asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        session = proxy.open()
        try:
            yield
        finally:
            await session.close()
            await jwks_client.aclose()

    # Every path but the health endpoints; the proxy answers 404 itself for paths
    # no route claims, without calling any upstream.
    @asgi("/", is_mount=True, copy_scope=False)
    async def forward(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP:
            await proxy(scope, receive, send)

    async def jwks_known(_: State) -> bool:
        return await keys.ensure_loaded()

    return create_service_app(
        title="Frontdoor edge",
        route_handlers=[forward],
        lifespan=[lifespan],
        readiness={"jwks": jwks_known},
    )

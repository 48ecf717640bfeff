"""`create_app`: the orders service with its database, token verification and routes wired in."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from litestar import Litestar
from litestar.datastructures import State
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from service_defaults.app import create_service_app
from service_defaults.database import create_engine
from service_defaults.http_clients import create_http_client
from service_defaults.settings import ConfigError
from service_defaults.tokens import JwksKeySource, TokenVerifier
from services.orders.routes import create_orders_router
from services.orders.settings import Settings, load_settings
from services.orders.store import OrderStore

JWKS_TIMEOUT_S = 2.0


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or load_settings(os.environ)
    return create_service_app(
        title="Frontdoor orders",
        route_handlers=[create_orders_router(response_delay_ms=settings.dev_response_delay_ms)],
        lifespan=[open_resources(settings, open_engine(settings.database_url))],
        # Only the database: signing keys load on the first request, so a slow
        # issuer does not hold back a service that can answer without it.
        readiness={"database": database_answers},
    )


def open_engine(database_url: str) -> AsyncEngine:
    """Fail at startup, naming the variable, when the URL cannot work at all."""
    try:
        return create_engine(database_url)
    except (ConfigError, ArgumentError) as exc:
        raise ConfigError(f"ORDERS_DATABASE_URL: {exc}") from None


def open_resources(
    settings: Settings, engine: AsyncEngine
) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        store = OrderStore(engine)
        jwks_client = create_http_client("", timeout_s=JWKS_TIMEOUT_S, max_connections=4)
        try:
            await open_database(store)
            if settings.seed_demo_data:
                await store.seed_demo_data()
            app.state.order_store = store
            app.state.token_verifier = TokenVerifier(
                JwksKeySource(jwks_client, settings.jwks_url),
                issuer=settings.token_issuer,
                audience=settings.token_audience,
            )
            yield
        finally:
            await jwks_client.aclose()
            await engine.dispose()

    return lifespan


async def open_database(store: OrderStore) -> None:
    """Create the tables, or stop startup with a message naming the variable."""
    try:
        await store.create_tables()
    except SQLAlchemyError as exc:
        # The driver's reason, never the URL: a PostgreSQL URL may hold a password.
        reason = getattr(exc, "orig", None) or exc
        raise ConfigError(f"ORDERS_DATABASE_URL: cannot open the database: {reason}") from None


async def database_answers(state: State) -> bool:
    store: OrderStore | None = state.get("order_store")
    return store is not None and await store.ping()

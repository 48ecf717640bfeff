"""`create_app` for the orders service: its database, token verification and routes wired in."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import NamedTuple

from litestar import Litestar
from litestar.di import Provide

from service_defaults.app import SERVICE_DEADLINE, create_service_app
from service_defaults.bearer import provide_principal
from service_defaults.database import Database, open_database, refusals_name
from service_defaults.health import ping_check
from service_defaults.http_clients import create_http_client
from service_defaults.metrics import JwksFetches, create_registry
from service_defaults.resources import Resources
from service_defaults.telemetry import Telemetry, create_telemetry
from service_defaults.tokens import JwksKeySource, TokenVerifier
from services.orders.routes import create_orders_router
from services.orders.settings import Settings, load_settings
from services.orders.store import OrderStore
from services.orders.tables import MIGRATIONS

JWKS_TIMEOUT_S = 2.0


class Opened(NamedTuple):
    """What the lifespan opens and the handlers use."""

    database: Database
    store: OrderStore
    verifier: TokenVerifier


@asynccontextmanager
async def open_resources(
    settings: Settings, jwks_fetches: JwksFetches, telemetry: Telemetry
) -> AsyncIterator[Opened]:
    async with (
        open_database(
            settings.database_url, setting="ORDERS_DATABASE_URL", telemetry=telemetry
        ) as database,
        create_http_client(
            "", timeout_s=JWKS_TIMEOUT_S, max_connections=4, telemetry=telemetry
        ) as jwks_client,
    ):
        store = OrderStore(database)
        async with refusals_name("ORDERS_DATABASE_URL"):
            # Migrating is a separate step (`python -m services.orders migrate`), run once
            # before the replicas start; each only checks the schema is not behind.
            await database.run(MIGRATIONS.require_current)
            if settings.seed_demo_data:
                await store.seed_demo_data()
        # Signing keys load on the first request, so a slow issuer does not hold
        # back a service that can answer without it.
        verifier = TokenVerifier(
            JwksKeySource(jwks_client, settings.jwks_url, on_fetch=jwks_fetches),
            issuer=settings.token_issuer,
            audience=settings.token_audience,
        )
        yield Opened(database=database, store=store, verifier=verifier)


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or load_settings(os.environ)
    registry = create_registry()
    jwks_fetches = JwksFetches(registry)
    telemetry = create_telemetry("orders")
    resources = Resources(lambda: open_resources(settings, jwks_fetches, telemetry))
    return create_service_app(
        title="Frontdoor orders",
        route_handlers=[create_orders_router()],
        resources=resources,
        dependencies={
            "store": resources.provide(lambda r: r.store),
            "token_verifier": resources.provide(lambda r: r.verifier),
            "principal": Provide(provide_principal),
        },
        # Only the database: the issuer's keys are not needed to be ready.
        readiness={"database": ping_check(resources, lambda r: r.database)},
        deadline=SERVICE_DEADLINE,
        dev_response_delay_ms=settings.dev_response_delay_ms,
        telemetry=telemetry,
        registry=registry,
        metrics_allowed_from=settings.metrics_allowed_from,
    )

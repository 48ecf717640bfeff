"""`create_app` for the mobile BFF."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.di import Provide

from bff_mobile.clients import OrdersClient, UsersClient
from bff_mobile.routes import home
from bff_mobile.settings import Settings, load_settings
from service_defaults.app import create_service_app
from service_defaults.bearer import provide_authorization
from service_defaults.http_clients import create_http_client


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or load_settings(os.environ)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        # One pooled client per upstream for the life of the process.
        users = create_http_client(settings.users_url, timeout_s=settings.upstream_timeout_s)
        orders = create_http_client(settings.orders_url, timeout_s=settings.upstream_timeout_s)
        app.state.users = UsersClient(users)
        app.state.orders = OrdersClient(orders)
        try:
            yield
        finally:
            await users.aclose()
            await orders.aclose()

    return create_service_app(
        title="Frontdoor mobile BFF",
        route_handlers=[home],
        lifespan=[lifespan],
        # No readiness checks on the services: a BFF taken out of rotation because a
        # service is down would turn one degraded section into a dead page.
        dependencies={"authorization": Provide(provide_authorization)},
    )

"""`create_app` for the mobile BFF."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from litestar import Litestar

from bff_kit.app import create_bff_app
from bff_kit.upstreams import Upstreams
from bff_mobile.clients import Clients, OrdersClient, UsersClient
from bff_mobile.routes import MobileController
from bff_mobile.settings import Settings, load_settings
from service_defaults.resources import Resources
from service_defaults.telemetry import create_telemetry


@asynccontextmanager
async def open_clients(upstreams: Upstreams) -> AsyncIterator[Clients]:
    async with upstreams.open_clients() as http:
        yield Clients(users=UsersClient(http["users"]), orders=OrdersClient(http["orders"]))


def create_app(
    settings: Settings | None = None, *, transport: httpx.AsyncBaseTransport | None = None
) -> Litestar:
    """`transport` stands in for the network under the services' clients, for tests."""
    settings = settings or load_settings(os.environ)
    upstreams = Upstreams(settings, network=transport, telemetry=create_telemetry("bff_mobile"))
    upstreams.add("users", settings.users_url)
    upstreams.add("orders", settings.orders_url)
    clients = Resources(lambda: open_clients(upstreams))
    return create_bff_app(
        title="Frontdoor mobile BFF",
        upstreams=upstreams,
        resources=clients,
        route_handlers=[MobileController],
        dependencies={
            "users": clients.provide(lambda c: c.users),
            "orders": clients.provide(lambda c: c.orders),
        },
        settings=settings,
    )

"""`create_app` for the web BFF: its API under /api/web, and the web client's files."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from litestar import Litestar, MediaType, Response, get
from litestar.static_files import create_static_files_router

from bff_kit.app import create_bff_app
from bff_kit.upstreams import Upstreams
from bff_web.clients import Clients, OrdersClient, UsersClient
from bff_web.routes import WebController
from bff_web.settings import Settings, load_settings
from service_defaults.resources import Resources
from service_defaults.telemetry import create_telemetry

STATIC = Path(__file__).with_name("static")


@get("/", include_in_schema=False, sync_to_thread=False)
def index() -> Response[bytes]:
    # no-cache: the page is tiny and must pick up a new version at once.
    return Response(
        (STATIC / "index.html").read_bytes(),
        media_type=MediaType.HTML,
        headers={"Cache-Control": "no-cache"},
    )


@asynccontextmanager
async def open_clients(upstreams: Upstreams) -> AsyncIterator[Clients]:
    async with upstreams.open_clients() as http:
        yield Clients(users=UsersClient(http["users"]), orders=OrdersClient(http["orders"]))


def create_app(
    settings: Settings | None = None, *, transport: httpx.AsyncBaseTransport | None = None
) -> Litestar:
    """`transport` stands in for the network under the services' clients, for tests."""
    settings = settings or load_settings(os.environ)
    upstreams = Upstreams(settings, network=transport, telemetry=create_telemetry("bff_web"))
    upstreams.add("users", settings.users_url)
    upstreams.add("orders", settings.orders_url)
    clients = Resources(lambda: open_clients(upstreams))
    return create_bff_app(
        title="Frontdoor web BFF",
        upstreams=upstreams,
        resources=clients,
        route_handlers=[
            WebController,
            index,
            create_static_files_router(path="/app", directories=[STATIC], include_in_schema=False),
        ],
        dependencies={
            "users": clients.provide(lambda c: c.users),
            "orders": clients.provide(lambda c: c.orders),
        },
        settings=settings,
    )

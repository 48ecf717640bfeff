"""`create_app` for the web BFF: its API under /api/web, and the web client's files."""

from __future__ import annotations

import os
from pathlib import Path

from litestar import Litestar, MediaType, Response, get
from litestar.static_files import create_static_files_router

from bff_web.clients import OrdersClient, UsersClient
from bff_web.routes import WebController
from bff_web.settings import Settings, load_settings
from service_defaults.aggregator import create_aggregator_app

STATIC = Path(__file__).with_name("static")


@get("/", include_in_schema=False, sync_to_thread=False)
def index() -> Response[bytes]:
    # no-cache: the page is tiny and must pick up a new version at once.
    return Response(
        (STATIC / "index.html").read_bytes(),
        media_type=MediaType.HTML,
        headers={"Cache-Control": "no-cache"},
    )


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or load_settings(os.environ)
    return create_aggregator_app(
        title="Frontdoor web BFF",
        settings=settings,
        route_handlers=[
            WebController,
            index,
            create_static_files_router(path="/app", directories=[STATIC], include_in_schema=False),
        ],
        upstreams={
            "users": (settings.users_url, UsersClient),
            "orders": (settings.orders_url, OrdersClient),
        },
    )
